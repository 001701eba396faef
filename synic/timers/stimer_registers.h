// Which synthetic timer register a name or an x86-64 MSR denotes (TLFS
// "Synthetic Timer MSRs": STIMER0_CONFIG 0x400000B0 .. STIMER3_COUNT
// 0x400000B7; register names 0x000B0000 .. 0x000B0007).
// Definitions only.
#pragma once

#include <cstdint>
#include <optional>

#include "synic/defs/registers.h"

namespace softsynic {

struct StimerRegister {
  unsigned timer;  // 0..3
  bool count;      // false: CONFIG, true: COUNT
  friend constexpr bool operator==(StimerRegister, StimerRegister) = default;
};

constexpr std::optional<StimerRegister> decode_stimer_register(HvRegisterName name) {
  const auto first = static_cast<std::uint32_t>(HvRegisterName::stimer0_config);
  const auto raw = static_cast<std::uint32_t>(name);
  if (raw < first || raw >= first + 2 * msr::kStimerCount) return std::nullopt;
  return StimerRegister{(raw - first) / 2, (raw - first) % 2 == 1};
}

constexpr std::optional<HvRegisterName> stimer_register_for_msr(std::uint32_t m) {
  if (m < msr::kStimer0Config || m >= msr::kStimer0Config + 2 * msr::kStimerCount) return std::nullopt;
  return HvRegisterName(static_cast<std::uint32_t>(HvRegisterName::stimer0_config) + (m - msr::kStimer0Config));
}

}  // namespace softsynic
