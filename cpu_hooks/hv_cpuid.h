// Hyper-V CPUID leaves 0x40000000-0x40000006 built from HvConfig (TLFS
// "Feature and Interface Discovery"). Switched-off features are hidden.
// Not supported: leaves above 0x40000006, nested-virtualization bits.
// CPUID.1:ECX bit 31 ("hypervisor present") is the emulator's own leaf:
// it must set that bit for guests to look at 0x40000000.
//
// Threading: pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "cpu_hooks/hv_config.h"

namespace softsynic {

struct CpuidResult {
  std::uint32_t eax = 0;
  std::uint32_t ebx = 0;
  std::uint32_t ecx = 0;
  std::uint32_t edx = 0;
  friend constexpr bool operator==(const CpuidResult&, const CpuidResult&) = default;
};

// 0x40000003 EDX bit 15: fast hypercall output in XMM registers. Not in
// synic/defs/cpuid.h; advertised together with XMM fast input.
inline constexpr std::uint32_t kCpuidXmmHypercallOutput = 1u << 15;

// The leaf, or nullopt when `leaf` is not one of ours (the emulator then
// answers with its own CPUID). vp_count goes into 0x40000005.
std::optional<CpuidResult> hv_cpuid(const HvConfig& config, std::uint32_t vp_count, std::uint32_t leaf);

}  // namespace softsynic
