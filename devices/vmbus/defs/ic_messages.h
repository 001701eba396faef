// Hyper-V integration components (ICs): the class GUIDs a host offers for
// heartbeat, shutdown and time sync, this project's instance GUIDs for them,
// and the wire layout of IC messages as they travel in the payload of an
// in-band VMBus packet:
//
//   offset 0   PipeHeader   (8)   flags, bytes that follow it
//   offset 8   IcHeader     (20)  framework version, message type, message
//                                 version, body size, status, transaction
//                                 id, flags (transaction | request/response)
//   offset 28  body               IcNegotiate + versions, HeartbeatData,
//                                 ShutdownData, TimeSyncData or
//                                 TimeSyncRefData (time sync 4.0 and later)
//
// The guest answers a request in place: the same bytes and length, with
// the response flag, a status and the body it changed (the negotiated
// versions, the heartbeat sequence number plus one).
// Layouts are packed, little-endian. Numbers and layouts as the public
// guest drivers define them.
// Not supported: KVP, VSS and file copy (message types named only).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "devices/vmbus/defs/guid.h"

namespace softsynic::vmbus {

// ---- offers ----

// {57164f39-9115-4e78-ab55-382f3bd5422d}
inline constexpr Guid kHeartbeatInterfaceId =
    Guid::from_parts(0x57164f39, 0x9115, 0x4e78, {0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d});
// {0e0b6031-5213-4934-818b-38d90ced39db}
inline constexpr Guid kShutdownInterfaceId =
    Guid::from_parts(0x0e0b6031, 0x5213, 0x4934, {0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb});
// {9527e630-d0ae-497b-adce-e80ab0175caf}
inline constexpr Guid kTimeSyncInterfaceId =
    Guid::from_parts(0x9527e630, 0xd0ae, 0x497b, {0xad, 0xce, 0xe8, 0x0a, 0xb0, 0x17, 0x5c, 0xaf});

// Instance GUIDs: this project's own, in the family of the echo device's
// instance (5f0c9a6e-2b1d-4e57-9a3c-00000000000N).
inline constexpr Guid kHeartbeatInstanceId =
    Guid::from_parts(0x5f0c9a6e, 0x2b1d, 0x4e57, {0x9a, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02});
inline constexpr Guid kShutdownInstanceId =
    Guid::from_parts(0x5f0c9a6e, 0x2b1d, 0x4e57, {0x9a, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03});
inline constexpr Guid kTimeSyncInstanceId =
    Guid::from_parts(0x5f0c9a6e, 0x2b1d, 0x4e57, {0x9a, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04});

// ---- versions ----

// An IC version as the wire has it: major then minor, 16 bits each.
class IcVersion {
 public:
  constexpr IcVersion() = default;
  constexpr IcVersion(std::uint16_t major, std::uint16_t minor) : major_(major), minor_(minor) {}
  constexpr std::uint16_t major() const { return major_; }
  constexpr std::uint16_t minor() const { return minor_; }
  // major << 16 | minor: orders versions.
  constexpr std::uint32_t ordinal() const { return (std::uint32_t{major_} << 16) | minor_; }
  std::string to_string() const { return std::to_string(major_) + "." + std::to_string(minor_); }
  friend constexpr bool operator==(IcVersion, IcVersion) = default;

 private:
  std::uint16_t major_ = 0;
  std::uint16_t minor_ = 0;
};
static_assert(sizeof(IcVersion) == 4);

// Framework versions: 1.0 (Windows Server 2008 hosts) and 3.0.
inline constexpr IcVersion kIcFramework1{1, 0};
inline constexpr IcVersion kIcFramework3{3, 0};
inline constexpr std::array kIcFrameworkVersions = {kIcFramework3, kIcFramework1};

// Service versions this host offers, newest first: the ones Linux 6.1's
// hv_utils accepts and whose messages the host writes.
inline constexpr std::array kHeartbeatVersions = {IcVersion{3, 0}, IcVersion{1, 0}};
inline constexpr std::array kShutdownVersions = {IcVersion{3, 2}, IcVersion{3, 1}, IcVersion{3, 0}, IcVersion{1, 0}};
// 4.0 and later carry TimeSyncRefData; older ones TimeSyncData.
inline constexpr IcVersion kTimeSyncRefVersion{4, 0};
inline constexpr std::array kTimeSyncVersions = {IcVersion{4, 0}, IcVersion{3, 0}, IcVersion{1, 0}};

// A negotiate message names at most this many versions of each kind
// (guests reject more).
inline constexpr std::size_t kIcMaxNegotiateVersions = 100;

// ---- header ----

// Open enum: the guest may answer with any number.
enum class IcMessageType : std::uint16_t {
  negotiate = 0,
  heartbeat = 1,
  kvp_exchange = 2,
  shutdown = 3,
  time_sync = 4,
  vss = 5,
  file_copy = 7,
};

struct IcMessageName {
  IcMessageType type;
  std::string_view name;
};

inline constexpr IcMessageName kIcMessageNames[] = {
    {IcMessageType::negotiate, "NEGOTIATE"}, {IcMessageType::heartbeat, "HEARTBEAT"},
    {IcMessageType::kvp_exchange, "KVP_EXCHANGE"}, {IcMessageType::shutdown, "SHUTDOWN"},
    {IcMessageType::time_sync, "TIMESYNC"}, {IcMessageType::vss, "VSS"},
    {IcMessageType::file_copy, "FCOPY"},
};

constexpr std::string_view ic_message_name(std::uint16_t type) {
  for (const auto& n : kIcMessageNames)
    if (static_cast<std::uint16_t>(n.type) == type) return n.name;
  return "UNKNOWN";
}

// IcHeader::flags.
inline constexpr std::uint8_t kIcFlagTransaction = 0x1;
inline constexpr std::uint8_t kIcFlagRequest = 0x2;
inline constexpr std::uint8_t kIcFlagResponse = 0x4;

// IcHeader::status: HRESULTs.
inline constexpr std::uint32_t kIcStatusOk = 0x00000000;
inline constexpr std::uint32_t kIcStatusFail = 0x80004005;

#pragma pack(push, 1)

struct PipeHeader {
  std::uint32_t flags;
  std::uint32_t message_size;  // bytes after this header
};
static_assert(sizeof(PipeHeader) == 8);

struct IcHeader {
  IcVersion framework;
  std::uint16_t message_type;  // IcMessageType
  IcVersion message_version;
  std::uint16_t message_size;  // body bytes after this header
  std::uint32_t status;
  std::uint8_t transaction_id;
  std::uint8_t flags;
  std::uint8_t reserved[2];
};
static_assert(sizeof(IcHeader) == 20);

inline constexpr std::size_t kIcHeaderOffset = sizeof(PipeHeader);
inline constexpr std::size_t kIcBodyOffset = sizeof(PipeHeader) + sizeof(IcHeader);
static_assert(kIcBodyOffset == 28);

// Negotiate body: counts, then framework_count framework versions followed
// by service_count service versions. A guest's answer names one of each
// (counts 1 and 1) or none (counts 0 and 0: no common version).
struct IcNegotiate {
  std::uint16_t framework_count;
  std::uint16_t service_count;
  std::uint32_t reserved;
};
static_assert(sizeof(IcNegotiate) == 8);

struct HeartbeatData {
  std::uint64_t sequence;  // the guest answers with sequence + 1
  std::uint32_t reserved[8];
};
static_assert(sizeof(HeartbeatData) == 40);

// ShutdownData::flags: bit 0 "force"; 0 power off, 2 restart, 4 hibernate.
inline constexpr std::uint32_t kShutdownFlagForce = 0x1;
inline constexpr std::uint32_t kShutdownFlagRestart = 0x2;
inline constexpr std::uint32_t kShutdownFlagHibernate = 0x4;

struct ShutdownData {
  std::uint32_t reason_code;
  std::uint32_t timeout_seconds;
  std::uint32_t flags;
  std::uint8_t display_message[2048];
};
static_assert(sizeof(ShutdownData) == 2060);

// Time sync flags: the first sample after the channel opens says "sync"
// (the guest sets its clock), later ones "sample" (a hint).
inline constexpr std::uint8_t kTimeSyncFlagProbe = 0x0;
inline constexpr std::uint8_t kTimeSyncFlagSync = 0x1;
inline constexpr std::uint8_t kTimeSyncFlagSample = 0x2;

// Host (parent) time: 100 ns units since 1601-01-01 UTC; this many of them
// lie between 1601 and the Unix epoch.
inline constexpr std::uint64_t kUnixEpochIn1601Units = 116444736000000000ull;

// Service versions below 4.0.
struct TimeSyncData {
  std::uint64_t parent_time;
  std::uint64_t child_time;
  std::uint64_t round_trip_time;
  std::uint8_t flags;
};
static_assert(sizeof(TimeSyncData) == 25);

// Service version 4.0: with the partition reference time of the sample.
struct TimeSyncRefData {
  std::uint64_t parent_time;
  std::uint64_t reference_time;  // TIME_REF_COUNT when parent_time was read
  std::uint8_t flags;
  std::uint8_t leap_flags;
  std::uint8_t stratum;
  std::uint8_t reserved[3];
};
static_assert(sizeof(TimeSyncRefData) == 22);

#pragma pack(pop)

}  // namespace softsynic::vmbus
