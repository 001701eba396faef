/* Guest (x86-64): trapped RDMSR and WRMSR sites leave the guest's other
   state alone. An engine that finishes a site by borrowing ECX and an MSR
   as scratch (letting the instruction run natively on MSR_TSC_AUX, say)
   must put them back before any guest instruction, handler or slice end
   sees them. Over 10^5 rounds, with a periodic direct-mode synthetic timer
   interrupting every 10 us:
   - RCX (with its upper half set: RDMSR and WRMSR use ECX only) is the
     guest's after an RDMSR of TIME_REF_COUNT, a WRMSR of GUEST_OS_ID, and
     the adjacent pairs `rdmsr; rdmsr` and `wrmsr; rdmsr`;
   - the values are right: TIME_REF_COUNT never goes back, GUEST_OS_ID
     reads what was written;
   - TSC_AUX, written each round, reads back (RDMSR, and RDTSCP when
     advertised) after each of them, and the interrupt handler reads the
     value the loop wrote (or the one it is writing). */
#include "runtime/synic.h"

#define HV_MSR_TIME_REF_COUNT 0x40000020u
#define MSR_TSC_AUX 0xC0000103u
#define STIMER_CONFIG0 0x400000B0u
#define STIMER_COUNT0 0x400000B1u
#define CPUID_DIRECT_TIMERS (1u << 19)
#define TIMER_IRQ 0xE0
#define SINT_IRQ 0xF4
#define ROUNDS 100000u
#define PERIOD 100u /* 10 us */
#define RCX_HIGH 0x5C00A7C800000000ul

static volatile u64 aux_pending, aux_current;
static volatile u32 ticks, handler_bad_aux;
static u32 rcx_bad, aux_bad, value_bad;

static void on_timer(struct interrupt_frame *frame) {
  (void)frame;
  const u64 aux = rdmsr(MSR_TSC_AUX);
  if (aux != aux_pending && aux != aux_current) handler_bad_aux++;
  ticks++;
  apic_eoi();
}

static void on_sint(struct interrupt_frame *frame) { (void)frame; }

static void check_rcx(u64 rcx, u32 msr) {
  if (rcx != (RCX_HIGH | msr)) rcx_bad++;
}

static void check_aux(u64 want, int have_rdtscp) {
  if (rdmsr(MSR_TSC_AUX) != want) aux_bad++;
  if (have_rdtscp) {
    u32 lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    if (aux != (u32)want) aux_bad++;
  }
}

/* Leaf 0x80000001 EDX bit 27. */
static int rdtscp_advertised(void) {
  u32 a, b, c, d;
  cpuid(0x80000001, &a, &b, &c, &d);
  return (d >> 27) & 1;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  const int have_rdtscp = rdtscp_advertised();
  u32 a, b, c, d;
  cpuid(0x40000003, &a, &b, &c, &d);
  check_eq(d & CPUID_DIRECT_TIMERS, CPUID_DIRECT_TIMERS, "CPUID advertises direct-mode timers");
  apic_enable();
  set_handler(TIMER_IRQ, on_timer);
  set_handler(SINT_IRQ, on_sint);
  check_eq((u64)synic_init(vp, 3, SINT_IRQ, 1), 0, "SynIC started");
  const u64 os_id = rdmsr(HV_MSR_GUEST_OS_ID);
  wrmsr(STIMER_COUNT0, PERIOD);
  wrmsr(STIMER_CONFIG0, STIMER_ENABLE | STIMER_PERIODIC | STIMER_DIRECT | STIMER_VECTOR(TIMER_IRQ));
  sti();
  u64 last_ref = 0;
  for (u32 i = 0; i < ROUNDS; ++i) {
    const u64 aux = 0xA0000000u + i;
    aux_pending = aux;
    wrmsr(MSR_TSC_AUX, aux);
    aux_current = aux;

    u32 lo, hi;
    u64 rcx = RCX_HIGH | HV_MSR_TIME_REF_COUNT;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi), "+c"(rcx));
    check_rcx(rcx, HV_MSR_TIME_REF_COUNT);
    u64 ref = (u64)hi << 32 | lo;
    if (ref < last_ref) value_bad++;
    last_ref = ref;
    check_aux(aux, have_rdtscp);

    rcx = RCX_HIGH | HV_MSR_GUEST_OS_ID;
    __asm__ volatile("wrmsr" : "+c"(rcx) : "a"((u32)os_id), "d"((u32)(os_id >> 32)) : "memory");
    check_rcx(rcx, HV_MSR_GUEST_OS_ID);
    check_aux(aux, have_rdtscp);

    /* Two sites back to back: the second runs with the guest's ECX. */
    rcx = RCX_HIGH | HV_MSR_TIME_REF_COUNT;
    __asm__ volatile("rdmsr\n\trdmsr" : "=a"(lo), "=d"(hi), "+c"(rcx));
    check_rcx(rcx, HV_MSR_TIME_REF_COUNT);
    ref = (u64)hi << 32 | lo;
    if (ref < last_ref) value_bad++;
    last_ref = ref;

    rcx = RCX_HIGH | HV_MSR_GUEST_OS_ID;
    lo = (u32)os_id;
    hi = (u32)(os_id >> 32);
    __asm__ volatile("wrmsr\n\trdmsr" : "+a"(lo), "+d"(hi), "+c"(rcx) : : "memory");
    check_rcx(rcx, HV_MSR_GUEST_OS_ID);
    if (((u64)hi << 32 | lo) != os_id) value_bad++;
    check_aux(aux, have_rdtscp);
  }
  cli();
  wrmsr(STIMER_CONFIG0, 0);
  check_eq(rcx_bad, 0, "RCX is the guest's after every MSR site");
  check_eq(aux_bad, 0, "TSC_AUX reads what the guest wrote after every MSR site");
  check_eq(value_bad, 0, "TIME_REF_COUNT never goes back; GUEST_OS_ID reads what was written");
  check_eq(handler_bad_aux, 0, "interrupt handlers read the guest's TSC_AUX");
  CHECK(ticks >= 10);
  printf("msr_scratch: rdtscp %s, %u rounds\n", have_rdtscp ? "advertised" : "not advertised", ROUNDS);
  printf("msr_scratch: done\n");
  return 0;
}
