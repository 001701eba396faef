/* Architecture-independent guest side of the Hyper-V SynIC for the test
   guests: hypercall codes and status values, the message and post-message
   layouts, the reference emulator's host ports, and the helpers built on a
   hypercall (post, signal, host commands) and on the SIMP/SIEFP pages
   (take a message, scan event flags). Numbers from the TLFS (see the
   project's facts sheet).
   Each architecture supplies hv_hypercall() (its hypercall instruction or
   page) and synic_write_eom() (EOM MSR or the EOM register). */
#ifndef SOFTSYNIC_GUEST_HV_GUEST_H
#define SOFTSYNIC_GUEST_HV_GUEST_H

#include "common/guest_libc.h"

#define MAX_VPS 8
#define PAGE_SIZE 4096
#define PAGE_ALIGNED __attribute__((aligned(PAGE_SIZE), section(".pages")))

/* Host ports of the reference emulator (emu/host_ports.h). */
#define ECHO_CONNECTION_ID 0x2001
#define EVENT_CONNECTION_ID 0x2002
#define COMMAND_CONNECTION_ID 0x2003
#define REPLY_SINT 2
#define HOST_COMMAND_BURST 1
#define HOST_COMMAND_SIGNAL 2
struct host_command {
  u32 op, target_vp, sint, count, message_type, flag;
};

#define HV_SINT_MASKED (1ul << 16)
#define HV_SINT_AUTO_EOI (1ul << 17)

#define HVCALL_GET_VP_REGISTERS 0x0050
#define HVCALL_SET_VP_REGISTERS 0x0051
#define HVCALL_POST_MESSAGE 0x005C
#define HVCALL_SIGNAL_EVENT 0x005D
#define HV_HYPERCALL_FAST (1ul << 16)
#define HV_HYPERCALL_REP_COUNT(n) ((u64)(n) << 32)

#define HV_STATUS_SUCCESS 0x0
#define HV_STATUS_INVALID_HYPERCALL_CODE 0x2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x3
#define HV_STATUS_INVALID_ALIGNMENT 0x4
#define HV_STATUS_INVALID_PARAMETER 0x5
#define HV_STATUS_INVALID_CONNECTION_ID 0x12
#define HV_STATUS_UNKNOWN_REGISTER_NAME 0x87

#define HV_MESSAGE_PENDING 0x1
#define HV_MESSAGE_PAYLOAD_MAX 240

struct hv_message {
  volatile u32 message_type;
  u8 payload_size;
  volatile u8 message_flags;
  u16 reserved;
  u64 origination_id;
  u8 payload[HV_MESSAGE_PAYLOAD_MAX];
};

struct hv_post_message_input {
  u32 connection_id;
  u32 reserved;
  u32 message_type;
  u32 payload_size;
  u8 payload[HV_MESSAGE_PAYLOAD_MAX];
};

/* Synthetic timers: STIMERn_CONFIG bits and the TimerExpired message
   (TLFS "Synthetic Timers"). COUNT and TIME_REF_COUNT are in 100 ns. */
#define STIMER_ENABLE (1ul << 0)
#define STIMER_PERIODIC (1ul << 1)
#define STIMER_LAZY (1ul << 2)
#define STIMER_AUTO_ENABLE (1ul << 3)
#define STIMER_VECTOR(v) ((u64)(v) << 4)
#define STIMER_DIRECT (1ul << 12)
#define STIMER_SINT(s) ((u64)(s) << 16)
#define HV_MESSAGE_TIMER_EXPIRED 0x80000010u
struct hv_timer_message_payload {
  u32 timer_index;
  u32 reserved;
  u64 expiration_time;
  u64 delivery_time;
};

/* Monitor pages (TLFS "Monitored Notification Facility"): the trigger
   words of the child-to-parent page, and the host command port's monitor
   ops (emu/host_ports.h HostMonitorCommand / HostMonitorReply). */
struct hv_monitor_trigger_group {
  volatile u32 pending;
  volatile u32 armed;
};
struct hv_monitor_page_head {
  volatile u64 trigger_state; /* bits 0-3: groups enabled */
  struct hv_monitor_trigger_group group[4];
};
#define HOST_COMMAND_MONITOR_PAGE 3
#define HOST_COMMAND_MONITOR_REGISTER 4
#define HOST_COMMAND_MONITOR_QUERY 5
#define MONITOR_REPLY_TYPE 0x4D
#define MONITOR_REPLY_IDS 32
struct host_monitor_command {
  u32 op, first_id, id_count, latency_100ns;
  u64 page_gpa, reserved;
};
struct host_monitor_reply {
  u32 status, reserved;
  u64 port_signals, signals, unknown_ids, cancelled, undelivered, write_reports;
  u32 id_counts[MONITOR_REPLY_IDS];
};

/* Per-VP pages. */
extern u8 simp_page[MAX_VPS][PAGE_SIZE];
extern u8 siefp_page[MAX_VPS][PAGE_SIZE];
extern u8 input_page[MAX_VPS][PAGE_SIZE];
extern u8 output_page[MAX_VPS][PAGE_SIZE];

/* EOM writes made by synic_take_message, per VP. */
extern volatile u32 eom_writes[MAX_VPS];
/* Messages seen with message_pending set, per VP. */
extern volatile u32 pending_seen[MAX_VPS];

/* The architecture's: a hypercall with the control value and the input
   and output GPAs (or fast input); returns the result value. */
u64 hv_hypercall(u64 control, u64 input, u64 output);
/* The architecture's: end of message. */
void synic_write_eom(void);

u16 hv_post_message(u32 vp, u32 connection_id, u32 message_type, const void *payload, u32 size);
u16 hv_signal_event_fast(u32 connection_id, u16 flag);
u16 hv_signal_event_slow(u32 vp, u32 connection_id, u16 flag);
/* Asks the host command port for a burst of `count` messages or `count`
   event signals aimed at (target_vp, sint). */
u16 host_command(u32 vp, u32 op, u32 target_vp, u32 sint, u32 count, u32 message_type, u32 flag);

/* Takes the message in `sint`'s slot, if any: copies it to *out, frees the
   slot and writes EOM only if message_pending was set. 1 if taken. */
int synic_take_message(u32 vp, u32 sint, struct hv_message *out);
/* Test-and-clears every set flag of `sint`'s event slot, calling fn(flag)
   for each. Returns the number cleared. */
u32 synic_scan_events(u32 vp, u32 sint, void (*fn)(u32 vp, u32 flag));

#endif
