/* Architecture-independent SynIC helpers of the test guests. */
#include "common/hv_guest.h"

u8 simp_page[MAX_VPS][PAGE_SIZE] PAGE_ALIGNED;
u8 siefp_page[MAX_VPS][PAGE_SIZE] PAGE_ALIGNED;
u8 input_page[MAX_VPS][PAGE_SIZE] PAGE_ALIGNED;
u8 output_page[MAX_VPS][PAGE_SIZE] PAGE_ALIGNED;
volatile u32 eom_writes[MAX_VPS];
volatile u32 pending_seen[MAX_VPS];

u16 hv_post_message(u32 vp, u32 connection_id, u32 message_type, const void *payload, u32 size) {
  struct hv_post_message_input *in = (struct hv_post_message_input *)input_page[vp];
  in->connection_id = connection_id;
  in->reserved = 0;
  in->message_type = message_type;
  in->payload_size = size;
  memcpy(in->payload, payload, size > HV_MESSAGE_PAYLOAD_MAX ? HV_MESSAGE_PAYLOAD_MAX : size);
  return (u16)hv_hypercall(HVCALL_POST_MESSAGE, (u64)in, 0);
}

u16 hv_signal_event_fast(u32 connection_id, u16 flag) {
  return (u16)hv_hypercall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, connection_id | ((u64)flag << 32), 0);
}

u16 hv_signal_event_slow(u32 vp, u32 connection_id, u16 flag) {
  u32 *in = (u32 *)input_page[vp];
  in[0] = connection_id;
  in[1] = flag; /* flag_number u16, reserved u16 = 0 */
  return (u16)hv_hypercall(HVCALL_SIGNAL_EVENT, (u64)in, 0);
}

u16 host_command(u32 vp, u32 op, u32 target_vp, u32 sint, u32 count, u32 message_type, u32 flag) {
  struct host_command c = {op, target_vp, sint, count, message_type, flag};
  return hv_post_message(vp, COMMAND_CONNECTION_ID, 1, &c, sizeof c);
}

int synic_take_message(u32 vp, u32 sint, struct hv_message *out) {
  struct hv_message *slot = (struct hv_message *)(simp_page[vp] + 256 * sint);
  if (slot->message_type == 0) return 0;
  memcpy(out, (const void *)slot, sizeof *out);
  int pending = (slot->message_flags & HV_MESSAGE_PENDING) != 0;
  slot->message_type = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the slot is free before EOM */
  if (pending) {
    pending_seen[vp]++;
    eom_writes[vp]++;
    synic_write_eom();
  }
  return 1;
}

u32 synic_scan_events(u32 vp, u32 sint, void (*fn)(u32 vp, u32 flag)) {
  volatile u64 *words = (volatile u64 *)(siefp_page[vp] + 256 * sint);
  u32 cleared = 0;
  for (u32 w = 0; w < 256 / 8; ++w) {
    if (words[w] == 0) continue;
    u64 bits = __atomic_exchange_n(&words[w], 0, __ATOMIC_SEQ_CST);
    while (bits) {
      u32 bit = (u32)__builtin_ctzl(bits);
      bits &= bits - 1;
      ++cleared;
      if (fn) fn(vp, w * 64 + bit);
    }
  }
  return cleared;
}
