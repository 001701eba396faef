/* Guest (x86-64): the TSC follows reference time. The engine emulates
   RDTSC (and RDTSCP when advertised) at 100 cycles per 100 ns reference
   tick, so a virtual-clock run reads the same values every time (ctest
   runs it twice and compares the output, which holds a hash of every value
   read). Checks, over 10^5 reads interleaved with TIME_REF_COUNT:
   - the TSC never goes backwards;
   - TSC / 100 lies between the TIME_REF_COUNT reads around it;
   - it moves: the last read is later than the first by at least the
     reference time that passed;
   - code the guest rewrites keeps being emulated: a site first holds
     `rdtsc`, then Linux's alternative `lfence; rdtsc` (the RDTSC moves 3
     bytes on), and an RDMSR moves behind a NOP; every value read after the
     rewrite is still the emulated one (an unemulated RDTSC reads the
     host's TSC, far from reference time). */
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

/* Each sequence returns RDX:RAX in RAX; all are 13 bytes long. */
#define SITE_BYTES 13
static const u8 kRdtscPlain[SITE_BYTES] = {0x0F, 0x31, 0x0F, 0x1F, 0x00,                    /* rdtsc; nop3 */
                                           0x48, 0xC1, 0xE2, 0x20, 0x48, 0x09, 0xD0, 0xC3}; /* shl rdx,32; or rax,rdx; ret */
static const u8 kRdtscFenced[SITE_BYTES] = {0x0F, 0xAE, 0xE8, 0x0F, 0x31, /* lfence; rdtsc */
                                            0x48, 0xC1, 0xE2, 0x20, 0x48, 0x09, 0xD0, 0xC3};
static const u8 kRdmsrPlain[SITE_BYTES] = {0xB9, 0x20, 0x00, 0x00, 0x40, 0x0F, 0x32, 0x0F, 0x1F, 0x00, /* mov ecx,TIME_REF; rdmsr; nop3 */
                                           0x48, 0xC1, 0xE2};
static const u8 kRdmsrShifted[SITE_BYTES] = {0xB9, 0x20, 0x00, 0x00, 0x40, 0x0F, 0x1F, 0x00, 0x0F, 0x32, /* mov; nop3; rdmsr */
                                             0x48, 0xC1, 0xE2};
static const u8 kTail[] = {0x20, 0x48, 0x09, 0xD0, 0xC3}; /* the rest of shl rdx,32; or rax,rdx; ret */

/* Each sequence lives alone on its page: rewriting it drops no other code. */
static u8 tsc_page[4096] __attribute__((aligned(4096)));
static u8 msr_page[4096] __attribute__((aligned(4096)));

static void write_site(u8* page, const u8* bytes, int with_tail) {
  for (u32 i = 0; i < SITE_BYTES; ++i) page[i] = bytes[i];
  if (with_tail)
    for (u32 i = 0; i < sizeof kTail; ++i) page[SITE_BYTES + i] = kTail[i];
}

/* Runs the code on `page` 1000 times; counts the values that are not
   reference time (scaled by `per_tick`) read between the two
   TIME_REF_COUNT reads around. */
static u32 run_site(u8* page, u64 per_tick) {
  u64 (*site)(void) = (u64 (*)(void))(void*)page;
  u32 off = 0;
  for (u32 i = 0; i < 1000; ++i) {
    const u64 before = rdmsr(HV_MSR_TIME_REF_COUNT);
    const u64 v = site() / per_tick;
    const u64 after = rdmsr(HV_MSR_TIME_REF_COUNT);
    if (v < before || v > after) off++;
  }
  return off;
}

static void rewritten_sites(void) {
  write_site(tsc_page, kRdtscPlain, 0);
  check_eq(run_site(tsc_page, TSC_PER_TICK), 0, "rdtsc at the site is emulated");
  write_site(tsc_page, kRdtscFenced, 0);
  check_eq(run_site(tsc_page, TSC_PER_TICK), 0, "rdtsc moved behind lfence is emulated");
  write_site(msr_page, kRdmsrPlain, 1);
  check_eq(run_site(msr_page, 1), 0, "rdmsr at the site is emulated");
  write_site(msr_page, kRdmsrShifted, 1);
  check_eq(run_site(msr_page, 1), 0, "rdmsr moved behind a nop is emulated");
  printf("tsc: rewritten sites stay emulated\n");
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
  rewritten_sites();
  printf("tsc: done\n");
  return 0;
}
