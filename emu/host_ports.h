// The runner's built-in host ports, the guest programs' partners. Guests
// reach them with HvPostMessage / HvSignalEvent on these connection ids (the
// guest runtimes copy the numbers). Replies go to the calling VP's SINT
// kReplySint (the VMBus SINT).
//
// - Echo (message port): replies with the same message type and payload.
// - Event (event port): HvSignalEvent(flag) sets the same flag in the
//   caller's SIEFP slot for kReplySint (a host-to-guest event) and raises
//   the SINT when the bit went 0 -> 1.
// - Command (message port): the payload is a HostCommand or, for the
//   monitor ops, a HostMonitorCommand; see below.
#pragma once

#include <cstdint>

namespace softsynic::emu {

inline constexpr std::uint32_t kEchoConnectionId = 0x2001;
inline constexpr std::uint32_t kEventConnectionId = 0x2002;
inline constexpr std::uint32_t kCommandConnectionId = 0x2003;
inline constexpr std::uint8_t kReplySint = 2;

// Command port payload (little-endian u32s).
//  op burst: posts `count` messages of type `message_type` to (target_vp,
//    sint); message i carries {u32 i, u32 sender vp} as payload.
//  op signal: sets event flag `flag` for (target_vp, sint) `count` times
//    (later ones coalesce while the guest has not cleared it).
enum class HostCommandOp : std::uint32_t {
  burst = 1,
  signal = 2,
  monitor_page = 3,
  monitor_register = 4,
  monitor_query = 5,
};
struct HostCommand {
  std::uint32_t op;
  std::uint32_t target_vp;
  std::uint32_t sint;
  std::uint32_t count;
  std::uint32_t message_type;
  std::uint32_t flag;
};
static_assert(sizeof(HostCommand) == 24);

// Monitor pages (docs/MONITOR.md), VTL 0. Each op answers with one
// message of type kMonitorReplyType on the sender's kReplySint carrying a
// HostMonitorReply.
//  op monitor_page: sets the monitor page pair to child-to-parent =
//    page_gpa, parent-to-child = none (0); page_gpa 0 removes the page.
//  op monitor_register: registers monitor ids [first_id, first_id +
//    id_count) with latency_100ns against the host's counting port (one
//    counter per id); the signals run on the sender's VP.
//  op monitor_query: reports the counters; id_counts[i] is id first_id + i.
// status: 0, or the softsynic error code (synic/errors.h) of the first
// failure (an id already registered, a bad page, ...). No monitor in the
// machine: every op answers kMonitorUnavailable; a payload shorter than
// HostMonitorCommand: kMonitorBadCommand.
struct HostMonitorCommand {
  std::uint32_t op;
  std::uint32_t first_id;
  std::uint32_t id_count;
  std::uint32_t latency_100ns;
  std::uint64_t page_gpa;
  std::uint64_t reserved;
};
static_assert(sizeof(HostMonitorCommand) == 32);

inline constexpr std::uint32_t kMonitorReplyType = 0x4D;
// The connection id a monitor id's GuestEvent names (the counting port
// does not look at it).
inline constexpr std::uint32_t kMonitorConnectionIdBase = 0x3000;
inline constexpr std::uint32_t kMonitorUnavailable = 0xFFFF;
inline constexpr std::uint32_t kMonitorBadCommand = 0xFFFE;
inline constexpr std::uint32_t kMonitorReplyIds = 32;
struct HostMonitorReply {
  std::uint32_t status;
  std::uint32_t reserved;
  std::uint64_t port_signals;  // signals the counting port received, all ids
  std::uint64_t signals;       // MonitorStats (monitor_access.h)
  std::uint64_t unknown_ids;
  std::uint64_t cancelled;
  std::uint64_t undelivered;
  std::uint64_t write_reports;
  std::uint32_t id_counts[kMonitorReplyIds];
};
static_assert(sizeof(HostMonitorReply) == 184);

}  // namespace softsynic::emu
