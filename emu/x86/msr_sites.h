// Finding the instructions the engine emulates in place (Unicorn cannot
// hook them: UC_HOOK_INSN takes only IN, OUT, SYSCALL, SYSENTER and CPUID)
// without a hook on every instruction: RDMSR and WRMSR (the SynIC and
// hypervisor MSRs), RDTSC and RDTSCP (a TSC that follows reference time,
// so a run and its replay read the same values). Each newly seen
// translated block is scanned for 0F 32, 0F 30, 0F 31 and 0F 01 F9; every
// candidate gets a code hook bounded to its address. A candidate that lies
// inside another instruction never starts an instruction, so its hook
// never fires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace softsynic::emu::x86 {

inline constexpr std::uint8_t kTwoByteEscape = 0x0F;
inline constexpr std::uint8_t kWrmsrOpcode = 0x30;
inline constexpr std::uint8_t kRdtscOpcode = 0x31;
inline constexpr std::uint8_t kRdmsrOpcode = 0x32;
inline constexpr std::uint8_t kGroup7Opcode = 0x01;
inline constexpr std::uint8_t kRdtscpModrm = 0xF9;  // 0F 01 F9
inline constexpr std::uint8_t kVmcallModrm = 0xC1;  // 0F 01 C1 (Intel)
inline constexpr std::uint8_t kVmmcallModrm = 0xD9; // 0F 01 D9 (AMD)

// hypercall: VMCALL or VMMCALL, found only by decode_patchable_site (an
// unscanned one reaches the engine as #UD).
enum class TrappedInstruction { rdmsr, wrmsr, rdtsc, rdtscp, hypercall };

struct TrappedSite {
  std::size_t offset;
  TrappedInstruction instruction;
  std::size_t length;  // bytes: 2, or 3 for RDTSCP
};

// The site that starts at code[0], if any.
bool decode_trapped_site(std::span<const std::uint8_t> code, TrappedSite& site);

// Like decode_trapped_site, and VMCALL/VMMCALL: the instructions the
// engine emulates in place once it knows that code[0] starts an instruction
// (x86_code_shadow.h).
bool decode_patchable_site(std::span<const std::uint8_t> code, TrappedSite& site);

// Candidate sites in `code`, in increasing order of offset.
std::vector<TrappedSite> find_trapped_sites(std::span<const std::uint8_t> code);

}  // namespace softsynic::emu::x86
