/* Cost measurement guests (not tests): ITERATIONS repetitions of one
   operation chosen at build time (BENCH_MODE), for timing the whole run on
   the host and subtracting the empty loop (bench/emulator_runner.cpp):
   0 empty loop
   1 fast HvSignalEvent over HVC #1 (Hyper-V's own ABI; INVALID_CONNECTION_ID:
     the full decode and registry lookup, no port work)
   2 fast HvGetVpRegisters(VP_INDEX) over HVC #0 (the SMCCC ABI Linux uses) */
#include "runtime/synic.h"

#define ITERATIONS 1000000u

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  u32 bad = 0;
  u64 v = 0;
  (void)v;
  hv_abi = BENCH_MODE == 2 ? HV_ABI_SMCCC : HV_ABI_NATIVE;
  for (u32 i = 0; i < ITERATIONS; ++i) {
#if BENCH_MODE == 1
    bad += hv_signal_event_fast(0x9999, 0) != HV_STATUS_INVALID_CONNECTION_ID;
#elif BENCH_MODE == 2
    bad += hv_get_vp_register(HV_REG_VP_INDEX, &v) != HV_STATUS_SUCCESS;
#else
    barrier();
#endif
  }
  check_eq(bad, 0, "every call answered as expected");
  printf("bench mode %d: %u iterations\n", BENCH_MODE, ITERATIONS);
  return 0;
}
