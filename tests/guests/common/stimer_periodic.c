/* Guest (x86-64 and aarch64): periodic synthetic timers over one virtual
   second. STIMER0 is a non-lazy periodic timer in message mode
   (TimerExpired to SINT3), STIMER1 a lazy periodic timer in direct mode
   (x86-64: APIC vector DIRECT_IRQ; aarch64: PPI DIRECT_IRQ), both with a
   1 ms period, armed at one reference time `start`. x86-64 reaches the
   timers through their MSRs, aarch64 through the synthetic register names
   (HvSet/GetVpRegisters over SMCCC).
   Phase 1 sleeps (HLT / WFI) until the reference time reaches start + 1 s:
   the runner jumps its virtual clock from deadline to deadline, so every
   expiry arrives at exactly start + n * 1 ms and each timer counts exactly
   1000 (nothing is missed, so the lazy and non-lazy rules agree).
   Phase 2 re-arms both and spins with interrupts on for 100 ms: the
   runner ends each CPU slice at the next deadline, so a busy guest also
   sees every expiry on time: exactly 100 each.
   After each phase a one-shot direct timer armed 1 tick ahead is a
   barrier: when it fires, every earlier request has been taken. */
#include "runtime/synic.h"

#define TIMER_SINT 3
#define PERIOD 10000ul        /* 1 ms */
#define SECOND 10000000ul     /* 1 s */
#define BUSY_WINDOW 1000000ul /* 100 ms */

static volatile u32 register_errors;

/* ---- what differs between the architectures ---- */
#if defined(__x86_64__)
#define TIME_REF_COUNT 0x40000020 /* MSRs */
#define STIMER_CONFIG(n) (0x400000B0 + 2 * (n))
#define STIMER_COUNT(n) (0x400000B1 + 2 * (n))
#define CPUID_STIMERS (1u << 3)        /* 0x40000003 EAX: synthetic timer MSRs */
#define CPUID_DIRECT_TIMERS (1u << 19) /* 0x40000003 EDX: direct mode */
#define SINT_IRQ 0xF4
#define DIRECT_IRQ 0xE0
#define BARRIER_IRQ 0xE1
#define IRQ_HANDLER(name) static void name(struct interrupt_frame *frame)
#define IRQ_ARG frame
static u64 get_register(u32 msr) { return rdmsr(msr); }
static void set_register(u32 msr, u64 value) { wrmsr(msr, value); }
static void irq_done(void) { apic_eoi(); }
static void irqs_on(void) { sti(); }
static void irqs_off(void) { cli(); }
#else
#define TIME_REF_COUNT 0x00090004 /* synthetic register names */
#define STIMER_CONFIG(n) (0x000B0000 + 2 * (n))
#define STIMER_COUNT(n) (0x000B0001 + 2 * (n))
#define SINT_IRQ SINT_INTID
#define DIRECT_IRQ 21
#define BARRIER_IRQ 22
#define IRQ_HANDLER(name) static void name(u32 intid)
#define IRQ_ARG intid
static u64 get_register(u32 name) {
  u64 v = 0;
  if (hv_get_vp_register(name, &v) != HV_STATUS_SUCCESS) register_errors++;
  return v;
}
static void set_register(u32 name, u64 value) {
  if (hv_set_vp_register(name, value) != HV_STATUS_SUCCESS) register_errors++;
}
static void irq_done(void) {} /* the runtime's IRQ path writes EOIR */
static void irqs_on(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static void irqs_off(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
#endif

static void start_synic(u32 vp);

static volatile u32 messages, direct_irqs, barrier_irqs;
static volatile u32 bad_messages, spacing_errors, late_messages;
static volatile u64 expected_expiration;

static u64 now(void) { return get_register(TIME_REF_COUNT); }

IRQ_HANDLER(on_timer_message) {
  (void)IRQ_ARG;
  struct hv_message m;
  while (synic_take_message(0, TIMER_SINT, &m)) {
    const struct hv_timer_message_payload *p = (const struct hv_timer_message_payload *)m.payload;
    if (m.message_type != HV_MESSAGE_TIMER_EXPIRED || m.payload_size != sizeof *p || p->timer_index != 0) {
      bad_messages++;
      continue;
    }
    /* The n-th expiry is due at start + n * period, and is handed over then. */
    if (p->expiration_time != expected_expiration) spacing_errors++;
    if (p->delivery_time != p->expiration_time) late_messages++;
    expected_expiration += PERIOD;
    messages++;
  }
  /* No EOI: on x86-64 the SINT is auto-EOI. */
}

IRQ_HANDLER(on_direct) {
  (void)IRQ_ARG;
  direct_irqs++;
  irq_done();
}

IRQ_HANDLER(on_barrier) {
  (void)IRQ_ARG;
  barrier_irqs++;
  irq_done();
}

static void stop_timers(void) {
  set_register(STIMER_CONFIG(0), 0);
  set_register(STIMER_CONFIG(1), 0);
}

/* Arms both timers at one reference time and returns it. Time moves only
   between CPU slices; if a slice ended between the writes, try again. */
static u64 arm_timers(void) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    u64 start = now();
    set_register(STIMER_COUNT(0), PERIOD);
    set_register(STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(TIMER_SINT));
    set_register(STIMER_COUNT(1), PERIOD);
    set_register(STIMER_CONFIG(1), STIMER_ENABLE | STIMER_PERIODIC | STIMER_LAZY | STIMER_DIRECT |
                                              STIMER_VECTOR(DIRECT_IRQ));
    if (now() == start) {
      expected_expiration = start + PERIOD;
      return start;
    }
    stop_timers();
  }
  printf("FAIL: could not arm both timers at one time\n");
  guest_exit(3);
}

/* One-shot direct timer due 1 tick from now (COUNT is an absolute time). */
static void wait_for_earlier_expiries(void) {
  u32 before = barrier_irqs;
  set_register(STIMER_COUNT(2), now() + 1);
  set_register(STIMER_CONFIG(2), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(BARRIER_IRQ));
  while (barrier_irqs == before) wait_for_interrupt();
  check_eq(get_register(STIMER_CONFIG(2)) & STIMER_ENABLE, 0, "one-shot timer disabled itself after firing");
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("stimer_periodic: start\n");
  CHECK(hv_detect());
  start_synic(vp);

  /* Phase 1: asleep between interrupts. */
  u64 start = arm_timers();
  u64 t;
  while ((t = now()) - start < SECOND) wait_for_interrupt();
  stop_timers();
  printf("stimer_periodic: sleeping: %u messages, %u direct interrupts in %lu x 100 ns\n", messages, direct_irqs,
         t - start);
  /* Time follows executed blocks: the handlers of the last expiry ran
     before the loop looked at the clock, within the same period. */
  CHECK(t - start >= SECOND && t - start < SECOND + PERIOD);
  wait_for_earlier_expiries();
  check_eq(messages, 1000, "message-mode timer: 1000 expiries in one second");
  check_eq(direct_irqs, 1000, "direct-mode timer: 1000 interrupts in one second");

  /* Phase 2: busy, interrupts on, never waiting. */
  u32 messages_before = messages, direct_before = direct_irqs;
  start = arm_timers();
  irqs_on();
  while ((t = now()) - start < BUSY_WINDOW) cpu_relax();
  irqs_off();
  stop_timers();
  wait_for_earlier_expiries();
  printf("stimer_periodic: busy: %u messages, %u direct interrupts in %lu x 100 ns\n", messages - messages_before,
         direct_irqs - direct_before, t - start);
  check_eq(messages - messages_before, 100, "busy guest: 100 expiries in 100 ms (message mode)");
  check_eq(direct_irqs - direct_before, 100, "busy guest: 100 interrupts in 100 ms (direct mode)");
  CHECK(t - start >= BUSY_WINDOW && t - start < BUSY_WINDOW + PERIOD);

  check_eq(register_errors, 0, "every timer and reference-time register access succeeded");
  check_eq(bad_messages, 0, "every message is STIMER0's TimerExpired");
  check_eq(spacing_errors, 0, "expiry n is due at exactly start + n * 1 ms");
  check_eq(late_messages, 0, "every expiry is handed over at its due time");
  printf("stimer_periodic: %s\n", failures ? "FAILED" : "done");
  return 0;
}

/* Handlers in place, the SynIC started with TIMER_SINT on SINT_IRQ. */
static void start_synic(u32 vp) {
#if defined(__x86_64__)
  u32 a, b, c, d;
  cpuid(0x40000003, &a, &b, &c, &d);
  check_eq(a & CPUID_STIMERS, CPUID_STIMERS, "CPUID advertises synthetic timers");
  check_eq(d & CPUID_DIRECT_TIMERS, CPUID_DIRECT_TIMERS, "CPUID advertises direct-mode timers");
  apic_enable();
  set_handler(SINT_IRQ, on_timer_message);
  set_handler(DIRECT_IRQ, on_direct);
  set_handler(BARRIER_IRQ, on_barrier);
  check_eq((u64)synic_init(vp, TIMER_SINT, SINT_IRQ, 1), 0, "SynIC started");
#else
  set_irq_handler(SINT_IRQ, on_timer_message);
  set_irq_handler(DIRECT_IRQ, on_direct);
  set_irq_handler(BARRIER_IRQ, on_barrier);
  gic_enable_ppi(DIRECT_IRQ, 0x80);
  gic_enable_ppi(BARRIER_IRQ, 0x80);
  check_eq((u64)synic_init(vp, TIMER_SINT, SINT_IRQ), 0, "SynIC started");
#endif
}
