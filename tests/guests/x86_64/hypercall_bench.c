/* Cost measurement guests (not tests): ITERATIONS repetitions of one
   operation chosen at build time (BENCH_MODE), for timing the whole run on
   the host and subtracting the empty loop:
   0 empty loop
   1 fast HvSignalEvent through the hypercall page (INVALID_CONNECTION_ID:
     the full decode and registry lookup, no port work)
   2 the same with a bare VMCALL (the #UD exit path)
   3 OUT to an unused port (a bare trapped instruction)
   4 RDMSR SVERSION (the MSR site hook and the MSR chain)
   5 WRMSR SINT3 with its own value (the site hook and the chain's write)
   6 a compute loop with no hypervisor work at all (the runner against
     bare Unicorn running this same image) */
#include "runtime/synic.h"

#define ITERATIONS 2000000u

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
#if BENCH_MODE == 6
  u64 x = 88172645463325252ull;
  for (u32 i = 0; i < ITERATIONS; ++i) {
    for (u32 k = 0; k < 64; ++k) { /* xorshift: ALU work in a tight loop */
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
  }
  printf("bench mode %d: %u iterations (sum %lu)\n", BENCH_MODE, ITERATIONS, x);
  return 0;
#endif
  if (synic_init(vp, REPLY_SINT, 0xF3, 1) != 0) return 2;
  u64 sum = 0;
#if BENCH_MODE == 5
  const u64 sint3 = rdmsr(HV_MSR_SINT0 + 3);
#endif
  for (u32 i = 0; i < ITERATIONS; ++i) {
#if BENCH_MODE == 1
    sum += hv_hypercall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, 0x9999, 0);
#elif BENCH_MODE == 2
    sum += hv_vmcall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, 0x9999, 0);
#elif BENCH_MODE == 3
    outb(0x80, (u8)i);
#elif BENCH_MODE == 4
    sum += rdmsr(HV_MSR_SVERSION);
#elif BENCH_MODE == 5
    wrmsr(HV_MSR_SINT0 + 3, sint3);
#else
    barrier();
#endif
  }
  printf("bench mode %d: %u iterations (sum %lu)\n", BENCH_MODE, ITERATIONS, sum);
  return 0;
}
