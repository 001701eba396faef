// The reference emulator's two debug devices, shared by the runner, the
// engines and the guest runtimes (which copy these numbers: guests include
// no host headers).
//  - Console: the guest writes one character per access.
//  - Exit: the guest writes a 32-bit exit code; the run ends and
//    softsynic-run exits with that code.
// Not architectural: no real machine has these at these addresses.
#pragma once

#include <cstdint>

namespace softsynic::emu {

// x86-64: I/O ports (OUT).
inline constexpr std::uint16_t kX86ConsolePort = 0xE9;  // out dx, al
inline constexpr std::uint16_t kX86ExitPort = 0xF4;     // out dx, eax

// ARM64: one MMIO page; console at +0 (byte store), exit at +4 (32-bit store).
inline constexpr std::uint64_t kArm64DebugMmioBase = 0x0900'0000;
inline constexpr std::uint64_t kArm64DebugMmioSize = 0x1000;
inline constexpr std::uint64_t kArm64ConsoleOffset = 0x0;
inline constexpr std::uint64_t kArm64ExitOffset = 0x4;

}  // namespace softsynic::emu
