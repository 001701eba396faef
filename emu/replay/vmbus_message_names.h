// VMBus channel management message names, for labelling guest and host
// SynIC messages in timelines and logs. A VMBus control message travels as
// SynIC message type 1 whose payload starts with a 32-bit channel message
// type (then 32 bits of padding). Numbers as the VMBus protocol assigns
// them (public guest drivers' channel message enumerations); 18-21 are
// unused.
// Not supported: decoding the message bodies.
//
// Threading: constexpr tables and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace softsynic::replay {

inline constexpr std::uint32_t kVmbusSynicMessageType = 1;

struct VmbusMessageName {
  std::uint32_t type;
  std::string_view name;
};

inline constexpr VmbusMessageName kVmbusMessageNames[] = {
    {0, "INVALID"},
    {1, "OFFERCHANNEL"},
    {2, "RESCIND_CHANNELOFFER"},
    {3, "REQUESTOFFERS"},
    {4, "ALLOFFERS_DELIVERED"},
    {5, "OPENCHANNEL"},
    {6, "OPENCHANNEL_RESULT"},
    {7, "CLOSECHANNEL"},
    {8, "GPADL_HEADER"},
    {9, "GPADL_BODY"},
    {10, "GPADL_CREATED"},
    {11, "GPADL_TEARDOWN"},
    {12, "GPADL_TORNDOWN"},
    {13, "RELID_RELEASED"},
    {14, "INITIATE_CONTACT"},
    {15, "VERSION_RESPONSE"},
    {16, "UNLOAD"},
    {17, "UNLOAD_RESPONSE"},
    {22, "TL_CONNECT_REQUEST"},
    {23, "MODIFYCHANNEL"},
    {24, "TL_CONNECT_RESULT"},
    {25, "MODIFYCHANNEL_RESPONSE"},
};

// "CHANNELMSG_INITIATE_CONTACT" style name without the prefix, when the
// SynIC message is a VMBus control message with a known type.
constexpr std::optional<std::string_view> vmbus_message_name(std::uint32_t synic_type,
                                                             std::span<const std::byte> payload) {
  if (synic_type != kVmbusSynicMessageType || payload.size() < 8) return std::nullopt;
  std::uint32_t t = 0;
  for (unsigned i = 0; i < 4; ++i) t |= std::to_integer<std::uint32_t>(payload[i]) << (8 * i);
  for (const auto& n : kVmbusMessageNames)
    if (n.type == t) return n.name;
  return std::nullopt;
}

}  // namespace softsynic::replay
