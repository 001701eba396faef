/* Guest 1 (aarch64): the Linux driver's start-up sequence through
   HvSetVpRegisters over SMCCC (GUEST_OS_ID, SIMP, SIEFP, SINT2 = a PPI
   INTID, SCONTROL last), then HvPostMessage to the host echo port in both
   hypercall ABIs; each reply arrives in the SINT2 interrupt handler, which
   frees the slot and writes EOM only when message_pending is set. */
#include "runtime/synic.h"

#define MESSAGE_TYPE 0x1

static struct hv_message reply;
static volatile u32 replies;

static void on_sint2(u32 intid) {
  (void)intid;
  if (synic_take_message(current_vp(), REPLY_SINT, &reply)) replies++;
}

static void echo_round_trip(u32 vp, enum hv_abi abi, const char *text, u32 size) {
  hv_abi = abi;
  u32 before = replies;
  printf("post_echo: %s\n", hv_abi_name(abi));
  check_eq(hv_post_message(vp, ECHO_CONNECTION_ID, MESSAGE_TYPE, text, size), HV_STATUS_SUCCESS,
           "HvPostMessage to the echo port");
  while (replies == before) wait_for_interrupt();
  check_eq(replies, before + 1, "one reply");
  check_eq(reply.message_type, MESSAGE_TYPE, "reply type");
  check_eq(reply.payload_size, size, "reply size");
  CHECK(memcmp(reply.payload, text, size) == 0);
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("post_echo: start\n");
  CHECK(hv_detect());
  set_irq_handler(SINT_INTID, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_INTID), 0, "start-up sequence through SetVpRegisters");

  u64 v = 0;
  check_eq(hv_get_vp_register(HV_REG_SVERSION, &v), HV_STATUS_SUCCESS, "GetVpRegisters SVERSION");
  check_eq(v, 1, "SVERSION reads 1");
  check_eq(hv_get_vp_register(HV_REG_VP_INDEX, &v), HV_STATUS_SUCCESS, "GetVpRegisters VP_INDEX");
  check_eq(v, 0, "VP_INDEX is 0");
  check_eq(hv_get_vp_register(HV_REG_SINT0 + REPLY_SINT, &v), HV_STATUS_SUCCESS, "GetVpRegisters SINT2");
  check_eq(v & 0xFF, SINT_INTID, "SINT2 vector reads back");
  check_eq(hv_get_vp_register(HV_REG_SCONTROL, &v), HV_STATUS_SUCCESS, "GetVpRegisters SCONTROL");
  check_eq(v & 1, 1, "SCONTROL enabled");
  check_eq(read_sysreg("mpidr_el1") & 0xFF, 0, "MPIDR_EL1 Aff0 is the VP index");

  static const char text[] = "hello softsynic";
  echo_round_trip(vp, HV_ABI_SMCCC, text, sizeof text);
  static const char text2[] = "hello again over HVC #1";
  echo_round_trip(vp, HV_ABI_NATIVE, text2, sizeof text2);

  check_eq(eom_writes[0], 0, "no EOM without message_pending");
  check_eq(((struct hv_message *)simp_page[0])[REPLY_SINT].message_type, 0, "slot freed");
  printf("post_echo: %s\n", failures ? "FAILED" : "done");
  return 0;
}
