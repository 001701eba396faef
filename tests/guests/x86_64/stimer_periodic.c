/* Guest: periodic synthetic timers over one virtual second. STIMER0 is a
   non-lazy periodic timer in message mode (TimerExpired to SINT3), STIMER1
   a lazy periodic timer in direct mode (APIC vector DIRECT_VECTOR), both
   with a 1 ms period, armed at the same reference time `start`.
   Phase 1 sleeps (STI; HLT) until TIME_REF_COUNT reaches start + 1 s: the
   runner jumps its virtual clock from deadline to deadline, so every
   expiry arrives at exactly start + n * 1 ms and each timer counts exactly
   1000 (nothing is missed, so the lazy and non-lazy rules agree).
   Phase 2 re-arms both and spins with interrupts on for 100 ms: the
   runner ends each CPU slice at the next deadline, so a busy guest also
   sees every expiry on time: exactly 100 each.
   After each phase a one-shot direct timer armed 1 tick ahead is a
   barrier: when it fires, every earlier request has been taken. */
#include "runtime/synic.h"

#define HV_MSR_TIME_REF_COUNT 0x40000020
#define HV_MSR_STIMER_CONFIG(n) (0x400000B0 + 2 * (n))
#define HV_MSR_STIMER_COUNT(n) (0x400000B1 + 2 * (n))
#define CPUID_STIMERS (1u << 3)        /* 0x40000003 EAX: synthetic timer MSRs */
#define CPUID_DIRECT_TIMERS (1u << 19) /* 0x40000003 EDX: direct mode */

#define TIMER_SINT 3
#define SINT_VECTOR 0xF4
#define DIRECT_VECTOR 0xE0
#define BARRIER_VECTOR 0xE1
#define PERIOD 10000ul     /* 1 ms */
#define SECOND 10000000ul  /* 1 s */
#define BUSY_WINDOW 1000000ul /* 100 ms */

static volatile u32 messages, direct_irqs, barrier_irqs;
static volatile u32 bad_messages, spacing_errors, late_messages;
static volatile u64 expected_expiration;

static u64 now(void) { return rdmsr(HV_MSR_TIME_REF_COUNT); }

static void on_timer_message(struct interrupt_frame *frame) {
  (void)frame;
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
}

static void on_direct(struct interrupt_frame *frame) {
  (void)frame;
  direct_irqs++;
  apic_eoi();
}

static void on_barrier(struct interrupt_frame *frame) {
  (void)frame;
  barrier_irqs++;
  apic_eoi();
}

static void stop_timers(void) {
  wrmsr(HV_MSR_STIMER_CONFIG(0), 0);
  wrmsr(HV_MSR_STIMER_CONFIG(1), 0);
}

/* Arms both timers at one reference time and returns it. Time moves only
   between CPU slices; if a slice ended between the two writes, try again. */
static u64 arm_timers(void) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    u64 start = now();
    wrmsr(HV_MSR_STIMER_COUNT(0), PERIOD);
    wrmsr(HV_MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(TIMER_SINT));
    wrmsr(HV_MSR_STIMER_COUNT(1), PERIOD);
    wrmsr(HV_MSR_STIMER_CONFIG(1), STIMER_ENABLE | STIMER_PERIODIC | STIMER_LAZY | STIMER_DIRECT |
                                       STIMER_VECTOR(DIRECT_VECTOR));
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
  wrmsr(HV_MSR_STIMER_COUNT(2), now() + 1);
  wrmsr(HV_MSR_STIMER_CONFIG(2), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(BARRIER_VECTOR));
  while (barrier_irqs == before) wait_for_interrupt();
  check_eq(rdmsr(HV_MSR_STIMER_CONFIG(2)) & STIMER_ENABLE, 0, "one-shot timer disabled itself after firing");
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("stimer_periodic: start\n");
  CHECK(hv_detect());
  u32 a, b, c, d;
  cpuid(0x40000003, &a, &b, &c, &d);
  check_eq(a & CPUID_STIMERS, CPUID_STIMERS, "CPUID advertises synthetic timers");
  check_eq(d & CPUID_DIRECT_TIMERS, CPUID_DIRECT_TIMERS, "CPUID advertises direct-mode timers");
  apic_enable();
  set_handler(SINT_VECTOR, on_timer_message);
  set_handler(DIRECT_VECTOR, on_direct);
  set_handler(BARRIER_VECTOR, on_barrier);
  check_eq((u64)synic_init(vp, TIMER_SINT, SINT_VECTOR, 1), 0, "SynIC started");

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

  /* Phase 2: busy, interrupts on, never halting. */
  u32 messages_before = messages, direct_before = direct_irqs;
  start = arm_timers();
  sti();
  while ((t = now()) - start < BUSY_WINDOW) cpu_relax();
  cli();
  stop_timers();
  wait_for_earlier_expiries();
  printf("stimer_periodic: busy: %u messages, %u direct interrupts in %lu x 100 ns\n", messages - messages_before,
         direct_irqs - direct_before, t - start);
  check_eq(messages - messages_before, 100, "busy guest: 100 expiries in 100 ms (message mode)");
  check_eq(direct_irqs - direct_before, 100, "busy guest: 100 interrupts in 100 ms (direct mode)");
  CHECK(t - start >= BUSY_WINDOW && t - start < BUSY_WINDOW + PERIOD);

  check_eq(bad_messages, 0, "every message is STIMER0's TimerExpired");
  check_eq(spacing_errors, 0, "expiry n is due at exactly start + n * 1 ms");
  check_eq(late_messages, 0, "every expiry is handed over at its due time");
  printf("stimer_periodic: %s\n", failures ? "FAILED" : "done");
  return 0;
}
