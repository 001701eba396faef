// SynicObserver: a read-only view of every event that crosses the SynIC, for
// logs, recordings and timelines. Optional; the partition calls it when set.
//
// Thread-safety: called from VP strands and from host threads, possibly at
// the same time: implementations must be thread-safe and quick.
#pragma once

#include <cstdint>
#include <span>

#include "synic/defs/status.h"
#include "synic/defs/vtl.h"

namespace softsynic {

enum class SynicEventKind {
  host_post_queued,       // host post_message accepted into the SINT queue
  host_post_rejected,     // host post_message refused (error in `error`)
  message_delivered,      // a message was written into the SIMP slot
  message_pending_set,    // slot busy: message_pending set in it
  interrupt_requested,    // the SynIC asked the interrupt sink for `vector`
  eom,                    // guest wrote EOM
  guest_post_message,     // guest HvPostMessage handled (status in `status`)
  guest_signal_event,     // guest HvSignalEvent handled
  event_flag_set,         // a host guest-event-port signal set `flag` (raised: interrupt)
  register_write,         // a SynIC register was written (name in `reg`, value)
};

struct SynicEvent {
  SynicEventKind kind;
  Vtl vtl = 0;
  std::uint32_t vp = 0;
  std::uint8_t sint = 0;
  std::uint32_t connection_id = 0;
  std::uint32_t message_type = 0;
  std::uint32_t vector = 0;
  bool auto_eoi = false;
  std::uint16_t flag = 0;
  bool raised = false;
  HvStatus status = HvStatus::success;
  int error = 0;            // softsynic::Error value for host rejections
  std::uint32_t reg = 0;    // HvRegisterName
  std::uint64_t value = 0;
  std::span<const std::byte> payload;  // valid only during the call
};

class SynicObserver {
 public:
  virtual ~SynicObserver() = default;
  virtual void on_synic_event(const SynicEvent& event) = 0;
};

}  // namespace softsynic
