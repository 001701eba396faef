/* Hypercall round-trip load for measurements (not a ctest): ROUNDS fast
   HvGetVpRegisters(VP_INDEX) calls over HVC #0 SMCCC, then ROUNDS fast
   HvSignalEvent calls to an unknown connection over HVC #1 (the cheapest
   complete path through the hooks). Time the run from outside and divide;
   a run with ROUNDS = 0 gives the fixed cost. */
#include "runtime/synic.h"

#ifndef ROUNDS
#define ROUNDS 1000000
#endif

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  u64 v = 0;
  u32 bad = 0;
  for (u32 i = 0; i < ROUNDS; ++i) bad += hv_get_vp_register(HV_REG_VP_INDEX, &v) != HV_STATUS_SUCCESS;
  hv_abi = HV_ABI_NATIVE;
  for (u32 i = 0; i < ROUNDS; ++i) bad += hv_signal_event_fast(0x9999, 0) != HV_STATUS_INVALID_CONNECTION_ID;
  check_eq(bad, 0, "every call answered as expected");
  printf("hypercall_bench: %u rounds per ABI %s\n", ROUNDS, failures ? "FAILED" : "done");
  return 0;
}
