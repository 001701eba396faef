/* Guest (x86-64): the TSC follows reference time. The engine emulates
   RDTSC (and RDTSCP when advertised) at 100 cycles per 100 ns reference
   tick, so a virtual-clock run reads the same values every time (ctest
   runs it twice and compares the output, which holds a hash of every value
   read). Checks, over 10^5 reads interleaved with TIME_REF_COUNT:
   - the TSC never goes backwards;
   - TSC / 100 lies between the TIME_REF_COUNT reads around it;
   - it moves: the last read is later than the first by at least the
     reference time that passed. */
#include "runtime/synic.h"

#define HV_MSR_TIME_REF_COUNT 0x40000020u
#define TSC_PER_TICK 100u
#define READS 100000u

static inline u64 rdtsc(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (u64)hi << 32 | lo;
}

static inline u64 rdtscp(u32 *aux) {
  u32 lo, hi;
  __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(*aux));
  return (u64)hi << 32 | lo;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  u32 a, b, c, d;
  cpuid(0x80000001, &a, &b, &c, &d);
  const int have_rdtscp = (d >> 27) & 1;
  u64 hash = 1469598103934665603ull, prev = 0, first = 0, last = 0;
  u64 ref_first = rdmsr(HV_MSR_TIME_REF_COUNT), ref_last = 0;
  u32 backwards = 0, off_reference = 0;
  for (u32 i = 0; i < READS; ++i) {
    const u64 before = rdmsr(HV_MSR_TIME_REF_COUNT);
    u32 aux = 0;
    const u64 t = (have_rdtscp && (i & 1)) ? rdtscp(&aux) : rdtsc();
    const u64 after = rdmsr(HV_MSR_TIME_REF_COUNT);
    if (t < prev) backwards++;
    if (t / TSC_PER_TICK < before || t / TSC_PER_TICK > after) off_reference++;
    if (i == 0) first = t;
    prev = last = t;
    ref_last = after;
    hash = (hash ^ t) * 1099511628211ull;
    for (volatile u32 spin = 0; spin < (i & 15); ++spin) {
    }
  }
  check_eq(backwards, 0, "the TSC never goes backwards");
  check_eq(off_reference, 0, "TSC / 100 lies between the TIME_REF_COUNT reads around it");
  CHECK(last - first >= (ref_last - ref_first - 1) * TSC_PER_TICK);
  CHECK(ref_last > ref_first);
  printf("tsc: rdtscp %s, %u reads, first %lu last %lu, hash %lx\n", have_rdtscp ? "advertised" : "not advertised",
         READS, first, last, hash);
  printf("tsc: done\n");
  return 0;
}
