/* The pc platform's conformance kernel, in the spirit of kvm-unit-tests'
   hyperv_synic, hyperv_connections and hyperv_stimer, booted as a
   multiboot kernel on 1, 2 or 4 VPs. Every VP:
     - takes a deliberate #UD (ud2) through its IDT;
     - makes a SINT route to itself with the test device, and asserts the
       route of the next VP, then waits for its own SINT;
     - sends a fixed IPI to the next VP, whose handler (like kvm-unit-tests'
       on_cpu) enables interrupts and takes a SINT nested inside it;
     - makes a message connection to itself, posts to it and checks the echo;
     - makes an event connection to itself, signals it and checks the flag;
     - runs a direct-mode periodic timer before its SynIC is enabled
       (SCONTROL 0, as hyperv_stimer's direct mode), then a periodic and a
       one-shot timer in message mode.
   VP 0 also checks the command line, CPUID, and that invalid test-device
   commands are ignored. The exit status is (failures << 1) | 1. */
#include "pc/pc_runtime.h"
#include "runtime/synic.h"

#define ROUTE_SINT 5
#define MSG_SINT 6
#define EVT_SINT 7
#define TIMER_SINT 2
#define ROUTE_VECTOR 0xB5
#define MSG_VECTOR 0xB6
#define EVT_VECTOR 0xB7
#define TIMER_VECTOR 0xB2
#define MSG_CONN(vp) (0x10 + (vp))
#define EVT_CONN(vp) (0x20 + (vp))
#define MSG_TYPE 0x1234
#define HV_MSR_TIME_REF_COUNT 0x40000020
#define HV_MSR_STIMER_CONFIG(n) (0x400000B0 + 2 * (n))
#define HV_MSR_STIMER_COUNT(n) (0x400000B1 + 2 * (n))
#define PERIODIC_FIRES 5
#define IPI_VECTOR 0x30
#define DIRECT_VECTOR 0xF3

static volatile u32 handlers_set, ready, routed, finished;
static volatile u32 route_hits[MAX_VPS];
static volatile u32 msg_hits[MAX_VPS];
static volatile u32 msg_ok[MAX_VPS];
static volatile u32 evt_flags[MAX_VPS];
static volatile u32 evt_hits[MAX_VPS];
static volatile u32 timer_fires[MAX_VPS][2];

static volatile u32 ud_hits[MAX_VPS];
static volatile u32 ipi_hits[MAX_VPS];
static volatile u32 direct_fires[MAX_VPS];
static volatile u32 nested_ok[MAX_VPS];

static u32 self(void) { return (u32)rdmsr(HV_MSR_VP_INDEX); }

static void on_ud(struct interrupt_frame *frame) {
  ud_hits[self()]++;
  frame->rip += 2; /* past the ud2 */
}

static void on_route(struct interrupt_frame *frame) {
  (void)frame;
  route_hits[self()]++;
}

static void on_direct_timer(struct interrupt_frame *frame) {
  (void)frame;
  direct_fires[self()]++;
  apic_eoi();
}

/* In service: IPI_VECTOR (class 3). The SINT's vector (class 0xB) must
   still be delivered once interrupts are on. */
static void on_ipi(struct interrupt_frame *frame) {
  (void)frame;
  u32 vp = self();
  u32 before = route_hits[vp];
  testdev(0, TESTDEV_SET_SINT, vp, ROUTE_SINT);
  __asm__ volatile("sti" ::: "memory");
  for (u32 spins = 0; route_hits[vp] == before && spins < 10000000u; ++spins) cpu_relax();
  __asm__ volatile("cli" ::: "memory");
  nested_ok[vp] = route_hits[vp] == before + 1;
  ipi_hits[vp]++;
  apic_eoi();
}

static void on_message(struct interrupt_frame *frame) {
  (void)frame;
  u32 vp = self();
  struct hv_message m;
  if (synic_take_message(vp, MSG_SINT, &m)) {
    msg_ok[vp] = m.message_type == MSG_TYPE && m.payload_size == 8 && ((u32 *)m.payload)[0] == 0xC0DE0000u + vp;
    msg_hits[vp]++;
  }
}

static void on_flag(u32 vp, u32 flag) { evt_flags[vp] |= 1u << (flag & 31); }

static void on_event(struct interrupt_frame *frame) {
  (void)frame;
  u32 vp = self();
  synic_scan_events(vp, EVT_SINT, on_flag);
  evt_hits[vp]++;
  apic_eoi(); /* not auto-EOI: the APIC EOI acts as EOM */
}

static void on_timer(struct interrupt_frame *frame) {
  (void)frame;
  u32 vp = self();
  struct hv_message m;
  while (synic_take_message(vp, TIMER_SINT, &m)) {
    const struct hv_timer_message_payload *p = (const void *)m.payload;
    if (m.message_type == HV_MESSAGE_TIMER_EXPIRED && p->timer_index < 2) timer_fires[vp][p->timer_index]++;
  }
}

static void check_platform(u32 vp_count) {
  const struct multiboot_info *mbi = pc_boot_info();
  CHECK(pc_cmdline_has("pc-test-args"));
  CHECK(mbi->mem_upper >= 31 * 1024);
  check_eq(fw_cfg_u16(0x05), vp_count, "fw_cfg CPU count");
  u32 a, b, c, d;
  cpuid(0x40000000, &a, &b, &c, &d);
  CHECK(a >= 0x40000005);
  cpuid(1, &a, &b, &c, &d);
  CHECK((c & (1u << 21)) == 0); /* x2APIC not advertised */
  CHECK(hv_detect());
  /* Invalid test-device commands are logged and ignored. */
  testdev(0, 9, 0, 0);                    /* unknown control */
  testdev(0, TESTDEV_ROUTE_DESTROY, 0, 15); /* no such route */
  testdev(0, TESTDEV_ROUTE_CREATE, 200, 0); /* no such VP */
  testdev(0, TESTDEV_MSG_CONN_DESTROY, 0, 0); /* no such connection */
}

/* A page at the top of the linear address space (where kvm-unit-tests puts
   its interrupt thunks): data through it, and an IDT gate to a thunk there
   that jumps back (rel32 wrapping around 2^64) to the runtime's stub. */
#define HIGH_VA 0xFFFFFFFFFFFFE000ul
extern u64 pml4[512], high_pdpt[512], high_pd[512], high_pt[512];
static u8 high_backing[PAGE_SIZE] PAGE_ALIGNED;
static volatile u32 high_hits;
static void on_high(struct interrupt_frame *frame) {
  (void)frame;
  high_hits++;
}

static void check_high_mapping(void) {
  pml4[511] = (u64)high_pdpt | 3;
  high_pdpt[511] = (u64)high_pd | 3;
  high_pd[511] = (u64)high_pt | 3;
  high_pt[510] = (u64)high_backing | 3;
  __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
  *(volatile u32 *)(HIGH_VA + 0x100) = 0x5EED;
  check_eq(((volatile u32 *)high_backing)[0x40], 0x5EED, "a store through the high page lands in its RAM");
  volatile u8 *thunk = (volatile u8 *)HIGH_VA;
  u32 rel = (u32)(interrupt_stub(0x40) - (HIGH_VA + 5));
  thunk[0] = 0xE9;
  for (int i = 0; i < 4; ++i) thunk[1 + i] = (u8)(rel >> (8 * i));
  set_handler(0x40, on_high);
  set_idt_gate(0x40, HIGH_VA);
  __asm__ volatile("int $0x40" ::: "memory");
  check_eq(high_hits, 1, "an IDT gate to a thunk in the high page");
}

static u64 ref_time(void) { return rdmsr(HV_MSR_TIME_REF_COUNT); }

static void wait_for(volatile u32 *counter, u32 target, const char *what) {
  u64 deadline = ref_time() + 10000000ul; /* 1 s of reference time */
  while (*counter < target) {
    if (ref_time() > deadline) {
      printf("FAIL: vp%u timed out waiting for %s (%u of %u)\n", self(), what, *counter, target);
      atomic_inc(&failures);
      return;
    }
    wait_for_interrupt();
  }
}

int guest_main(u32 vp, u32 vp_count) {
  if (vp == 0) {
    printf("pc_synic: %u VPs\n", vp_count);
    set_handler(ROUTE_VECTOR, on_route);
    set_handler(MSG_VECTOR, on_message);
    set_handler(EVT_VECTOR, on_event);
    set_handler(TIMER_VECTOR, on_timer);
    set_handler(6, on_ud);
    set_handler(IPI_VECTOR, on_ipi);
    set_handler(DIRECT_VECTOR, on_direct_timer);
    check_platform(vp_count);
    check_high_mapping();
    handlers_set = 1;
  }
  while (!handlers_set) cpu_relax();
  __asm__ volatile("ud2");
  if (ud_hits[vp] != 1) {
    printf("FAIL: vp%u ud2 did not reach the #UD handler\n", vp);
    atomic_inc(&failures);
  }
  apic_enable();
  /* Direct mode: a plain APIC vector, no SynIC pages, SCONTROL still 0. */
  wrmsr(HV_MSR_STIMER_COUNT(2), 10000);
  wrmsr(HV_MSR_STIMER_CONFIG(2), STIMER_ENABLE | STIMER_PERIODIC | STIMER_DIRECT | STIMER_VECTOR(DIRECT_VECTOR));
  wait_for(&direct_fires[vp], 3, "direct-mode timer expiries");
  wrmsr(HV_MSR_STIMER_CONFIG(2), 0);
  synic_init(vp, ROUTE_SINT, ROUTE_VECTOR, 1);
  synic_set_sint(MSG_SINT, MSG_VECTOR, 1);
  synic_set_sint(EVT_SINT, EVT_VECTOR, 0);
  synic_set_sint(TIMER_SINT, TIMER_VECTOR, 1);
  testdev(0, TESTDEV_ROUTE_CREATE, vp, ROUTE_SINT);
  atomic_inc(&ready);
  wait_counter(&ready, vp_count);

  /* SINT routes: assert the next VP's, take our own. */
  testdev(0, TESTDEV_SET_SINT, (vp + 1) % vp_count, ROUTE_SINT);
  wait_for(&route_hits[vp], 1, "the SINT route");
  /* An IPI to the next VP; ours comes from the previous one. Only once
     every route interrupt is in: two requests of one vector before it is
     taken are one interrupt. */
  atomic_inc(&routed);
  wait_counter(&routed, vp_count);
  pc_send_ipi((vp + 1) % vp_count, IPI_VECTOR);
  wait_for(&ipi_hits[vp], 1, "the IPI");
  testdev(0, TESTDEV_ROUTE_DESTROY, vp, ROUTE_SINT);

  /* Message connection: the post comes back on MSG_SINT. */
  testdev(MSG_CONN(vp), TESTDEV_MSG_CONN_CREATE, vp, MSG_SINT);
  u32 payload[2] = {0xC0DE0000u + vp, vp};
  u16 status = hv_post_message(vp, MSG_CONN(vp), MSG_TYPE, payload, sizeof payload);
  if (status != HV_STATUS_SUCCESS) printf("FAIL: vp%u post to the message connection: status %u\n", vp, status);
  wait_for(&msg_hits[vp], 1, "the echoed message");
  testdev(MSG_CONN(vp), TESTDEV_MSG_CONN_DESTROY, 0, 0);
  u16 after = hv_post_message(vp, MSG_CONN(vp), MSG_TYPE, payload, sizeof payload);

  /* Event connection: the signal sets flag MSG_CONN(vp) on EVT_SINT. */
  testdev(EVT_CONN(vp), TESTDEV_EVT_CONN_CREATE, vp, EVT_SINT);
  u16 signal = hv_signal_event_fast(EVT_CONN(vp), 0);
  wait_for(&evt_hits[vp], 1, "the event flag");
  testdev(EVT_CONN(vp), TESTDEV_EVT_CONN_DESTROY, 0, 0);
  u16 signal_after = hv_signal_event_fast(EVT_CONN(vp), 0);

  /* Synthetic timers, message mode: timer 0 periodic (1 ms), timer 1
     one-shot at an absolute time 2 ms ahead. */
  wrmsr(HV_MSR_STIMER_COUNT(0), 10000);
  wrmsr(HV_MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(TIMER_SINT));
  wait_for(&timer_fires[vp][0], PERIODIC_FIRES, "periodic timer expiries");
  wrmsr(HV_MSR_STIMER_CONFIG(0), 0);
  wrmsr(HV_MSR_STIMER_COUNT(1), ref_time() + 20000);
  wrmsr(HV_MSR_STIMER_CONFIG(1), STIMER_ENABLE | STIMER_SINT(TIMER_SINT));
  wait_for(&timer_fires[vp][1], 1, "the one-shot timer");
  u64 quiet_until = ref_time() + 50000;
  while (ref_time() < quiet_until) cpu_relax();

  int ok = status == HV_STATUS_SUCCESS && msg_ok[vp] && after == HV_STATUS_INVALID_CONNECTION_ID &&
           signal == HV_STATUS_SUCCESS && evt_flags[vp] == 1u << (EVT_CONN(vp) & 31) &&
           signal_after == HV_STATUS_INVALID_CONNECTION_ID && route_hits[vp] == 2 && ipi_hits[vp] == 1 &&
           nested_ok[vp] && direct_fires[vp] >= 3 && timer_fires[vp][1] == 1 &&
           (rdmsr(HV_MSR_STIMER_CONFIG(1)) & STIMER_ENABLE) == 0;
  printf("%s: vp%u route %u, IPI %u (nested SINT %u), echo %u (after destroy %u), event flags 0x%x (after "
         "destroy %u), timers direct %u, periodic %u, one-shot %u\n",
         ok ? "PASS" : "FAIL", vp, route_hits[vp], ipi_hits[vp], nested_ok[vp], msg_ok[vp], after, evt_flags[vp],
         signal_after, direct_fires[vp], timer_fires[vp][0], timer_fires[vp][1]);
  if (!ok) atomic_inc(&failures);
  atomic_inc(&finished);
  if (vp != 0) return 0;
  wait_counter(&finished, vp_count);
  u32 ud_total = 0;
  for (u32 v = 0; v < vp_count; ++v) ud_total += ud_hits[v];
  check_eq(ud_total, vp_count, "one #UD per VP");
  printf("pc_synic: %s\n", failures ? "FAILED" : "done");
  return 0;
}
