/* Guest 2 (aarch64): HvSignalEvent to the host event port in both ABIs
   and both forms (fast: connection and flag in one register; slow: an
   8-byte input block). The host answers each signal by setting the same
   flag in this VP's SIEFP slot for SINT2; the interrupt handler scans the
   slot, test-and-clears every set flag and records it. A repeated host
   signal of a flag the guest has not cleared coalesces. */
#include "runtime/synic.h"

static volatile u32 flag_hits[64];
static volatile u32 flags_cleared;

static void on_flag(u32 vp, u32 flag) {
  (void)vp;
  if (flag < 64) flag_hits[flag]++;
}

static void on_sint2(u32 intid) {
  (void)intid;
  flags_cleared += synic_scan_events(current_vp(), REPLY_SINT, on_flag);
}

struct signal_case {
  enum hv_abi abi;
  int fast;
  u16 flag;
};

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("signal_event: start\n");
  set_irq_handler(SINT_INTID, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_INTID), 0, "start-up sequence through SetVpRegisters");

  static const struct signal_case cases[] = {
      {HV_ABI_SMCCC, 1, 3}, {HV_ABI_SMCCC, 0, 17}, {HV_ABI_NATIVE, 1, 40}, {HV_ABI_NATIVE, 0, 63}};
  for (u32 i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    const struct signal_case *c = &cases[i];
    hv_abi = c->abi;
    printf("signal_event: %s %s flag %u\n", hv_abi_name(c->abi), c->fast ? "fast" : "slow", c->flag);
    u32 before = flag_hits[c->flag];
    u16 status = c->fast ? hv_signal_event_fast(EVENT_CONNECTION_ID, c->flag)
                         : hv_signal_event_slow(vp, EVENT_CONNECTION_ID, c->flag);
    check_eq(status, HV_STATUS_SUCCESS, "HvSignalEvent to the event port");
    while (flag_hits[c->flag] == before) wait_for_interrupt();
    check_eq(flag_hits[c->flag], before + 1, "the flag came back once");
  }
  check_eq(flags_cleared, 4, "four flags scanned and cleared");

  /* Three host signals of one flag with interrupts masked: the first sets
     it and interrupts, the others find it set and coalesce. */
  hv_abi = HV_ABI_SMCCC;
  u32 interrupts_before = handled_interrupts[0];
  check_eq(host_command(vp, HOST_COMMAND_SIGNAL, vp, REPLY_SINT, 3, 0, 9), HV_STATUS_SUCCESS,
           "host command: signal flag 9 three times");
  while (flag_hits[9] == 0) wait_for_interrupt();
  check_eq(flag_hits[9], 1, "coalesced signals seen once");
  check_eq(handled_interrupts[0] - interrupts_before, 1, "one interrupt for coalesced signals");
  u64 *slot = (u64 *)(siefp_page[0] + REPLY_SINT * 256);
  u64 any = 0;
  for (int w = 0; w < 32; ++w) any |= slot[w];
  check_eq(any, 0, "event slot clear after the scans");
  printf("signal_event: %s\n", failures ? "FAILED" : "done");
  return 0;
}
