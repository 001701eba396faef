/* Guest 1: the Linux driver's start-up sequence, then HvPostMessage to the
   host echo port; the reply arrives in the SINT2 interrupt handler (vector
   0xF3, auto-EOI as Linux uses it), which frees the slot and writes EOM
   only when message_pending is set. */
#include "runtime/synic.h"

#define SINT_VECTOR 0xF3
#define MESSAGE_TYPE 0x1

static struct hv_message reply;
static volatile u32 replies;

static void on_sint2(struct interrupt_frame *frame) {
  (void)frame;
  if (synic_take_message(0, REPLY_SINT, &reply)) replies++;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("post_echo: start\n");
  if (!hv_detect()) {
    printf("post_echo: no Hyper-V interface (CPUID)\n");
    return 3;
  }
  apic_enable();
  set_handler(SINT_VECTOR, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_VECTOR, 1), 0, "hypercall page enabled");
  check_eq(rdmsr(HV_MSR_SVERSION), 1, "SVERSION reads 1");
  check_eq(rdmsr(HV_MSR_VP_INDEX), 0, "VP_INDEX is 0");
  check_eq(rdmsr(HV_MSR_SINT0 + REPLY_SINT) & 0xFF, SINT_VECTOR, "SINT2 vector reads back");

  static const char text[] = "hello softsynic";
  check_eq(hv_post_message(vp, ECHO_CONNECTION_ID, MESSAGE_TYPE, text, sizeof text), HV_STATUS_SUCCESS,
           "HvPostMessage to the echo port");
  while (replies == 0) wait_for_interrupt();
  check_eq(replies, 1, "one reply");
  check_eq(reply.message_type, MESSAGE_TYPE, "reply type");
  check_eq(reply.payload_size, sizeof text, "reply size");
  CHECK(memcmp(reply.payload, text, sizeof text) == 0);
  check_eq(eom_writes[0], 0, "no EOM without message_pending");
  check_eq(((struct hv_message *)simp_page[0])[REPLY_SINT].message_type, 0, "slot freed");
  printf("post_echo: %s\n", failures ? "FAILED" : "done");
  return 0;
}
