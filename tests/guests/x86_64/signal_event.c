/* Guest 2: HvSignalEvent (fast and slow forms) to the host event port,
   which answers by setting the same flag in this VP's SIEFP slot for SINT2;
   the SINT2 handler scans the slot and clears each flag it finds with an
   atomic test-and-clear. A second signal before the guest clears a flag
   raises no interrupt (the bit was already set). */
#include "runtime/synic.h"

#define SINT_VECTOR 0xF3

static volatile u32 flags_seen[4];
static volatile u32 flag_hits;
static volatile u32 sint_interrupts;

static void on_flag(u32 vp, u32 flag) {
  (void)vp;
  flag_hits++;
  flags_seen[flag / 64] |= 1u << (flag % 32);
}

static void on_sint2(struct interrupt_frame *frame) {
  (void)frame;
  sint_interrupts++;
  synic_scan_events(0, REPLY_SINT, on_flag);
}

static u32 flag_word(u32 flag) { return ((volatile u32 *)(siefp_page[0] + 256 * REPLY_SINT))[flag / 32]; }

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("signal_event: start\n");
  apic_enable();
  set_handler(SINT_VECTOR, on_sint2);
  CHECK(hv_detect());
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_VECTOR, 1), 0, "SynIC started");

  check_eq(hv_signal_event_fast(EVENT_CONNECTION_ID, 5), HV_STATUS_SUCCESS, "fast HvSignalEvent flag 5");
  while (flag_hits < 1) wait_for_interrupt();
  check_eq(flag_hits, 1, "flag 5 seen once");
  check_eq(flags_seen[0] & (1u << 5), 1u << 5, "flag 5 reported");
  check_eq(flag_word(5) & (1u << 5), 0, "flag 5 cleared by the handler");

  check_eq(hv_signal_event_slow(vp, EVENT_CONNECTION_ID, 70), HV_STATUS_SUCCESS, "slow HvSignalEvent flag 70");
  while (flag_hits < 2) wait_for_interrupt();
  check_eq(flag_hits, 2, "flag 70 seen once");

  /* Two host signals of one flag before the guest looks: one interrupt. */
  u32 before = sint_interrupts;
  check_eq(host_command(vp, HOST_COMMAND_SIGNAL, vp, REPLY_SINT, 2, 0, 9), HV_STATUS_SUCCESS, "host signals flag 9 twice");
  while (flag_hits < 3) wait_for_interrupt();
  check_eq(sint_interrupts - before, 1, "second signal coalesced: one interrupt");
  check_eq(flag_hits, 3, "flag 9 seen once");
  printf("signal_event: %s\n", failures ? "FAILED" : "done");
  return 0;
}
