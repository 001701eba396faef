// The runner's built-in host ports, the guest programs' partners. Guests
// reach them with HvPostMessage / HvSignalEvent on these connection ids (the
// guest runtimes copy the numbers). Replies go to the calling VP's SINT
// kReplySint (the VMBus SINT).
//
// - Echo (message port): replies with the same message type and payload.
// - Event (event port): HvSignalEvent(flag) sets the same flag in the
//   caller's SIEFP slot for kReplySint (a host-to-guest event) and raises
//   the SINT when the bit went 0 -> 1.
// - Command (message port): the payload is a HostCommand; see below.
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
enum class HostCommandOp : std::uint32_t { burst = 1, signal = 2 };
struct HostCommand {
  std::uint32_t op;
  std::uint32_t target_vp;
  std::uint32_t sint;
  std::uint32_t count;
  std::uint32_t message_type;
  std::uint32_t flag;
};
static_assert(sizeof(HostCommand) == 24);

}  // namespace softsynic::emu
