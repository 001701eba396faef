/* Guest 5: every guest-visible error, observed as the facts sheet says:
   hypercall statuses for bad connection ids, alignment, sizes, types, flags,
   codes and control fields; #GP (caught by the runtime's #GP handler) for
   reserved SINT bits, low vectors and read-only MSRs; and a bare VMCALL
   outside the hypercall page working as a hypercall. */
#include "runtime/synic.h"

#define SINT_VECTOR 0xF3

static u16 post_raw(u32 vp, u64 input_offset, u32 connection_id, u32 type, u32 size) {
  struct hv_post_message_input *in = (struct hv_post_message_input *)(input_page[vp] + input_offset);
  in->connection_id = connection_id;
  in->reserved = 0;
  in->message_type = type;
  in->payload_size = size;
  return (u16)hv_hypercall(HVCALL_POST_MESSAGE, (u64)in, 0);
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("guest_errors: start\n");
  apic_enable();
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_VECTOR, 1), 0, "SynIC started");

  /* HvPostMessage */
  check_eq(post_raw(vp, 0, 0x9999, 1, 8), HV_STATUS_INVALID_CONNECTION_ID, "post: unknown connection id");
  check_eq(post_raw(vp, 0, EVENT_CONNECTION_ID, 1, 8), HV_STATUS_INVALID_CONNECTION_ID,
           "post: an event port's connection id");
  check_eq(post_raw(vp, 4, ECHO_CONNECTION_ID, 1, 8), HV_STATUS_INVALID_ALIGNMENT, "post: input not 8-byte aligned");
  check_eq(post_raw(vp, PAGE_SIZE - 128, ECHO_CONNECTION_ID, 1, 8), HV_STATUS_INVALID_HYPERCALL_INPUT,
           "post: input crosses a page");
  check_eq(post_raw(vp, 0, ECHO_CONNECTION_ID, 1, 241), HV_STATUS_INVALID_PARAMETER, "post: payload of 241 bytes");
  check_eq(post_raw(vp, 0, ECHO_CONNECTION_ID, 0, 8), HV_STATUS_INVALID_PARAMETER, "post: message type 0");
  check_eq(post_raw(vp, 0, ECHO_CONNECTION_ID, 0x80000001, 8), HV_STATUS_INVALID_PARAMETER,
           "post: hypervisor message type (bit 31)");
  check_eq((u16)hv_hypercall(HVCALL_POST_MESSAGE | HV_HYPERCALL_REP_COUNT(1), (u64)input_page[vp], 0),
           HV_STATUS_INVALID_HYPERCALL_INPUT, "post: rep count on a simple call");
  check_eq((u16)hv_hypercall(HVCALL_POST_MESSAGE | (1ul << 40) << 20, (u64)input_page[vp], 0),
           HV_STATUS_INVALID_HYPERCALL_INPUT, "post: reserved control bits");

  /* HvSignalEvent */
  check_eq(hv_signal_event_fast(0x9999, 0), HV_STATUS_INVALID_CONNECTION_ID, "signal: unknown connection id");
  check_eq(hv_signal_event_fast(ECHO_CONNECTION_ID, 0), HV_STATUS_INVALID_CONNECTION_ID,
           "signal: a message port's connection id");
  check_eq(hv_signal_event_fast(EVENT_CONNECTION_ID, 2048), HV_STATUS_INVALID_PARAMETER, "signal: flag 2048");

  /* Unknown call code */
  check_eq((u16)hv_hypercall(0x0099, 0, 0), HV_STATUS_INVALID_HYPERCALL_CODE, "unknown call code");

  /* A bare VMCALL outside the hypercall page is a hypercall too. */
  check_eq((u16)hv_vmcall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, 0x9999, 0), HV_STATUS_INVALID_CONNECTION_ID,
           "VMCALL outside the hypercall page");

  /* #GP cases */
  u64 sint = rdmsr(HV_MSR_SINT0 + 3);
  CHECK(wrmsr_faults(HV_MSR_SINT0 + 3, (sint & ~HV_SINT_MASKED) | 0x30 | (1ul << 24)));
  check_eq(rdmsr(HV_MSR_SINT0 + 3), sint, "SINT unchanged after the #GP (reserved bit 24)");
  CHECK(wrmsr_faults(HV_MSR_SINT0 + 3, 0x05));
  check_eq(rdmsr(HV_MSR_SINT0 + 3), sint, "SINT unchanged after the #GP (unmasked vector 5)");
  CHECK(!wrmsr_faults(HV_MSR_SINT0 + 3, HV_SINT_MASKED | 0x05));
  CHECK(wrmsr_faults(HV_MSR_SVERSION, 2));
  CHECK(wrmsr_faults(HV_MSR_VP_INDEX, 1));
  CHECK(wrmsr_faults(HV_MSR_HYPERCALL, rdmsr(HV_MSR_HYPERCALL) | 0x10));
  CHECK(wrmsr_faults(HV_MSR_SCONTROL, 1ul << 5));
  u64 value;
  CHECK(!rdmsr_faults(HV_MSR_SVERSION, &value));
  check_eq(value, 1, "SVERSION still reads 1");
  check_eq(gp_count, 6, "six #GPs in all");

  /* A real invalid opcode reaches the guest's #UD handler. */
  __asm__ volatile("ud2");
  check_eq(ud_count, 1, "UD2 delivered #UD to the guest");
  printf("guest_errors: %s\n", failures ? "FAILED" : "done");
  return 0;
}
