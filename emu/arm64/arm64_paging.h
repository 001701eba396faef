// ARM64 virtual-to-physical translation for the accesses the engine makes
// on the guest's behalf (the HVC instruction word, the debugger's memory
// view), through the guest's own stage 1 tables as the EL1&0 regime walks
// them (Arm ARM D8 "The AArch64 Virtual Memory System Architecture":
// "Translation table walks", "Translation table descriptor formats").
//
// Supported: the MMU off (SCTLR_EL1.M clear: virtual = physical); the 4 KiB
// granule with TTBR0_EL1 below and TTBR1_EL1 above (VA bit 55 selects),
// input sizes from TCR_EL1.T0SZ/T1SZ (start level 0 to 2), table, block
// (1 GiB, 2 MiB) and page descriptors, output addresses up to 48 bits,
// TCR_EL1.EPD0/EPD1. Not supported (no translation): the 16 KiB and 64 KiB
// granules, 52-bit addresses, permission checks (the engine's reads follow
// instructions the CPU already fetched), top-byte-ignore, hardware access
// flag updates, stage 2.
//
// Threading: plain functions and value types; run them on the VP's thread.
#pragma once

#include <cstdint>
#include <optional>

namespace softsynic {
class GuestMemory;
}

namespace softsynic::emu::arm64 {

// The system registers a walk depends on.
struct Arm64PagingState {
  std::uint64_t sctlr = 0;  // SCTLR_EL1
  std::uint64_t tcr = 0;    // TCR_EL1
  std::uint64_t ttbr0 = 0;  // TTBR0_EL1
  std::uint64_t ttbr1 = 0;  // TTBR1_EL1
};

// The physical address of `va`, or nothing when the walk fails or the
// configuration is not supported. A table read outside RAM fails.
std::optional<std::uint64_t> arm64_translate(GuestMemory& ram, const Arm64PagingState& state, std::uint64_t va);

}  // namespace softsynic::emu::arm64
