/* Guest 5 (aarch64): every guest-visible error, as the facts sheet says,
   in both hypercall ABIs where the call has a slow form: bad connection
   id, bad alignment, payload too large, bad message type, flag out of
   range, unknown register name, invalid SINT values, read-only and reserved
   register bits, unknown call code, reserved control bits, rep count on a
   simple call, input crossing a page, an unknown SMCCC function. Nothing
   may reach the host ports, and the SynIC keeps working afterwards. */
#include "runtime/synic.h"

#define UNKNOWN_CONNECTION_ID 0x9999
#define BAD_REGISTER_NAME 0x000A00FF

static struct hv_message reply;
static volatile u32 replies;

static void on_sint2(u32 intid) {
  (void)intid;
  if (synic_take_message(current_vp(), REPLY_SINT, &reply)) replies++;
}

static u16 post_raw(u64 input_gpa, u32 connection_id, u32 type, u32 size, u64 extra_control) {
  struct hv_post_message_input *in = (struct hv_post_message_input *)input_gpa;
  in->connection_id = connection_id;
  in->reserved = 0;
  in->message_type = type;
  in->payload_size = size;
  return (u16)hv_hypercall(HVCALL_POST_MESSAGE | extra_control, input_gpa, 0);
}

static void hypercall_errors(u32 vp) {
  u64 page = (u64)input_page[vp];
  check_eq(hv_post_message(vp, UNKNOWN_CONNECTION_ID, 1, "x", 1), HV_STATUS_INVALID_CONNECTION_ID,
           "post to an unknown connection id");
  check_eq(hv_post_message(vp, EVENT_CONNECTION_ID, 1, "x", 1), HV_STATUS_INVALID_CONNECTION_ID,
           "post to an event port's connection id");
  check_eq(post_raw(page + 4, ECHO_CONNECTION_ID, 1, 1, 0), HV_STATUS_INVALID_ALIGNMENT,
           "post with a misaligned input GPA");
  check_eq(post_raw(page, ECHO_CONNECTION_ID, 1, HV_MESSAGE_PAYLOAD_MAX + 1, 0), HV_STATUS_INVALID_PARAMETER,
           "post with payload 241 bytes");
  check_eq(post_raw(page, ECHO_CONNECTION_ID, 0, 1, 0), HV_STATUS_INVALID_PARAMETER, "post with message type 0");
  check_eq(post_raw(page, ECHO_CONNECTION_ID, 0x80000001u, 1, 0), HV_STATUS_INVALID_PARAMETER,
           "post with a hypervisor message type");
  check_eq(post_raw(page, ECHO_CONNECTION_ID, 1, 1, HV_HYPERCALL_REP_COUNT(1)), HV_STATUS_INVALID_HYPERCALL_INPUT,
           "rep count on a simple call");
  check_eq(post_raw(page + PAGE_SIZE - 8, ECHO_CONNECTION_ID, 1, 1, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
           "input block crossing a page");
  check_eq(hv_signal_event_fast(UNKNOWN_CONNECTION_ID, 1), HV_STATUS_INVALID_CONNECTION_ID,
           "signal an unknown connection id");
  check_eq(hv_signal_event_fast(EVENT_CONNECTION_ID, 2048), HV_STATUS_INVALID_PARAMETER, "signal flag 2048");
  check_eq(hv_signal_event_slow(vp, ECHO_CONNECTION_ID, 1), HV_STATUS_INVALID_CONNECTION_ID,
           "signal a message port's connection id");
  check_eq((u16)hv_hypercall(0x0099, page, 0), HV_STATUS_INVALID_HYPERCALL_CODE, "unknown call code");
  check_eq((u16)hv_hypercall(HVCALL_POST_MESSAGE | (1ul << 63), page, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
           "reserved control bits");
  u64 v = 0;
  check_eq(hv_get_vp_register_slow(vp, BAD_REGISTER_NAME, &v), HV_STATUS_UNKNOWN_REGISTER_NAME,
           "GetVpRegisters (slow) of an unknown name");
  check_eq(hv_set_vp_register_slow(vp, BAD_REGISTER_NAME, 1), HV_STATUS_UNKNOWN_REGISTER_NAME,
           "SetVpRegisters (slow) of an unknown name");
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("guest_errors: start\n");
  set_irq_handler(SINT_INTID, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_INTID), 0, "start-up sequence through SetVpRegisters");

  static const enum hv_abi abis[] = {HV_ABI_SMCCC, HV_ABI_NATIVE};
  for (u32 i = 0; i < 2; ++i) {
    hv_abi = abis[i];
    printf("guest_errors: %s\n", hv_abi_name(hv_abi));
    hypercall_errors(vp);
  }
  hv_abi = HV_ABI_SMCCC;

  /* Register errors through the drivers' fast SMCCC form. */
  u64 v = 0;
  check_eq(hv_get_vp_register(BAD_REGISTER_NAME, &v), HV_STATUS_UNKNOWN_REGISTER_NAME,
           "GetVpRegisters of an unknown name");
  check_eq(hv_set_vp_register(BAD_REGISTER_NAME, 0), HV_STATUS_UNKNOWN_REGISTER_NAME,
           "SetVpRegisters of an unknown name");
  check_eq(hv_set_vp_register(HV_REG_SINT0 + 5, 5), HV_STATUS_INVALID_PARAMETER, "unmasked SINT vector below 16");
  check_eq(hv_set_vp_register(HV_REG_SINT0 + 5, SINT_INTID | HV_SINT_AUTO_EOI), HV_STATUS_INVALID_PARAMETER,
           "auto-EOI SINT (none on ARM64)");
  check_eq(hv_set_vp_register(HV_REG_SINT0 + 5, SINT_INTID | (1ul << 40)), HV_STATUS_INVALID_PARAMETER,
           "SINT reserved bits");
  check_eq(hv_set_vp_register(HV_REG_SCONTROL, 0x3), HV_STATUS_INVALID_PARAMETER, "SCONTROL reserved bits");
  check_eq(hv_set_vp_register(HV_REG_SVERSION, 2), HV_STATUS_INVALID_PARAMETER, "SVERSION is read-only");
  check_eq(hv_get_vp_register(HV_REG_SINT0 + 5, &v), HV_STATUS_SUCCESS, "SINT5 still readable");
  check_eq(v, HV_SINT_MASKED, "SINT5 unchanged (masked reset value)");

  /* SMCCC: functions other than the hypercall and the UID answer -1. */
  {
    register u64 x0 __asm__("x0") = 0x84000000ul; /* PSCI_VERSION: not offered */
    __asm__ volatile("hvc #0" : "+r"(x0) : : "x1", "x2", "x3", "memory");
    check_eq(x0, SMCCC_NOT_SUPPORTED, "unknown SMCCC function answers NOT_SUPPORTED");
  }

  /* The SynIC still works after all that. */
  static const char text[] = "still alive";
  check_eq(hv_post_message(vp, ECHO_CONNECTION_ID, 1, text, sizeof text), HV_STATUS_SUCCESS, "echo after errors");
  while (replies == 0) wait_for_interrupt();
  check_eq(replies, 1, "exactly one reply: no failed call reached the echo port");
  printf("guest_errors: %s\n", failures ? "FAILED" : "done");
  return 0;
}
