// The length of one x86-64 instruction, so that a scan of a translated
// block can walk it from its first instruction and know the exact start of
// every instruction the engine traps (RDMSR 0F 32, WRMSR 0F 30, RDTSC 0F 31,
// RDTSCP 0F 01 F9, VMCALL 0F 01 C1, VMMCALL 0F 01 D9) instead of every
// 0F 3x byte pair, some of which lie inside other instructions. The scan
// patches what it finds in its view of guest code, so a wrong length would
// corrupt the guest: whatever is not surely known is refused (nullopt), and
// the caller treats the rest of the block as undecoded.
//
// Encoding per Intel SDM vol. 2, chapter 2 "Instruction Format" (legacy and
// REX prefixes, ModRM, SIB, displacement, immediates) and appendix A
// "Opcode Map" (one-byte, 0F, 0F 38 and 0F 3A maps, the opcode groups).
//
// Supported: 64-bit mode only; legacy prefixes in any order and number, a
// REX right before the opcode, the one-byte map, the legacy-encoded 0F,
// 0F 38 and 0F 3A maps (SSE to SSE4.2, AES, SHA, GFNI, 3DNow!, system
// instructions), 32-bit style ModRM/SIB addressing under a 67 prefix.
// Refused (nullopt): 16- and 32-bit modes' decoding (not decoded at all);
// VEX, EVEX and XOP (C4, C5, 62, 8F /1-7), which Unicorn 2.1.1's TCG
// (QEMU 5.0) does not run; opcodes invalid in 64-bit mode, undefined or
// reserved encodings and group members; a REX followed by a prefix or by
// another REX (hardware ignores it, QEMU 5.0 applies it); a 66 prefix on
// E8, E9 and 0F 80-8F (Intel and AMD take different displacements); 0F 78
// and 79 with a 66, F2 or F3 prefix (SSE4a's EXTRQ/INSERTQ take two
// immediates); both F2 and F3 on a 0F-map opcode; UD0 and UD1; anything
// longer than 15 bytes or running past the end of the given bytes.
//
// Threading: a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace softsynic::emu::x86 {

// The architectural limit on an instruction's length (SDM vol. 2, 2.3.11).
inline constexpr std::size_t kMaxInstructionLength = 15;

// Length in bytes of the 64-bit-mode instruction at code[0], or nullopt when
// it is not surely known (see above): the caller then treats the rest of
// the block as undecoded. Never reads past code.size().
std::optional<std::size_t> x86_64_instruction_length(std::span<const std::uint8_t> code);

}  // namespace softsynic::emu::x86
