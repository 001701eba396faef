/* Guest 3 (aarch64): a burst of host messages larger than one slot. The
   host command port queues BURST messages for SINT2 at once; only one fits
   the slot, so the SynIC sets message_pending on it and waits. The handler
   takes one message per interrupt and writes EOM when message_pending was
   set, which brings the next one. Every message must arrive exactly once
   and in order. */
#include "runtime/synic.h"

#define BURST 24
#define BURST_TYPE 0x42

static struct hv_message message;
static volatile u32 received;
static volatile u32 out_of_order;
static volatile u32 pending_flags;

static void on_sint2(u32 intid) {
  (void)intid;
  u32 vp = current_vp();
  while (synic_take_message(vp, REPLY_SINT, &message)) {
    u32 index = *(u32 *)message.payload;
    if (message.message_flags & HV_MESSAGE_PENDING) pending_flags++;
    if (message.message_type != BURST_TYPE || index != received) out_of_order++;
    received++;
  }
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("message_burst: start\n");
  set_irq_handler(SINT_INTID, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_INTID), 0, "start-up sequence through SetVpRegisters");

  check_eq(host_command(vp, HOST_COMMAND_BURST, vp, REPLY_SINT, BURST, BURST_TYPE, 0), HV_STATUS_SUCCESS,
           "host command: burst");
  while (received < BURST) wait_for_interrupt();
  check_eq(received, BURST, "every message received once");
  check_eq(out_of_order, 0, "in order, with the burst's type");
  CHECK(pending_flags > 0);
  check_eq(eom_writes[0], pending_seen[0], "EOM written exactly when message_pending was set");
  CHECK(eom_writes[0] >= BURST - 2);
  check_eq(((struct hv_message *)simp_page[0])[REPLY_SINT].message_type, 0, "slot free at the end");
  printf("message_burst: %s\n", failures ? "FAILED" : "done");
  return 0;
}
