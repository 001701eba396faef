// The PC memory map a loader hands to an OS (ACPI 6.3 section 15
// "System Address Map Interfaces", the e820 address range types): RAM from
// 0 to the RAM size, with ranges the platform keeps for itself carved out.
// Later carve-outs win where they overlap earlier ones; adjacent ranges of
// the same type merge; the result is sorted and never overlaps.
// Not supported: RAM above a hole (the PC platform's RAM is one range from
// 0), persistent memory types.
#pragma once

#include <cstdint>
#include <vector>

namespace softsynic::emu {

// Open enum: the values are the ones Linux and ACPI know.
enum class E820Type : std::uint32_t { kRam = 1, kReserved = 2, kAcpi = 3, kNvs = 4, kUnusable = 5 };

struct E820Entry {
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
  E820Type type = E820Type::kRam;
  bool operator==(const E820Entry&) const = default;
};

// The legacy hole every PC has: the EBDA and the VGA/BIOS area below 1 MiB.
inline constexpr E820Entry kLegacyBiosHole{0x9'FC00, 0x10'0000 - 0x9'FC00, E820Type::kReserved};

// RAM [0, ram_bytes) with `carve_outs` applied in order.
std::vector<E820Entry> build_e820(std::uint64_t ram_bytes, const std::vector<E820Entry>& carve_outs);

}  // namespace softsynic::emu
