// Finding RDMSR/WRMSR without a hook on every instruction (Unicorn cannot
// hook them: UC_HOOK_INSN takes only IN, OUT, SYSCALL, SYSENTER and CPUID).
// Each newly seen translated block is scanned for the byte pairs 0F 32
// (RDMSR) and 0F 30 (WRMSR); every candidate gets a code hook bounded to its
// address. A candidate that lies inside another instruction never starts an
// instruction, so its hook never fires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace softsynic::emu::x86 {

inline constexpr std::uint8_t kTwoByteEscape = 0x0F;
inline constexpr std::uint8_t kWrmsrOpcode = 0x30;
inline constexpr std::uint8_t kRdmsrOpcode = 0x32;

// Offsets in `code` where 0F 30 or 0F 32 starts, in increasing order.
std::vector<std::size_t> find_msr_candidates(std::span<const std::uint8_t> code);

}  // namespace softsynic::emu::x86
