// Monitor page layout (TLFS "Monitored Notification Facility": HV_MONITOR_PAGE,
// HV_MONITOR_TRIGGER_STATE, HV_MONITOR_TRIGGER_GROUP, HV_MONITOR_PARAMETER).
// 4096 bytes; monitor id = group * 32 + bit, 128 ids in 4 groups. A guest
// sets a pending bit instead of calling HvSignalEvent. Definitions only; the
// behaviour is in synic/monitor.
// Not supported: nothing here; next_check_time is named but softsynic keeps
// its deadlines to itself and never writes it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "synic/defs/register_values.h"

namespace softsynic {

inline constexpr std::size_t kMonitorPageSize = 4096;
inline constexpr unsigned kMonitorGroupCount = 4;
inline constexpr unsigned kMonitorIdsPerGroup = 32;
inline constexpr unsigned kMonitorIdCount = kMonitorGroupCount * kMonitorIdsPerGroup;  // 128

constexpr unsigned monitor_group(unsigned monitor_id) { return monitor_id / kMonitorIdsPerGroup; }
constexpr unsigned monitor_bit(unsigned monitor_id) { return monitor_id % kMonitorIdsPerGroup; }
constexpr unsigned monitor_id(unsigned group, unsigned bit) { return group * kMonitorIdsPerGroup + bit; }

// Trigger state (u32 at offset 0, followed by a reserved u32): bits 0-3
// enable trigger groups 0-3.
class MonitorTriggerState {
 public:
  constexpr MonitorTriggerState() = default;
  constexpr explicit MonitorTriggerState(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr std::uint8_t group_enable() const { return static_cast<std::uint8_t>(bits::get(raw_, 0, 4)); }
  constexpr bool group_enabled(unsigned group) const { return bits::get(raw_, group, 1); }
  constexpr MonitorTriggerState with_group_enable(std::uint8_t mask) const {
    return MonitorTriggerState(bits::set(raw_, 0, 4, mask));
  }
  friend constexpr bool operator==(MonitorTriggerState, MonitorTriggerState) = default;

 private:
  std::uint64_t raw_ = 0;
};

// One trigger group as the u64 the SynIC updates atomically: pending bits
// 0-31 (set by the guest), armed bits 32-63 (0 = "pending was modified";
// the SynIC sets armed while it defers a notification by its latency).
class MonitorTriggerGroup {
 public:
  constexpr MonitorTriggerGroup() = default;
  constexpr explicit MonitorTriggerGroup(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr std::uint32_t pending() const { return static_cast<std::uint32_t>(bits::get(raw_, 0, 32)); }
  constexpr std::uint32_t armed() const { return static_cast<std::uint32_t>(bits::get(raw_, 32, 32)); }
  constexpr MonitorTriggerGroup with_pending(std::uint32_t v) const { return MonitorTriggerGroup(bits::set(raw_, 0, 32, v)); }
  constexpr MonitorTriggerGroup with_armed(std::uint32_t v) const { return MonitorTriggerGroup(bits::set(raw_, 32, 32, v)); }
  // The u64 mask covering both the pending and the armed bit of `bits32`.
  static constexpr std::uint64_t both(std::uint32_t bits32) {
    return std::uint64_t{bits32} | (std::uint64_t{bits32} << 32);
  }
  friend constexpr bool operator==(MonitorTriggerGroup, MonitorTriggerGroup) = default;

 private:
  std::uint64_t raw_ = 0;
};

// What a monitor id signals: HvSignalEvent(connection_id, flag_number).
struct HvMonitorParameter {
  std::uint32_t connection_id;
  std::uint16_t flag_number;
  std::uint16_t reserved;
};
static_assert(sizeof(HvMonitorParameter) == 8);

struct HvMonitorPage {
  std::uint32_t trigger_state;                    // MonitorTriggerState
  std::uint32_t reserved1;
  std::uint64_t trigger_group[kMonitorGroupCount];  // MonitorTriggerGroup
  std::uint64_t reserved2[3];
  std::int32_t next_check_time[kMonitorGroupCount][kMonitorIdsPerGroup];
  std::uint16_t latency[kMonitorGroupCount][kMonitorIdsPerGroup];  // 100 ns units
  std::uint64_t reserved3[32];
  HvMonitorParameter parameter[kMonitorGroupCount][kMonitorIdsPerGroup];
  std::uint8_t reserved4[1984];
};

inline constexpr std::size_t kMonitorTriggerStateOffset = 0;
inline constexpr std::size_t kMonitorTriggerGroupOffset = 8;
inline constexpr std::size_t kMonitorNextCheckTimeOffset = 64;
inline constexpr std::size_t kMonitorLatencyOffset = 576;
inline constexpr std::size_t kMonitorParameterOffset = 1088;

static_assert(offsetof(HvMonitorPage, trigger_state) == kMonitorTriggerStateOffset);
static_assert(offsetof(HvMonitorPage, trigger_group) == kMonitorTriggerGroupOffset);
static_assert(offsetof(HvMonitorPage, next_check_time) == kMonitorNextCheckTimeOffset);
static_assert(offsetof(HvMonitorPage, latency) == kMonitorLatencyOffset);
static_assert(offsetof(HvMonitorPage, parameter) == kMonitorParameterOffset);
static_assert(sizeof(HvMonitorPage) == kMonitorPageSize);

constexpr std::size_t monitor_trigger_group_offset(unsigned group) { return kMonitorTriggerGroupOffset + group * 8; }
constexpr std::size_t monitor_latency_offset(unsigned monitor_id) { return kMonitorLatencyOffset + monitor_id * 2; }
constexpr std::size_t monitor_parameter_offset(unsigned monitor_id) {
  return kMonitorParameterOffset + monitor_id * sizeof(HvMonitorParameter);
}

}  // namespace softsynic
