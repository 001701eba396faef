/* Guest 3: a burst of host messages larger than one slot. The host posts
   BURST messages to SINT2 at once; the first fills the slot, the rest wait
   in the SynIC's queue with message_pending set in the busy slot. The
   handler takes one message per interrupt, frees the slot and writes EOM
   only when message_pending was set; every message must arrive once and in
   order. */
#include "runtime/synic.h"

#define SINT_VECTOR 0xF3
#define BURST 12
#define BURST_TYPE 0x42

static volatile u32 received;
static volatile u32 order_errors;
static volatile u32 interrupts;

static void on_sint2(struct interrupt_frame *frame) {
  (void)frame;
  struct hv_message m;
  interrupts++;
  /* One message per interrupt, as the Linux driver does: the EOM makes the
     SynIC deliver the next one with a new interrupt. */
  if (synic_take_message(0, REPLY_SINT, &m)) {
    u32 seq = *(u32 *)m.payload;
    if (m.message_type != BURST_TYPE || seq != received) order_errors++;
    received++;
  }
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("message_burst: start\n");
  apic_enable();
  set_handler(SINT_VECTOR, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_VECTOR, 1), 0, "SynIC started");
  check_eq(host_command(vp, HOST_COMMAND_BURST, vp, REPLY_SINT, BURST, BURST_TYPE, 0), HV_STATUS_SUCCESS,
           "host burst requested");
  while (received < BURST) wait_for_interrupt();
  check_eq(received, BURST, "every message received");
  check_eq(order_errors, 0, "in order, none twice");
  CHECK(pending_seen[0] >= 1);
  check_eq(eom_writes[0], pending_seen[0], "EOM written exactly when message_pending was set");
  check_eq(interrupts, BURST, "one interrupt per message");
  check_eq(((struct hv_message *)simp_page[0])[REPLY_SINT].message_type, 0, "slot free at the end");
  printf("message_burst: %s\n", failures ? "FAILED" : "done");
  return 0;
}
