/* The pc platform's synthetic-timer kernel, in the spirit of
   kvm-unit-tests' hyperv_stimer, on 1 to 8 VPs. Every VP, at once:
     1. direct mode, SCONTROL and SIMP never enabled: STIMER0 and STIMER1
        periodic at 1 ms on APIC vectors 0xF3 and 0xF4, 1000 expiries each
        while the VP spins with PAUSE and interrupts on;
     2. message mode: STIMER0 periodic 1 ms on SINT2 (vector 0xF1, EOI)
        and STIMER1 on SINT3 (0xF2, auto-EOI), 1000 expiries each, every
        expiration time on the start + n * period grid;
     3. a one-shot, an auto-enabled one-shot and an auto-enabled periodic
        timer (COUNT written after CONFIG sets the enable bit);
     4. stop drops the queued expiry: with interrupts off, a periodic timer
        fills SINT2's slot and queues one more (message_pending); CONFIG 0
        then EOM: the queued expiry never arrives;
     5. the busy slot right after a stop (kvm-unit-tests' one_shot_busy):
        the guest writes TIMER_EXPIRED into the slot itself, arms a 1 ms
        one-shot and spins until message_pending is set; no expiry may be
        handled meanwhile; after the slot is freed and EOM written the
        one-shot's expiry arrives once;
     6. when CPUID offers the reference TSC page: for one reference
        second, "page time, TIME_REF_COUNT, page time" finds the MSR
        between the two page values and neither goes backwards.
   Every wait has a reference-time limit, so a lost expiry is a FAIL line
   naming the step, not a hang. The command line may set `expiries=N`
   (default 1000) and `limit=S`, the limit per step in reference seconds
   (default 3): under the host clock a direct-mode timer coalesces the
   expiries a long slice missed, so counting takes longer. The exit status
   is (failures << 1) | 1. */
#include "pc/pc_runtime.h"
#include "runtime/synic.h"

#define HV_MSR_TIME_REF_COUNT 0x40000020
#define HV_MSR_REFERENCE_TSC 0x40000021
#define HV_MSR_STIMER_CONFIG(n) (0x400000B0 + 2 * (n))
#define HV_MSR_STIMER_COUNT(n) (0x400000B1 + 2 * (n))
#define HV_CPUID_REFERENCE_TSC (1u << 9)
#define DIRECT_VECTOR0 0xF3
#define DIRECT_VECTOR1 0xF4
#define EOI_SINT 2
#define AUTO_EOI_SINT 3
#define EOI_VECTOR 0xF1
#define AUTO_EOI_VECTOR 0xF2
#define PERIOD 10000ul       /* 1 ms in 100 ns units */
#define SECOND 10000000ul /* reference time units */

static u32 expiries = 1000; /* set by VP 0 before the others start */
static u64 step_limit = 3 * SECOND;

static volatile u32 handlers_set, finished;
static volatile u32 direct_fires[MAX_VPS][2];
/* Message-mode expiries per VP and timer, and grid errors. */
static volatile u32 fires[MAX_VPS][4];
static volatile u64 last_expiration[MAX_VPS][4];
static volatile u32 off_grid[MAX_VPS];
static volatile u32 check_grid[MAX_VPS];

static u32 self(void) { return (u32)rdmsr(HV_MSR_VP_INDEX); }
static u64 ref_time(void) { return rdmsr(HV_MSR_TIME_REF_COUNT); }
static struct hv_message *slot(u32 vp, u32 sint) { return (struct hv_message *)(simp_page[vp] + 256 * sint); }

static void fail(u32 vp, const char *what, u64 got, u64 want) {
  printf("FAIL: vp%u %s (%lu, want %lu)\n", vp, what, got, want);
  atomic_inc(&failures);
}

static void on_direct0(struct interrupt_frame *frame) {
  (void)frame;
  direct_fires[self()][0]++;
  apic_eoi();
}

static void on_direct1(struct interrupt_frame *frame) {
  (void)frame;
  direct_fires[self()][1]++;
  apic_eoi();
}

static void take_timer_messages(u32 vp, u32 sint) {
  struct hv_message m;
  while (synic_take_message(vp, sint, &m)) {
    const struct hv_timer_message_payload *p = (const void *)m.payload;
    if (m.message_type != HV_MESSAGE_TIMER_EXPIRED || p->timer_index >= 4) {
      fail(vp, "unexpected message type", m.message_type, HV_MESSAGE_TIMER_EXPIRED);
      continue;
    }
    u32 n = p->timer_index;
    if (check_grid[vp] && fires[vp][n] > 0 && p->expiration_time != last_expiration[vp][n] + PERIOD) off_grid[vp]++;
    last_expiration[vp][n] = p->expiration_time;
    fires[vp][n]++;
  }
}

static void on_eoi_sint(struct interrupt_frame *frame) {
  (void)frame;
  take_timer_messages(self(), EOI_SINT);
  apic_eoi();
}

static void on_auto_eoi_sint(struct interrupt_frame *frame) {
  (void)frame;
  take_timer_messages(self(), AUTO_EOI_SINT);
}

/* Spins with PAUSE and interrupts on until both counters reach `target`,
   at most step_limit of reference time. 1 when they did. */
static int spin_until(u32 vp, volatile u32 *a, volatile u32 *b, u32 target, const char *what) {
  u64 limit = ref_time() + step_limit;
  sti();
  while (*a < target || (b && *b < target)) {
    if (ref_time() > limit) break;
    cpu_relax();
  }
  cli();
  if (*a >= target && (!b || *b >= target)) return 1;
  printf("FAIL: vp%u timed out waiting for %s (%u and %u of %u)\n", vp, what, *a, b ? *b : target, target);
  atomic_inc(&failures);
  return 0;
}

/* Interrupts on for `ticks` of reference time: what is pending is taken. */
static void settle(u64 ticks) {
  u64 until = ref_time() + ticks;
  sti();
  while (ref_time() < until) cpu_relax();
  cli();
}

static void stop_timer(u32 n) {
  wrmsr(HV_MSR_STIMER_CONFIG(n), 0);
  wrmsr(HV_MSR_STIMER_COUNT(n), 0);
}

static void direct_mode(u32 vp) {
  wrmsr(HV_MSR_STIMER_COUNT(0), PERIOD);
  wrmsr(HV_MSR_STIMER_COUNT(1), PERIOD);
  wrmsr(HV_MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_DIRECT | STIMER_VECTOR(DIRECT_VECTOR0));
  wrmsr(HV_MSR_STIMER_CONFIG(1), STIMER_ENABLE | STIMER_PERIODIC | STIMER_DIRECT | STIMER_VECTOR(DIRECT_VECTOR1));
  spin_until(vp, &direct_fires[vp][0], &direct_fires[vp][1], expiries, "direct-mode periodic expiries");
  stop_timer(0);
  stop_timer(1);
  settle(PERIOD);
}

static void message_mode(u32 vp) {
  check_grid[vp] = 1;
  wrmsr(HV_MSR_STIMER_COUNT(0), PERIOD);
  wrmsr(HV_MSR_STIMER_COUNT(1), PERIOD);
  wrmsr(HV_MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(EOI_SINT));
  wrmsr(HV_MSR_STIMER_CONFIG(1), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(AUTO_EOI_SINT));
  spin_until(vp, &fires[vp][0], &fires[vp][1], expiries, "message-mode periodic expiries");
  stop_timer(0);
  stop_timer(1);
  settle(PERIOD);
  check_grid[vp] = 0;
  if (off_grid[vp]) fail(vp, "periodic expirations off the start + n * period grid", off_grid[vp], 0);
}

static void one_shots(u32 vp) {
  /* Plain one-shot at an absolute time 1 ms ahead. */
  u32 before = fires[vp][2];
  wrmsr(HV_MSR_STIMER_COUNT(2), ref_time() + PERIOD);
  wrmsr(HV_MSR_STIMER_CONFIG(2), STIMER_ENABLE | STIMER_SINT(EOI_SINT));
  if (spin_until(vp, &fires[vp][2], 0, before + 1, "the one-shot")) {
    settle(3 * PERIOD);
    if (fires[vp][2] != before + 1) fail(vp, "one-shot expiries", fires[vp][2] - before, 1);
    if (rdmsr(HV_MSR_STIMER_CONFIG(2)) & STIMER_ENABLE) fail(vp, "one-shot still enabled after firing", 1, 0);
  }
  /* Auto-enable: CONFIG without enable, then COUNT sets it. */
  before = fires[vp][3];
  wrmsr(HV_MSR_STIMER_CONFIG(3), STIMER_AUTO_ENABLE | STIMER_SINT(AUTO_EOI_SINT));
  if (rdmsr(HV_MSR_STIMER_CONFIG(3)) & STIMER_ENABLE) fail(vp, "auto-enable set enable before COUNT", 1, 0);
  /* Far enough ahead that no other VP's slice can pass it before the
     read-back (reference time moves by whole slices). */
  wrmsr(HV_MSR_STIMER_COUNT(3), ref_time() + 200 * PERIOD);
  if (!(rdmsr(HV_MSR_STIMER_CONFIG(3)) & STIMER_ENABLE)) fail(vp, "COUNT did not auto-enable the one-shot", 0, 1);
  spin_until(vp, &fires[vp][3], 0, before + 1, "the auto-enabled one-shot");
  /* Auto-enabled periodic. */
  before = fires[vp][3];
  wrmsr(HV_MSR_STIMER_CONFIG(3), STIMER_PERIODIC | STIMER_AUTO_ENABLE | STIMER_SINT(AUTO_EOI_SINT));
  wrmsr(HV_MSR_STIMER_COUNT(3), PERIOD);
  spin_until(vp, &fires[vp][3], 0, before + 10, "the auto-enabled periodic timer");
  stop_timer(3);
  settle(PERIOD);
}

/* Interrupts off: waits until `sint`'s slot holds a message with
   message_pending set. 1 when it did within step_limit. */
static int wait_pending(u32 vp, u32 sint) {
  u64 limit = ref_time() + step_limit;
  while (!(slot(vp, sint)->message_type && (slot(vp, sint)->message_flags & HV_MESSAGE_PENDING))) {
    if (ref_time() > limit) {
      fail(vp, "message_pending never set on the busy slot", 0, 1);
      return 0;
    }
    cpu_relax();
  }
  return 1;
}

static void stop_drops_queued(u32 vp) {
  u32 before = fires[vp][0];
  wrmsr(HV_MSR_STIMER_COUNT(0), PERIOD);
  wrmsr(HV_MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(EOI_SINT));
  if (!wait_pending(vp, EOI_SINT)) return;
  stop_timer(0); /* the queued expiry has not reached the slot: dropped */
  struct hv_message m;
  synic_take_message(vp, EOI_SINT, &m); /* frees the slot and writes EOM */
  u64 until = ref_time() + 3 * PERIOD;
  while (ref_time() < until) {
    if (slot(vp, EOI_SINT)->message_type) {
      fail(vp, "a stopped timer's queued expiry arrived", 1, 0);
      break;
    }
    cpu_relax();
  }
  settle(PERIOD); /* takes the vector raised by the first expiry */
  if (fires[vp][0] != before) fail(vp, "expiries handled after the stop", fires[vp][0] - before, 0);
}

static void busy_after_stop(u32 vp) {
  /* A periodic timer runs and is stopped right before the step, as in
     kvm-unit-tests (its periodic test precedes one_shot_busy). */
  wrmsr(HV_MSR_STIMER_COUNT(0), PERIOD);
  wrmsr(HV_MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(EOI_SINT));
  u32 target = fires[vp][0] + 3;
  spin_until(vp, &fires[vp][0], 0, target, "the periodic timer before the busy step");
  wrmsr(HV_MSR_STIMER_CONFIG(0), 0);
  settle(PERIOD); /* an expiry that reached the slot before the stop is handled */
  u32 periodic = fires[vp][0], one_shot = fires[vp][2];
  struct hv_message *s = slot(vp, EOI_SINT);
  sti();
  s->message_type = HV_MESSAGE_TIMER_EXPIRED; /* the guest marks the slot busy */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  wrmsr(HV_MSR_STIMER_COUNT(2), ref_time() + PERIOD);
  wrmsr(HV_MSR_STIMER_CONFIG(2), STIMER_ENABLE | STIMER_SINT(EOI_SINT));
  u64 limit = ref_time() + step_limit;
  while (!(s->message_flags & HV_MESSAGE_PENDING) && ref_time() < limit) cpu_relax();
  cli();
  if (!(s->message_flags & HV_MESSAGE_PENDING)) fail(vp, "message_pending on the busy slot", 0, 1);
  if (fires[vp][0] != periodic) fail(vp, "stopped periodic expiries while the slot was busy", fires[vp][0] - periodic, 0);
  if (fires[vp][2] != one_shot) fail(vp, "one-shot expiries while the slot was busy", fires[vp][2] - one_shot, 0);
  s->message_type = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  wrmsr(HV_MSR_EOM, 0);
  spin_until(vp, &fires[vp][2], 0, one_shot + 1, "the one-shot after EOM");
  settle(3 * PERIOD);
  if (fires[vp][2] != one_shot + 1) fail(vp, "one-shot expiries after EOM", fires[vp][2] - one_shot, 1);
  if (fires[vp][0] != periodic) fail(vp, "stopped periodic expiries after EOM", fires[vp][0] - periodic, 0);
}

/* Reference TSC page (TLFS "Partition Reference Time Enlightenment"):
   time = ((tsc * scale) >> 64) + offset, retried while the sequence
   changes; sequence 0 means "use the MSR". */
struct tsc_page {
  volatile u32 sequence;
  u32 reserved;
  volatile u64 scale;
  volatile i64 offset;
};
static u8 tsc_page_mem[PAGE_SIZE] PAGE_ALIGNED;

static u64 rdtsc(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (u64)hi << 32 | lo;
}

static int page_time(const struct tsc_page *p, u64 *out) {
  for (;;) {
    u32 seq = p->sequence;
    if (seq == 0) return 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    u64 tsc = rdtsc();
    u64 t = (u64)(((unsigned __int128)tsc * p->scale) >> 64) + (u64)p->offset;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (p->sequence == seq) {
      *out = t;
      return 1;
    }
  }
}

static void tsc_page(u32 vp) {
  u32 a, b, c, d;
  cpuid(0x40000003, &a, &b, &c, &d);
  if (!(a & HV_CPUID_REFERENCE_TSC)) {
    if (vp == 0) printf("SKIP: reference TSC page not offered\n");
    return;
  }
  if (vp == 0) {
    wrmsr(HV_MSR_REFERENCE_TSC, (u64)tsc_page_mem | 1);
    check_eq(rdmsr(HV_MSR_REFERENCE_TSC), (u64)tsc_page_mem | 1, "REFERENCE_TSC reads back");
  }
  const struct tsc_page *p = (const void *)tsc_page_mem;
  u64 start = ref_time(), previous = 0, reads = 0, bad = 0;
  while (ref_time() < start + SECOND) {
    u64 t1, t2;
    if (!page_time(p, &t1)) continue;
    u64 r = ref_time();
    if (!page_time(p, &t2)) continue;
    if (t1 > r || r > t2 || t1 < previous) {
      if (bad++ == 0) printf("FAIL: vp%u page %lu, MSR %lu, page %lu (previous %lu)\n", vp, t1, r, t2, previous);
    }
    previous = t2;
    ++reads;
  }
  if (bad) atomic_inc(&failures);
  if (vp == 0) printf("tsc page: vp0 %lu reads, %lu out of order\n", reads, bad);
}

/* The number after `key` on the command line, or `fallback`. */
static u64 argument(const char *key, u64 fallback) {
  const char *s = (const char *)(u64)pc_boot_info()->cmdline;
  for (; *s; ++s) {
    const char *a = s, *k = key;
    while (*a && *k && *a == *k) ++a, ++k;
    if (*k) continue;
    u64 n = 0;
    while (*a >= '0' && *a <= '9') n = n * 10 + (u64)(*a++ - '0');
    return n;
  }
  return fallback;
}

int guest_main(u32 vp, u32 vp_count) {
  if (vp == 0) {
    expiries = (u32)argument("expiries=", expiries);
    step_limit = argument("limit=", step_limit / SECOND) * SECOND;
    printf("pc_stimer: %u VPs, %u expiries, %lu s per step\n", vp_count, expiries, step_limit / SECOND);
    set_handler(DIRECT_VECTOR0, on_direct0);
    set_handler(DIRECT_VECTOR1, on_direct1);
    set_handler(EOI_VECTOR, on_eoi_sint);
    set_handler(AUTO_EOI_VECTOR, on_auto_eoi_sint);
    handlers_set = 1;
  }
  while (!handlers_set) cpu_relax();
  apic_enable();
  direct_mode(vp);
  synic_init(vp, EOI_SINT, EOI_VECTOR, 0);
  synic_set_sint(AUTO_EOI_SINT, AUTO_EOI_VECTOR, 1);
  message_mode(vp);
  one_shots(vp);
  stop_drops_queued(vp);
  busy_after_stop(vp);
  tsc_page(vp);
  printf("%s: vp%u direct %u/%u, periodic %u/%u, one-shot %u, auto-enable %u\n", failures ? "FAIL" : "PASS", vp,
         direct_fires[vp][0], direct_fires[vp][1], fires[vp][0], fires[vp][1], fires[vp][2], fires[vp][3]);
  atomic_inc(&finished);
  if (vp != 0) return 0;
  wait_counter(&finished, vp_count);
  printf("pc_stimer: %s\n", failures ? "FAILED" : "done");
  return 0;
}
