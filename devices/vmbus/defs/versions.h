// VMBus protocol versions (major << 16 | minor) as the host and guest
// negotiate them in INITIATE_CONTACT, newest first, and the connection
// constants: the message connection ids (1 below 5.0, 4 from 5.0), the
// event connection id the oldest protocols signal on, the SINT the host
// answers on and the SynIC message type of control messages.
// Not supported: versions after 5.3 (the host refuses them, as a host that
// does not know them would).
#pragma once

#include <cstdint>
#include <string_view>

namespace softsynic::vmbus {

constexpr std::uint32_t make_version(std::uint16_t major, std::uint16_t minor) {
  return (std::uint32_t{major} << 16) | minor;
}

inline constexpr std::uint32_t kVersionWs2008 = make_version(0, 13);
inline constexpr std::uint32_t kVersionWin7 = make_version(1, 1);
inline constexpr std::uint32_t kVersionWin8 = make_version(2, 4);
inline constexpr std::uint32_t kVersionWin8_1 = make_version(3, 0);
inline constexpr std::uint32_t kVersionWin10 = make_version(4, 0);
inline constexpr std::uint32_t kVersionWin10V4_1 = make_version(4, 1);
inline constexpr std::uint32_t kVersionWin10V5 = make_version(5, 0);
inline constexpr std::uint32_t kVersionWin10V5_1 = make_version(5, 1);
inline constexpr std::uint32_t kVersionWin10V5_2 = make_version(5, 2);
inline constexpr std::uint32_t kVersionWin10V5_3 = make_version(5, 3);

struct VersionName {
  std::uint32_t version;
  std::string_view name;
};

// Every version the host accepts, newest first.
inline constexpr VersionName kKnownVersions[] = {
    {kVersionWin10V5_3, "WIN10_V5_3"}, {kVersionWin10V5_2, "WIN10_V5_2"}, {kVersionWin10V5_1, "WIN10_V5_1"},
    {kVersionWin10V5, "WIN10_V5"},     {kVersionWin10V4_1, "WIN10_V4_1"}, {kVersionWin10, "WIN10"},
    {kVersionWin8_1, "WIN8_1"},        {kVersionWin8, "WIN8"},            {kVersionWin7, "WIN7"},
    {kVersionWs2008, "WS2008"},
};

constexpr std::string_view version_name(std::uint32_t version) {
  for (const auto& v : kKnownVersions)
    if (v.version == version) return v.name;
  return "unknown";
}

// Guests post control messages here: connection 1 below 5.0; from 5.0 the
// INITIATE_CONTACT goes to 4 and the VERSION_RESPONSE names the id to use.
inline constexpr std::uint32_t kMessageConnectionId = 1;
inline constexpr std::uint32_t kMessageConnectionIdV5 = 4;
// Channel signals of protocols before WIN7 share this event connection.
inline constexpr std::uint32_t kEventConnectionId = 2;
// Host-to-guest control messages and channel event flags use this SINT.
inline constexpr std::uint8_t kVmbusSint = 2;
// SynIC message type carrying a VMBus control message.
inline constexpr std::uint32_t kSynicMessageTypeChannel = 1;

}  // namespace softsynic::vmbus
