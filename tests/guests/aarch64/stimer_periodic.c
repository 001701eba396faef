/* Guest (aarch64): periodic synthetic timers over one virtual second,
   through the synthetic register names (HvSetVpRegisters over SMCCC).
   STIMER0 is a non-lazy periodic timer in message mode (TimerExpired to
   SINT3, PPI SINT_INTID), STIMER1 a lazy periodic timer in direct mode
   (its vector is PPI DIRECT_INTID), both with a 1 ms period, armed at one
   reference time `start`.
   Phase 1 sleeps (WFI) until the reference time reaches start + 1 s: the
   runner jumps its virtual clock from deadline to deadline, so every
   expiry arrives at exactly start + n * 1 ms and each timer counts exactly
   1000 (nothing is missed, so the lazy and non-lazy rules agree).
   Phase 2 re-arms both and spins with IRQs unmasked for 100 ms: the
   runner ends each CPU slice at the next deadline, so a busy guest also
   sees every expiry on time: exactly 100 each.
   After each phase a one-shot direct timer armed 1 tick ahead is a
   barrier: when it fires, every earlier request has been taken. */
#include "runtime/synic.h"

#define HV_REG_TIME_REF_COUNT 0x00090004
#define HV_REG_STIMER_CONFIG(n) (0x000B0000 + 2 * (n))
#define HV_REG_STIMER_COUNT(n) (0x000B0001 + 2 * (n))

#define TIMER_SINT 3
#define DIRECT_INTID 21
#define BARRIER_INTID 22
#define PERIOD 10000ul        /* 1 ms */
#define SECOND 10000000ul     /* 1 s */
#define BUSY_WINDOW 1000000ul /* 100 ms */

static volatile u32 messages, direct_irqs, barrier_irqs;
static volatile u32 bad_messages, spacing_errors, late_messages, register_errors;
static volatile u64 expected_expiration;

static u64 get_register(u32 name) {
  u64 v = 0;
  if (hv_get_vp_register(name, &v) != HV_STATUS_SUCCESS) register_errors++;
  return v;
}

static void set_register(u32 name, u64 value) {
  if (hv_set_vp_register(name, value) != HV_STATUS_SUCCESS) register_errors++;
}

static u64 now(void) { return get_register(HV_REG_TIME_REF_COUNT); }

static void on_timer_message(u32 intid) {
  (void)intid;
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

static void on_direct(u32 intid) {
  (void)intid;
  direct_irqs++;
}

static void on_barrier(u32 intid) {
  (void)intid;
  barrier_irqs++;
}

static void stop_timers(void) {
  set_register(HV_REG_STIMER_CONFIG(0), 0);
  set_register(HV_REG_STIMER_CONFIG(1), 0);
}

/* Arms both timers at one reference time and returns it. Time moves only
   between CPU slices; if a slice ended between the writes, try again. */
static u64 arm_timers(void) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    u64 start = now();
    set_register(HV_REG_STIMER_COUNT(0), PERIOD);
    set_register(HV_REG_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(TIMER_SINT));
    set_register(HV_REG_STIMER_COUNT(1), PERIOD);
    set_register(HV_REG_STIMER_CONFIG(1), STIMER_ENABLE | STIMER_PERIODIC | STIMER_LAZY | STIMER_DIRECT |
                                              STIMER_VECTOR(DIRECT_INTID));
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
  set_register(HV_REG_STIMER_COUNT(2), now() + 1);
  set_register(HV_REG_STIMER_CONFIG(2), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(BARRIER_INTID));
  while (barrier_irqs == before) wait_for_interrupt();
  check_eq(get_register(HV_REG_STIMER_CONFIG(2)) & STIMER_ENABLE, 0, "one-shot timer disabled itself after firing");
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("stimer_periodic: start\n");
  CHECK(hv_detect());
  set_irq_handler(SINT_INTID, on_timer_message);
  set_irq_handler(DIRECT_INTID, on_direct);
  set_irq_handler(BARRIER_INTID, on_barrier);
  gic_enable_ppi(DIRECT_INTID, 0x80);
  gic_enable_ppi(BARRIER_INTID, 0x80);
  check_eq((u64)synic_init(vp, TIMER_SINT, SINT_INTID), 0, "SynIC started");

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

  /* Phase 2: busy, IRQs unmasked, never waiting. */
  u32 messages_before = messages, direct_before = direct_irqs;
  start = arm_timers();
  __asm__ volatile("msr daifclr, #2" ::: "memory");
  while ((t = now()) - start < BUSY_WINDOW) cpu_relax();
  __asm__ volatile("msr daifset, #2" ::: "memory");
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
