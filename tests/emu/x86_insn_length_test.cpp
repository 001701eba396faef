// x86_64_instruction_length: every branch of the decoder over hand-picked
// encodings (prefixes and REX, ModRM/SIB/displacement forms, immediates,
// moffs, the groups, the 0F, 0F 38 and 0F 3A maps, the trapped
// instructions), what it refuses (invalid in 64-bit mode, VEX/EVEX/XOP,
// undefined, ambiguous between decoders, truncated, over 15 bytes), rows
// whose lengths come from GNU objdump 2.40 (instructions assembled with
// `as --64`, and a sample of Debian 12's libc, libcrypto and libunicorn),
// and random bytes (SDM vol. 2, chapter 2 and appendix A).
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "emu/x86/x86_insn_length.h"

using softsynic::emu::x86::kMaxInstructionLength;
using softsynic::emu::x86::x86_64_instruction_length;

namespace {

constexpr int kRefused = 0;

// Bytes in hex ("0f 01 f9") and the length expected, or kRefused.
struct Row {
  std::string_view hex;
  int length;
};

std::vector<std::uint8_t> bytes_of(std::string_view hex) {
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 0; i < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    bytes.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return bytes;
}

std::optional<std::size_t> length_of(const std::vector<std::uint8_t>& bytes) {
  return x86_64_instruction_length(std::span<const std::uint8_t>(bytes));
}

// An accepted row: its length from its bytes and with more after them, and
// refused one byte short. A refused row: refused whatever
// follows it.
void check_rows(std::span<const Row> rows) {
  for (const Row& row : rows) {
    CAPTURE(row.hex);
    std::vector<std::uint8_t> bytes = bytes_of(row.hex);
    if (row.length == kRefused) {
      for (std::uint8_t filler : {0x00, 0x90, 0xCC, 0xFF}) {
        std::vector<std::uint8_t> padded = bytes;
        padded.insert(padded.end(), 16, filler);
        CAPTURE(filler);
        CHECK(length_of(padded) == std::nullopt);
      }
      continue;
    }
    const auto length = static_cast<std::size_t>(row.length);
    REQUIRE(bytes.size() >= length);
    CHECK(length_of(bytes) == length);
    std::vector<std::uint8_t> padded = bytes;
    padded.insert(padded.end(), 16, 0x0F);
    CHECK(length_of(padded) == length);
    bytes.resize(length - 1);
    CHECK(length_of(bytes) == std::nullopt);
  }
}

}  // namespace

TEST_CASE("insn length: the trapped instructions are 2 bytes, RDTSCP, VMCALL and VMMCALL 3") {
  static constexpr Row rows[] = {
      {"0f 32", 2},     // RDMSR
      {"0f 30", 2},     // WRMSR
      {"0f 31", 2},     // RDTSC
      {"0f 01 f9", 3},  // RDTSCP
      {"0f 01 c1", 3},  // VMCALL
      {"0f 01 d9", 3},  // VMMCALL
      {"66 0f 32", 3},  // a prefix belongs to the instruction
      {"48 0f 30", 3},
      {"2e 0f 31", 3},
      {"f3 0f 01 f9", 4},
  };
  check_rows(rows);
}

TEST_CASE("insn length: legacy prefixes in any order and number count in the length") {
  static constexpr Row rows[] = {
      {"90", 1},
      {"66 90", 2},
      {"f3 90", 2},  // PAUSE
      {"66 2e 0f 1f 84 00 00 00 00 00", 10},
      {"66 66 2e 0f 1f 84 00 00 00 00 00", 11},
      {"26 2e 36 3e 64 65 90", 7},
      {"f0 48 0f b1 0e", 5},  // lock cmpxchg %rcx,(%rsi)
      {"64 48 8b 04 25 28 00 00 00", 9},
      {"f3 f2 a4", 3},  // both REP prefixes on a string instruction
      {"f2 e9 00 00 00 00", 6},  // bnd jmp
      {"3e ff e0", 3},  // notrack jmp *%rax
  };
  check_rows(rows);
}

TEST_CASE("insn length: a REX counts only right before the opcode") {
  static constexpr Row rows[] = {
      {"48 89 c3", 3},
      {"66 41 0f 6f 00", 5},
      {"f2 48 0f 38 f1 c1", 6},  // crc32q: REX between the prefix and 0F
      {"4f 9b", 2},              // REX on an instruction that ignores it
      {"48 66 90", kRefused},    // REX then a prefix: hardware drops the REX, QEMU keeps it
      {"40 f3 90", kRefused},
      {"41 2e 8b 00", kRefused},
      {"48 48 89 c0", kRefused},  // REX then REX
  };
  check_rows(rows);
}

TEST_CASE("insn length: 15 bytes is the most, prefixes included") {
  static constexpr Row rows[] = {
      {"66 66 66 66 66 66 2e 0f 1f 84 00 00 00 00 00", 15},
      {"66 66 66 66 66 66 66 2e 0f 1f 84 00 00 00 00 00", kRefused},
      {"66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 15},
      {"66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", kRefused},
      {"26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26", kRefused},
      {"f0 2e 67 46 81 84 e5 00 00 00 00 00 00 00 00", 15},  // lock add $0,0x0(%ebp,%r12d,8)
  };
  check_rows(rows);
}

TEST_CASE("insn length: REX.W mov r64, imm64 is 10 bytes") {
  static constexpr Row rows[] = {
      {"48 b8 88 77 66 55 44 33 22 11", 10},
      {"49 bf 88 77 66 55 44 33 22 11", 10},
      {"66 48 b8 88 77 66 55 44 33 22 11", 11},  // REX.W over 66
      {"b8 78 56 34 12", 5},
      {"41 b8 78 56 34 12", 6},  // REX.B alone keeps imm32
      {"66 b8 34 12", 4},
      {"b0 01", 2},
      {"41 b7 01", 3},
  };
  check_rows(rows);
}

TEST_CASE("insn length: Iz immediates are 2 bytes under 66 without REX.W, else 4") {
  static constexpr Row rows[] = {
      {"04 7f", 2},
      {"05 78 56 34 12", 5},
      {"66 05 34 12", 4},
      {"48 05 78 56 34 12", 6},
      {"66 48 05 78 56 34 12", 7},
      {"68 78 56 34 12", 5},
      {"66 68 34 12", 4},
      {"6a ff", 2},
      {"69 c0 78 56 34 12", 6},
      {"66 69 c0 34 12", 5},
      {"6b c0 05", 3},
      {"80 c0 01", 3},
      {"81 c0 78 56 34 12", 6},
      {"66 81 c0 34 12", 5},
      {"83 c0 01", 3},
      {"48 81 ec 00 01 00 00", 7},
      {"a8 01", 2},
      {"a9 78 56 34 12", 5},
      {"66 a9 34 12", 4},
      {"c0 e0 04", 3},
      {"c1 e0 04", 3},
      {"d0 e0", 2},
      {"d3 e0", 2},
      {"e4 60", 2},
      {"e6 80", 2},
      {"ec", 1},
      {"cd 80", 2},
      {"cc", 1},
      {"f1", 1},
  };
  check_rows(rows);
}

TEST_CASE("insn length: RET, RETF and ENTER take 16-bit immediates whatever the operand size") {
  static constexpr Row rows[] = {
      {"c2 08 00", 3},   {"66 c2 08 00", 4}, {"ca 08 00", 3}, {"48 ca 08 00", 4},
      {"c3", 1},         {"cb", 1},          {"c9", 1},       {"c8 10 00 01", 4},
      {"66 c8 10 00 01", 5},
  };
  check_rows(rows);
}

TEST_CASE("insn length: moffs MOV takes an 8-byte offset, 4 under 67") {
  static constexpr Row rows[] = {
      {"a0 88 77 66 55 44 33 22 11", 9},
      {"48 a1 88 77 66 55 44 33 22 11", 10},
      {"66 a1 88 77 66 55 44 33 22 11", 10},  // 66 sizes the operand, not the offset
      {"a2 88 77 66 55 44 33 22 11", 9},
      {"a3 88 77 66 55 44 33 22 11", 9},
      {"67 a0 44 33 22 11", 6},
      {"67 48 a3 44 33 22 11", 7},
  };
  check_rows(rows);
}

TEST_CASE("insn length: group 3 has an immediate for TEST (/0 and /1) only") {
  static constexpr Row rows[] = {
      {"f6 c0 01", 3},
      {"f6 00 01", 3},
      {"f6 c8 01", 3},  // /1, TEST's alias
      {"f6 d0", 2},     // NOT
      {"f6 f1", 2},     // DIV
      {"f6 44 24 08 01", 5},
      {"f7 c0 78 56 34 12", 6},
      {"66 f7 c0 34 12", 5},
      {"48 f7 c0 78 56 34 12", 7},
      {"f7 45 08 01 00 00 00", 7},
      {"f7 c8 78 56 34 12", 6},
      {"f7 d8", 2},
      {"f7 e1", 2},
      {"48 f7 f9", 3},
      {"f7 9c 24 00 01 00 00", 7},
  };
  check_rows(rows);
}

TEST_CASE("insn length: MOV Ev, Iv is group 11 /0, and C6 F8/C7 F8 are XABORT/XBEGIN") {
  static constexpr Row rows[] = {
      {"c6 00 01", 3},
      {"c6 44 24 08 01", 5},
      {"c7 00 78 56 34 12", 6},
      {"66 c7 00 34 12", 5},
      {"48 c7 c0 ff ff ff ff", 7},
      {"c6 f8 01", 3},
      {"c7 f8 00 00 00 00", 6},
      {"66 c7 f8 00 00", kRefused},  // XBEGIN rel16: a branch under 66
      {"c6 c8 01", kRefused},        // C6 /1 is undefined
      {"c7 08 00 00 00 00", kRefused},
      {"c6 f9 01", kRefused},
  };
  check_rows(rows);
}

TEST_CASE("insn length: groups 1a, 4 and 5 refuse their undefined members, 8F /1-/7 is XOP") {
  static constexpr Row rows[] = {
      {"fe c0", 2},          {"fe c8", 2},          {"fe 00", 2},
      {"fe d0", kRefused},   {"fe 38", kRefused},   {"ff c0", 2},
      {"ff d0", 2},          {"ff 25 00 00 00 00", 6}, {"ff 35 00 00 00 00", 6},
      {"ff 18", 2},          {"ff 2c 24", 3},       {"ff f8", kRefused},
      {"ff 38", kRefused},   {"8f 00", 2},          {"8f c0", 2},
      {"8f 40 08", 3},       {"41 8f 04 24", 4},    {"8f 08", kRefused},
      {"8f e8 78 c2 c1 01", kRefused},  // XOP vprotb
      {"8f e9 78 01 c0", kRefused},
  };
  check_rows(rows);
}

TEST_CASE("insn length: relative branches; 66 on a rel32 branch is refused") {
  static constexpr Row rows[] = {
      {"eb fe", 2},
      {"74 00", 2},
      {"7f 10", 2},
      {"e0 fe", 2},
      {"e2 fe", 2},
      {"e3 fe", 2},
      {"67 e3 fe", 3},
      {"66 eb fe", 3},  // rel8 stays one byte on both
      {"e8 00 00 00 00", 5},
      {"e9 00 00 00 00", 5},
      {"48 e8 00 00 00 00", 6},
      {"0f 84 00 00 00 00", 6},
      {"0f 8f 00 00 00 00", 6},
      {"f2 0f 84 00 00 00 00", 7},
      {"66 e8 00 00", kRefused},  // Intel: rel32, AMD: rel16
      {"66 e9 00 00", kRefused},
      {"66 0f 84 00 00", kRefused},
      {"66 48 0f 85 00 00 00 00", kRefused},
  };
  check_rows(rows);
}

TEST_CASE("insn length: one-byte opcodes invalid in 64-bit mode and VEX/EVEX are refused") {
  static constexpr Row rows[] = {
      {"06", kRefused}, {"07", kRefused}, {"0e", kRefused}, {"16", kRefused}, {"17", kRefused},
      {"1e", kRefused}, {"1f", kRefused}, {"27", kRefused}, {"2f", kRefused}, {"37", kRefused},
      {"3f", kRefused}, {"60", kRefused}, {"61", kRefused}, {"62", kRefused}, {"82 c0 01", kRefused},
      {"9a", kRefused}, {"c4", kRefused}, {"c5", kRefused}, {"ce", kRefused}, {"d4 0a", kRefused},
      {"d5 0a", kRefused}, {"d6", kRefused}, {"ea", kRefused},
      {"c5 f8 77", kRefused},                 // vzeroupper
      {"c4 e2 79 18 00", kRefused},           // vbroadcastss
      {"62 f1 7c 48 10 00", kRefused},        // EVEX vmovups
      {"48 c5 f8 77", kRefused},
  };
  check_rows(rows);
}

TEST_CASE("insn length: x87 escapes take a ModRM and no immediate; FWAIT stands alone") {
  static constexpr Row rows[] = {
      {"d9 c0", 2},       {"dd 04 24", 3}, {"d9 7c 24 fe", 4}, {"df e0", 2},
      {"db 2d 00 00 00 00", 6}, {"de c9", 2}, {"d8 84 24 00 01 00 00", 7}, {"dc 0b", 2},
      {"9b", 1},          {"9b df e0", 1},
  };
  check_rows(rows);
}

TEST_CASE("insn length: ModRM, SIB and displacement forms") {
  static constexpr Row rows[] = {
      {"8b 00", 2},                     // mod 00
      {"8b 04 24", 3},                  // SIB
      {"8b 04 25 78 56 34 12", 7},      // SIB without base: disp32
      {"8b 04 65 78 56 34 12", 7},      // no base, no index
      {"8b 05 78 56 34 12", 6},         // RIP-relative
      {"8b 40 08", 3},                  // disp8
      {"8b 44 24 08", 4},               // SIB + disp8
      {"8b 44 25 08", 4},               // SIB base 101 under mod 01 is RBP + disp8
      {"8b 80 78 56 34 12", 6},         // disp32
      {"8b 84 24 78 56 34 12", 7},      // SIB + disp32
      {"8b 84 25 78 56 34 12", 7},
      {"8b c0", 2},                     // register
      {"41 8b 04 24", 4},               // R12 takes a SIB like RSP
      {"41 8b 45 00", 4},               // R13 needs a displacement like RBP
      {"41 8b 05 78 56 34 12", 7},      // REX.B does not make rm 101 a register
      {"42 8b 04 2d 78 56 34 12", 8},   // index R13, no base
      {"43 8b 04 2c", 4},               // base R12, index R13
      {"8d 04 40", 3},
      {"48 8d 3d 00 00 00 00", 7},
      {"81 05 78 56 34 12 01 00 00 00", 10},  // RIP-relative then an immediate
  };
  check_rows(rows);
}

TEST_CASE("insn length: 67 keeps 32-bit ModRM forms, never the 16-bit ones") {
  static constexpr Row rows[] = {
      {"67 8b 00", 3},
      {"67 8b 04 24", 4},
      {"67 8b 05 78 56 34 12", 7},     // EIP-relative, not [disp16]
      {"67 8b 06", 3},                 // (%esi), not 16-bit [disp16]
      {"67 8b 04 25 78 56 34 12", 8},
      {"67 8b 46 08", 4},
      {"67 8b 86 78 56 34 12", 7},     // disp32, not disp16
  };
  check_rows(rows);
}

TEST_CASE("insn length: 0F opcodes without a ModRM") {
  static constexpr Row rows[] = {
      {"0f 05", 2}, {"0f 06", 2}, {"0f 07", 2}, {"48 0f 07", 3}, {"0f 08", 2}, {"0f 09", 2},
      {"0f 0b", 2}, {"0f 0e", 2}, {"0f 33", 2}, {"0f 34", 2},    {"0f 35", 2}, {"0f 37", 2},
      {"0f 77", 2}, {"0f a0", 2}, {"0f a1", 2}, {"0f a2", 2},    {"0f a8", 2}, {"0f a9", 2},
      {"0f aa", 2}, {"0f c8", 2}, {"49 0f cf", 3},
  };
  check_rows(rows);
}

TEST_CASE("insn length: 0F 01 has a ModRM; its register forms are 3 bytes") {
  static constexpr Row rows[] = {
      {"0f 01 f8", 3},  // SWAPGS
      {"0f 01 ca", 3},  // CLAC
      {"0f 01 cb", 3},  // STAC
      {"0f 01 d0", 3},  // XGETBV
      {"0f 01 d1", 3},  // XSETBV
      {"0f 01 d8", 3},  // VMRUN
      {"0f 01 10", 3},  // LGDT (%rax)
      {"0f 01 15 00 00 00 00", 7},
      {"0f 01 5c 24 08", 5},
      {"0f 01 38", 3},  // INVLPG
      {"0f 00 d8", 3},  // LTR
      {"0f 00 00", 3},
  };
  check_rows(rows);
}

TEST_CASE("insn length: MOV to and from CR/DR ignores mod, so never an address") {
  static constexpr Row rows[] = {
      {"0f 20 c0", 3}, {"0f 22 d8", 3}, {"0f 20 00", 3}, {"0f 22 05", 3},
      {"0f 21 c0", 3}, {"0f 23 f8", 3}, {"44 0f 20 c0", 4}, {"0f 20 84", 3},
  };
  check_rows(rows);
}

TEST_CASE("insn length: 0F opcodes with a ModRM and an imm8") {
  static constexpr Row rows[] = {
      {"0f 70 c1 1b", 4},
      {"66 0f 70 c1 1b", 5},
      {"f2 0f 70 40 08 1b", 6},
      {"0f 71 d0 04", 4},
      {"66 0f 71 e0 04", 5},
      {"66 0f 72 f0 04", 5},
      {"66 0f 73 d8 04", 5},  // PSRLDQ
      {"66 0f 73 f8 04", 5},  // PSLLDQ
      {"0f 73 d0 04", 4},
      {"0f 73 d8 04", kRefused},     // PSRLDQ needs 66
      {"66 0f 71 00 04", kRefused},  // groups 12-14 take registers only
      {"66 0f 71 c0 04", kRefused},  // /0
      {"66 0f 73 e0 04", kRefused},  // /4 is no member of group 14
      {"0f a4 c0 04", 4},
      {"0f ac c0 04", 4},
      {"0f ba e0 04", 4},
      {"0f ba 20 04", 4},
      {"48 0f ba 6c 24 08 3f", 7},
      {"0f ba c0 04", kRefused},  // group 8 /0-/3
      {"0f c2 c1 00", 4},
      {"66 0f c4 c0 01", 5},
      {"66 0f c5 c0 01", 5},
      {"0f c6 c1 00", 4},
      {"0f 0f c1 b4", 4},     // 3DNow! pfmul: the opcode comes last
      {"0f 0f 40 08 b4", 5},
  };
  check_rows(rows);
}

TEST_CASE("insn length: 0F opcodes with a ModRM and no immediate") {
  static constexpr Row rows[] = {
      {"0f b6 c0", 3},       {"48 0f af c1", 4},   {"0f 1f 00", 3},      {"0f 1f 44 00 00", 5},
      {"0f 1f 84 00 00 00 00 00", 8}, {"0f 44 c1", 3}, {"0f 94 c0", 3},  {"0f a3 c8", 3},
      {"0f ae f0", 3},       {"0f ae 38", 3},      {"0f c7 0e", 3},      {"48 0f c7 0e", 4},
      {"0f c7 f0", 3},       {"f3 0f c7 f8", 4},   {"0f 18 08", 3},      {"0f 0d 08", 3},
      {"f3 0f 1e fa", 4},    {"f3 0f b8 c1", 4},   {"66 f3 0f b8 c1", 5}, {"f3 48 0f bc c1", 5},
      {"0f bc c1", 3},       {"0f 10 00", 3},      {"f2 0f 10 00", 4},   {"66 0f 6f 05 00 00 00 00", 8},
      {"66 0f d6 c1", 4},    {"0f 78 c0", 3},      {"0f 79 c0", 3},      {"66 0f 7c c1", 4},
      {"f2 0f f0 00", 4},    {"0f c3 00", 3},      {"66 0f 6c c1", 4},   {"f3 0f e6 c1", 4},
      {"0f 02 c0", 3},       {"0f 40 c1", 3},      {"0f 17 00", 3},      {"0f 2b 00", 3},
  };
  check_rows(rows);
}

TEST_CASE("insn length: undefined or ambiguous 0F opcodes are refused") {
  static constexpr Row rows[] = {
      {"0f 04", kRefused},          {"0f 0a", kRefused},          {"0f 0c", kRefused},
      {"0f 24 c0", kRefused},       {"0f 25 c0", kRefused},       {"0f 26 c0", kRefused},
      {"0f 27 c0", kRefused},       {"0f 36", kRefused},          {"0f 39", kRefused},
      {"0f 3b", kRefused},          {"0f 3c", kRefused},          {"0f 3d", kRefused},
      {"0f 3e", kRefused},          {"0f 3f", kRefused},          {"0f 7a c0", kRefused},
      {"0f 7b c0", kRefused},       {"0f a6 c0", kRefused},       {"0f a7 c0", kRefused},
      {"0f ff c0", kRefused},       // UD0: Intel and AMD differ on its ModRM
      {"0f b9 c0", kRefused},       // UD1
      {"0f b8 c0", kRefused},       // JMPE, not POPCNT, without F3
      {"f2 0f b8 c0", kRefused},
      {"66 0f 78 c0 04 08", kRefused},  // EXTRQ: ModRM, imm8, imm8
      {"f2 0f 78 c1 04 08", kRefused},  // INSERTQ
      {"66 0f 79 c1", kRefused},
      {"f2 0f 79 c1", kRefused},
      {"0f 7c c1", kRefused},       // HADDPD/HADDPS need 66 or F2
      {"0f d0 c1", kRefused},
      {"0f d6 c1", kRefused},
      {"0f e6 c1", kRefused},
      {"0f f0 00", kRefused},
      {"0f 6c c1", kRefused},
      {"f2 f3 0f b8 c1", kRefused},  // which of F2 and F3 wins differs
      {"f3 f2 0f 10 00", kRefused},
  };
  check_rows(rows);
}

TEST_CASE("insn length: 0F 38 takes a ModRM and 0F 3A a ModRM and an imm8") {
  static constexpr Row rows[] = {
      {"66 0f 38 00 c1", 5},        // PSHUFB
      {"0f 38 00 c1", 4},           // PSHUFB mm
      {"66 0f 38 17 c1", 5},        // PTEST
      {"0f 38 f0 00", 4},           // MOVBE
      {"f2 0f 38 f1 c1", 5},        // CRC32
      {"66 f2 0f 38 f1 c1", 6},
      {"66 0f 38 dc c1", 5},        // AESENC
      {"66 0f 38 82 00", 5},        // INVPCID
      {"0f 38 c8 c1", 4},           // SHA1NEXTE
      {"66 0f 38 f6 c1", 5},        // ADCX
      {"66 0f 38 00 44 24 08", 7},
      {"66 0f 3a 0f c1 08", 6},     // PALIGNR
      {"66 0f 3a 16 c0 01", 6},     // PEXTRD
      {"66 48 0f 3a 16 c0 01", 7},  // PEXTRQ
      {"66 0f 3a 44 c1 00", 6},     // PCLMULQDQ
      {"66 0f 3a 63 c1 00", 6},     // PCMPISTRI
      {"66 0f 3a df c1 01", 6},     // AESKEYGENASSIST
      {"0f 3a cc c1 00", 5},        // SHA1RNDS4
      {"66 0f 3a 0f 05 00 00 00 00 08", 10},  // RIP-relative then the imm8
      {"0f 38 50 c1", kRefused},    // VEX-only or undefined
      {"0f 38 ff c1", kRefused},
      {"0f 3a 00 c1 00", kRefused},
      {"66 0f 3a f0 c0 01", kRefused},
  };
  check_rows(rows);
}

TEST_CASE("insn length: an instruction cut short by the end of the bytes is refused") {
  CHECK(x86_64_instruction_length({}) == std::nullopt);
  static constexpr Row rows[] = {
      {"66", kRefused}, {"48", kRefused}, {"f0 f2", kRefused},
      {"b8 00 00 00", kRefused}, {"48 b8 00 00 00 00 00 00 00", kRefused},
      {"e8 00 00 00", kRefused}, {"c8 00 00", kRefused}, {"8b 80 00 00 00", kRefused},
      {"8b", kRefused}, {"8b 04", kRefused}, {"0f", kRefused}, {"0f 01", kRefused}, {"4c 0f", kRefused},
      {"0f 38", kRefused}, {"0f 3a", kRefused}, {"66 0f 3a 0f c1", kRefused},
  };
  for (const Row& row : rows) {
    CAPTURE(row.hex);
    CHECK(length_of(bytes_of(row.hex)) == std::nullopt);
  }
}

// Lengths from objdump: the instructions of a file assembled with `as --64`
// (system, x87, MMX/3DNow!, SSE to SSE4.2, AES, SHA, GFNI and later
// legacy-encoded ones), then a sample of Debian 12's libc, libcrypto and
// libunicorn distinct by mnemonic and length. Across all of those
// libraries' code, gdb's and ls's, the decoder agrees with objdump on every
// instruction it does not refuse (it refuses only VEX and EVEX there).
TEST_CASE("insn length: agrees with objdump on assembled and compiled instructions") {
  static constexpr Row rows[] = {
    {"0f 32", 2},  // rdmsr
    {"0f 30", 2},  // wrmsr
    {"0f 31", 2},  // rdtsc
    {"0f 01 f9", 3},  // rdtscp
    {"0f 01 c1", 3},  // vmcall
    {"0f 01 d9", 3},  // vmmcall
    {"0f 01 c2", 3},  // vmlaunch
    {"0f 01 c3", 3},  // vmresume
    {"0f 01 c4", 3},  // vmxoff
    {"0f 01 d8", 3},  // vmrun
    {"0f 01 da", 3},  // vmload
    {"0f 01 db", 3},  // vmsave
    {"0f 01 dc", 3},  // stgi
    {"0f 01 dd", 3},  // clgi
    {"0f 01 de", 3},  // skinit
    {"0f 01 df", 3},  // invlpga
    {"0f 01 f8", 3},  // swapgs
    {"0f 01 ca", 3},  // clac
    {"0f 01 cb", 3},  // stac
    {"0f 01 d0", 3},  // xgetbv
    {"0f 01 d1", 3},  // xsetbv
    {"0f 01 c8", 3},  // monitor %rax,%ecx,%edx
    {"0f 01 c9", 3},  // mwait %eax,%ecx
    {"0f 01 cf", 3},  // encls
    {"0f 01 d7", 3},  // enclu
    {"0f 01 ee", 3},  // rdpkru
    {"0f 01 ef", 3},  // wrpkru
    {"0f 01 10", 3},  // lgdt (%rax)
    {"0f 01 5c 24 08", 5},  // lidt 0x8(%rsp)
    {"0f 01 05 34 12 00 00", 7},  // sgdt 0x1234(%rip)
    {"0f 01 0c 98", 4},  // sidt (%rax,%rbx,4)
    {"0f 00 d0", 3},  // lldt %ax
    {"0f 00 d8", 3},  // ltr %ax
    {"0f 00 00", 3},  // sldt (%rax)
    {"0f 00 c8", 3},  // str %eax
    {"0f 00 e0", 3},  // verr %ax
    {"0f 00 68 04", 4},  // verw 0x4(%rax)
    {"0f 01 e0", 3},  // smsw %eax
    {"0f 01 f0", 3},  // lmsw %ax
    {"0f 01 38", 3},  // invlpg (%rax)
    {"41 0f 01 bd 78 56 34 12", 8},  // invlpg 0x12345678(%r13)
    {"0f 20 c0", 3},  // mov %cr0,%rax
    {"0f 22 d8", 3},  // mov %rax,%cr3
    {"41 0f 20 e2", 4},  // mov %cr4,%r10
    {"45 0f 22 c0", 4},  // mov %r8,%cr8
    {"0f 21 f8", 3},  // mov %db7,%rax
    {"0f 23 c0", 3},  // mov %rax,%db0
    {"0f a2", 2},  // cpuid
    {"0f 33", 2},  // rdpmc
    {"0f 34", 2},  // sysenter
    {"0f 35", 2},  // sysexitl
    {"0f 05", 2},  // syscall
    {"48 0f 07", 3},  // sysretq
    {"0f 07", 2},  // sysretl
    {"48 cf", 2},  // iretq
    {"cf", 1},  // iret
    {"48 cb", 2},  // lretq
    {"ca 08 00", 3},  // lret $0x8
    {"c2 10 00", 3},  // ret $0x10
    {"f4", 1},  // hlt
    {"fa", 1},  // cli
    {"fb", 1},  // sti
    {"9c", 1},  // pushf
    {"9d", 1},  // popf
    {"cc", 1},  // int3
    {"cd 80", 2},  // int $0x80
    {"f1", 1},  // int1
    {"0f 0b", 2},  // ud2
    {"0f 08", 2},  // invd
    {"0f 09", 2},  // wbinvd
    {"0f 06", 2},  // clts
    {"0f 02 c0", 3},  // lar %eax,%eax
    {"0f 03 c0", 3},  // lsl %eax,%eax
    {"0f ae 27", 3},  // xsave (%rdi)
    {"0f ae 2f", 3},  // xrstor (%rdi)
    {"0f ae 37", 3},  // xsaveopt (%rdi)
    {"0f c7 27", 3},  // xsavec (%rdi)
    {"0f c7 2f", 3},  // xsaves (%rdi)
    {"0f c7 1f", 3},  // xrstors (%rdi)
    {"48 0f ae 27", 4},  // xsave64 (%rdi)
    {"0f ae 07", 3},  // fxsave (%rdi)
    {"48 0f ae 4f 10", 5},  // fxrstor64 0x10(%rdi)
    {"0f ae 54 24 fc", 5},  // ldmxcsr -0x4(%rsp)
    {"0f ae 5c 24 fc", 5},  // stmxcsr -0x4(%rsp)
    {"0f ae e8", 3},  // lfence
    {"0f ae f8", 3},  // sfence
    {"0f ae f0", 3},  // mfence
    {"0f ae 38", 3},  // clflush (%rax)
    {"66 0f ae 38", 4},  // clflushopt (%rax)
    {"66 0f ae 30", 4},  // clwb (%rax)
    {"f3 90", 2},  // pause
    {"0f c7 f0", 3},  // rdrand %eax
    {"48 0f c7 f8", 4},  // rdseed %rax
    {"f3 0f c7 f8", 4},  // rdpid %rax
    {"f3 48 0f ae c0", 5},  // rdfsbase %rax
    {"f3 48 0f ae d9", 5},  // wrgsbase %rcx
    {"66 0f 38 82 08", 5},  // invpcid (%rax),%rcx
    {"66 0f 38 80 08", 5},  // invept (%rax),%rcx
    {"66 0f 38 81 08", 5},  // invvpid (%rax),%rcx
    {"0f c7 30", 3},  // vmptrld (%rax)
    {"0f c7 38", 3},  // vmptrst (%rax)
    {"66 0f c7 30", 4},  // vmclear (%rax)
    {"f3 0f c7 30", 4},  // vmxon (%rax)
    {"0f 78 c3", 3},  // vmread %rax,%rbx
    {"0f 79 d8", 3},  // vmwrite %rax,%rbx
    {"48 0f c7 0f", 4},  // cmpxchg16b (%rdi)
    {"0f c7 0f", 3},  // cmpxchg8b (%rdi)
    {"f0 48 0f b1 0a", 5},  // lock cmpxchg %rcx,(%rdx)
    {"f0 0f c1 02", 4},  // lock xadd %eax,(%rdx)
    {"48 93", 2},  // xchg %rax,%rbx
    {"e4 60", 2},  // in $0x60,%al
    {"ed", 1},  // in (%dx),%eax
    {"e6 80", 2},  // out %al,$0x80
    {"6e", 1},  // outsb %ds:(%rsi),(%dx)
    {"66 6d", 2},  // insw (%dx),%es:(%rdi)
    {"f3 a4", 2},  // rep movsb %ds:(%rsi),%es:(%rdi)
    {"f3 48 ab", 3},  // rep stos %rax,%es:(%rdi)
    {"f2 ae", 2},  // repnz scas %es:(%rdi),%al
    {"a6", 1},  // cmpsb %es:(%rdi),%ds:(%rsi)
    {"48 ad", 2},  // lods %ds:(%rsi),%rax
    {"c8 10 00 00", 4},  // enter $0x10,$0x0
    {"c9", 1},  // leave
    {"a0 88 77 66 55 44 33 22 11", 9},  // movabs 0x1122334455667788,%al
    {"48 a1 88 77 66 55 44 33 22 11", 10},  // movabs 0x1122334455667788,%rax
    {"a3 88 77 66 55 44 33 22 11", 9},  // movabs %eax,0x1122334455667788
    {"67 a1 44 33 22 11", 6},  // addr32 mov 0x11223344,%eax
    {"49 bf 88 77 66 55 44 33 22 11", 10},  // movabs $0x1122334455667788,%r15
    {"66 b8 34 12", 4},  // mov $0x1234,%ax
    {"68 34 12 00 00", 5},  // push $0x1234
    {"66 6a 12", 3},  // pushw $0x12
    {"6a ff", 2},  // push $0xffffffffffffffff
    {"69 c8 e8 03 00 00", 6},  // imul $0x3e8,%eax,%ecx
    {"48 6b 08 07", 4},  // imul $0x7,(%rax),%rcx
    {"a8 12", 2},  // test $0x12,%al
    {"66 a9 34 12", 4},  // test $0x1234,%ax
    {"f6 05 10 00 00 00 01", 7},  // testb $0x1,0x10(%rip)
    {"66 f7 05 10 00 00 00 01 00", 9},  // testw $0x1,0x10(%rip)
    {"48 f7 05 10 00 00 00 01 00 00 00", 11},  // testq $0x1,0x10(%rip)
    {"48 f7 10", 3},  // notq (%rax)
    {"f7 58 04", 3},  // negl 0x4(%rax)
    {"f6 e1", 2},  // mul %cl
    {"48 f7 75 08", 4},  // divq 0x8(%rbp)
    {"fe 00", 2},  // incb (%rax)
    {"49 ff c9", 3},  // dec %r9
    {"ff d0", 2},  // call *%rax
    {"ff 50 08", 3},  // call *0x8(%rax)
    {"ff 25 10 00 00 00", 6},  // jmp *0x10(%rip)
    {"ff 18", 2},  // lcall *(%rax)
    {"ff 28", 2},  // ljmp *(%rax)
    {"ff 70 08", 3},  // push 0x8(%rax)
    {"8f 40 08", 3},  // pop 0x8(%rax)
    {"0f be c0", 3},  // movsbl %al,%eax
    {"48 0f b7 08", 4},  // movzwq (%rax),%rcx
    {"48 63 c8", 3},  // movslq %eax,%rcx
    {"0f c8", 2},  // bswap %eax
    {"49 0f cc", 3},  // bswap %r12
    {"0f ba e0 03", 4},  // bt $0x3,%eax
    {"48 0f ba 28 3f", 5},  // btsq $0x3f,(%rax)
    {"0f b3 c3", 3},  // btr %eax,%ebx
    {"0f ba 3d 12 00 00 00 01", 8},  // btcl $0x1,0x12(%rip)
    {"0f a4 c3 03", 4},  // shld $0x3,%eax,%ebx
    {"0f ad 03", 3},  // shrd %cl,%eax,(%rbx)
    {"f3 0f b8 c8", 4},  // popcnt %eax,%ecx
    {"f3 48 0f bd c8", 5},  // lzcnt %rax,%rcx
    {"66 f3 0f bc c8", 5},  // tzcnt %ax,%cx
    {"0f bc c8", 3},  // bsf %eax,%ecx
    {"0f bd c8", 3},  // bsr %eax,%ecx
    {"f2 0f 38 f0 c8", 5},  // crc32 %al,%ecx
    {"f2 48 0f 38 f1 c8", 6},  // crc32 %rax,%rcx
    {"66 f2 0f 38 f1 08", 6},  // crc32w (%rax),%ecx
    {"0f 38 f0 08", 4},  // movbe (%rax),%ecx
    {"48 0f 38 f1 08", 5},  // movbe %rcx,(%rax)
    {"66 0f 38 f6 c8", 5},  // adcx %eax,%ecx
    {"f3 48 0f 38 f6 c8", 6},  // adox %rax,%rcx
    {"0f 95 c0", 3},  // setne %al
    {"0f 94 00", 3},  // sete (%rax)
    {"0f 45 c8", 3},  // cmovne %eax,%ecx
    {"48 0f 4f 48 08", 5},  // cmovg 0x8(%rax),%rcx
    {"66 0f 1f 04 00", 5},  // nopw (%rax,%rax,1)
    {"0f 1f 00", 3},  // nopl (%rax)
    {"f3 0f 1e fa", 4},  // endbr64
    {"f3 0f 1e fb", 4},  // endbr32
    {"0f 18 08", 3},  // prefetcht0 (%rax)
    {"0f 18 40 08", 4},  // prefetchnta 0x8(%rax)
    {"0f 0d 08", 3},  // prefetchw (%rax)
    {"c6 f8 01", 3},  // xabort $0x1
    {"d9 c1", 2},  // fld %st(1)
    {"dd 04 24", 3},  // fldl (%rsp)
    {"d9 58 04", 3},  // fstps 0x4(%rax)
    {"d9 7c 24 fe", 4},  // fnstcw -0x2(%rsp)
    {"d9 6c 24 fe", 4},  // fldcw -0x2(%rsp)
    {"df e0", 2},  // fnstsw %ax
    {"d9 30", 2},  // fnstenv (%rax)
    {"d9 20", 2},  // fldenv (%rax)
    {"d9 ca", 2},  // fxch %st(2)
    {"de c1", 2},  // faddp %st,%st(1)
    {"df 28", 2},  // fildll (%rax)
    {"db 58 04", 3},  // fistpl 0x4(%rax)
    {"db 2d 10 00 00 00", 6},  // fldt 0x10(%rip)
    {"db 38", 2},  // fstpt (%rax)
    {"d9 fa", 2},  // fsqrt
    {"d9 fb", 2},  // fsincos
    {"d9 e8", 2},  // fld1
    {"d9 ee", 2},  // fldz
    {"df e9", 2},  // fucomip %st(1),%st
    {"db c9", 2},  // fcmovne %st(1),%st
    {"db e2", 2},  // fnclex
    {"db e3", 2},  // fninit
    {"0f 77", 2},  // emms
    {"0f 0e", 2},  // femms
    {"0f 0f c1 9e", 4},  // pfadd %mm1,%mm0
    {"0f 0f 50 08 b4", 5},  // pfmul 0x8(%rax),%mm2
    {"0f 0f c1 0d", 4},  // pi2fd %mm1,%mm0
    {"0f 6e c0", 3},  // movd %eax,%mm0
    {"48 0f 7e c0", 4},  // movq %mm0,%rax
    {"0f 6f 08", 3},  // movq (%rax),%mm1
    {"0f fc c1", 3},  // paddb %mm1,%mm0
    {"0f 70 c1 1b", 4},  // pshufw $0x1b,%mm1,%mm0
    {"0f 71 d0 03", 4},  // psrlw $0x3,%mm0
    {"0f 71 e1 03", 4},  // psraw $0x3,%mm1
    {"0f 73 f2 03", 4},  // psllq $0x3,%mm2
    {"0f 38 00 c1", 4},  // pshufb %mm1,%mm0
    {"0f 3a 0f c1 03", 5},  // palignr $0x3,%mm1,%mm0
    {"0f f7 c1", 3},  // maskmovq %mm1,%mm0
    {"0f e7 00", 3},  // movntq %mm0,(%rax)
    {"0f c4 c0 01", 4},  // pinsrw $0x1,%eax,%mm0
    {"0f c5 c0 01", 4},  // pextrw $0x1,%mm0,%eax
    {"0f 10 00", 3},  // movups (%rax),%xmm0
    {"0f 29 4c 24 10", 5},  // movaps %xmm1,0x10(%rsp)
    {"f3 0f 10 50 04", 5},  // movss 0x4(%rax),%xmm2
    {"f2 0f 11 1c d8", 5},  // movsd %xmm3,(%rax,%rbx,8)
    {"66 45 0f 28 f8", 5},  // movapd %xmm8,%xmm15
    {"66 44 0f 6f 0d 78 56 34 12", 9},  // movdqa 0x12345678(%rip),%xmm9
    {"f3 45 0f 6f 14 24", 6},  // movdqu (%r12),%xmm10
    {"66 48 0f 7e c0", 5},  // movq %xmm0,%rax
    {"66 48 0f 6e c0", 5},  // movq %rax,%xmm0
    {"66 0f 7e 08", 4},  // movd %xmm1,(%rax)
    {"f3 0f d6 c8", 4},  // movq2dq %mm0,%xmm1
    {"f2 0f d6 c1", 4},  // movdq2q %xmm1,%mm0
    {"f3 0f 7e d1", 4},  // movq %xmm1,%xmm2
    {"0f 12 c1", 3},  // movhlps %xmm1,%xmm0
    {"0f 12 00", 3},  // movlps (%rax),%xmm0
    {"66 0f 17 08", 4},  // movhpd %xmm1,(%rax)
    {"0f 50 c1", 3},  // movmskps %xmm1,%eax
    {"66 0f e7 00", 4},  // movntdq %xmm0,(%rax)
    {"0f c3 00", 3},  // movnti %eax,(%rax)
    {"66 0f 38 2a 08", 5},  // movntdqa (%rax),%xmm1
    {"f2 0f f0 00", 4},  // lddqu (%rax),%xmm0
    {"66 0f f7 c1", 4},  // maskmovdqu %xmm1,%xmm0
    {"0f 58 c1", 3},  // addps %xmm1,%xmm0
    {"f2 0f 58 00", 4},  // addsd (%rax),%xmm0
    {"66 0f d0 c1", 4},  // addsubpd %xmm1,%xmm0
    {"f2 0f d0 c1", 4},  // addsubps %xmm1,%xmm0
    {"66 0f 7c c1", 4},  // haddpd %xmm1,%xmm0
    {"f2 0f 7d c1", 4},  // hsubps %xmm1,%xmm0
    {"f3 0f 59 c1", 4},  // mulss %xmm1,%xmm0
    {"66 0f 5e c1", 4},  // divpd %xmm1,%xmm0
    {"f2 0f 51 c1", 4},  // sqrtsd %xmm1,%xmm0
    {"0f 52 c1", 3},  // rsqrtps %xmm1,%xmm0
    {"f3 0f 53 c1", 4},  // rcpss %xmm1,%xmm0
    {"0f 5d c1", 3},  // minps %xmm1,%xmm0
    {"f2 0f 5f c1", 4},  // maxsd %xmm1,%xmm0
    {"0f 54 c1", 3},  // andps %xmm1,%xmm0
    {"66 0f 57 c1", 4},  // xorpd %xmm1,%xmm0
    {"0f c2 c1 01", 4},  // cmpltps %xmm1,%xmm0
    {"f2 0f c2 00 02", 5},  // cmplesd (%rax),%xmm0
    {"f3 0f c2 c1 00", 5},  // cmpeqss %xmm1,%xmm0
    {"66 0f 2f c1", 4},  // comisd %xmm1,%xmm0
    {"0f 2e 00", 3},  // ucomiss (%rax),%xmm0
    {"0f c6 c1 1b", 4},  // shufps $0x1b,%xmm1,%xmm0
    {"66 0f c6 c1 01", 5},  // shufpd $0x1,%xmm1,%xmm0
    {"0f 14 c1", 3},  // unpcklps %xmm1,%xmm0
    {"f2 0f 2a c0", 4},  // cvtsi2sd %eax,%xmm0
    {"f2 48 0f 2a c0", 5},  // cvtsi2sd %rax,%xmm0
    {"f2 0f 2c c0", 4},  // cvttsd2si %xmm0,%eax
    {"f2 48 0f 2d c0", 5},  // cvtsd2si %xmm0,%rax
    {"0f 5a c1", 3},  // cvtps2pd %xmm1,%xmm0
    {"f3 0f e6 c1", 4},  // cvtdq2pd %xmm1,%xmm0
    {"66 0f e6 c1", 4},  // cvttpd2dq %xmm1,%xmm0
    {"f2 0f e6 c1", 4},  // cvtpd2dq %xmm1,%xmm0
    {"0f 5b c1", 3},  // cvtdq2ps %xmm1,%xmm0
    {"0f 2a c1", 3},  // cvtpi2ps %mm1,%xmm0
    {"0f 2d c1", 3},  // cvtps2pi %xmm1,%mm0
    {"66 0f 70 c1 1b", 5},  // pshufd $0x1b,%xmm1,%xmm0
    {"f3 0f 70 c1 1b", 5},  // pshufhw $0x1b,%xmm1,%xmm0
    {"f2 0f 70 00 1b", 5},  // pshuflw $0x1b,(%rax),%xmm0
    {"66 0f 71 d0 03", 5},  // psrlw $0x3,%xmm0
    {"66 0f 72 e1 03", 5},  // psrad $0x3,%xmm1
    {"66 0f 73 da 03", 5},  // psrldq $0x3,%xmm2
    {"66 0f 73 fb 03", 5},  // pslldq $0x3,%xmm3
    {"66 0f 73 f4 03", 5},  // psllq $0x3,%xmm4
    {"66 0f 6c c1", 4},  // punpcklqdq %xmm1,%xmm0
    {"66 0f 6d c1", 4},  // punpckhqdq %xmm1,%xmm0
    {"66 0f c4 00 01", 5},  // pinsrw $0x1,(%rax),%xmm0
    {"66 0f c5 c0 01", 5},  // pextrw $0x1,%xmm0,%eax
    {"66 0f d7 c1", 4},  // pmovmskb %xmm1,%eax
    {"66 0f d4 c1", 4},  // paddq %xmm1,%xmm0
    {"66 0f f4 c1", 4},  // pmuludq %xmm1,%xmm0
    {"66 0f f6 c1", 4},  // psadbw %xmm1,%xmm0
    {"66 0f 74 c1", 4},  // pcmpeqb %xmm1,%xmm0
    {"66 0f ef c1", 4},  // pxor %xmm1,%xmm0
    {"66 0f 38 00 c1", 5},  // pshufb %xmm1,%xmm0
    {"66 0f 38 01 c1", 5},  // phaddw %xmm1,%xmm0
    {"66 0f 38 04 c1", 5},  // pmaddubsw %xmm1,%xmm0
    {"66 0f 38 0b c1", 5},  // pmulhrsw %xmm1,%xmm0
    {"66 0f 38 08 c1", 5},  // psignb %xmm1,%xmm0
    {"66 0f 38 1e c1", 5},  // pabsd %xmm1,%xmm0
    {"66 0f 3a 0f c1 03", 6},  // palignr $0x3,%xmm1,%xmm0
    {"66 0f 38 10 d1", 5},  // pblendvb %xmm0,%xmm1,%xmm2
    {"66 0f 38 14 d1", 5},  // blendvps %xmm0,%xmm1,%xmm2
    {"66 0f 38 17 c1", 5},  // ptest %xmm1,%xmm0
    {"66 0f 38 20 c1", 5},  // pmovsxbw %xmm1,%xmm0
    {"66 0f 38 35 00", 5},  // pmovzxdq (%rax),%xmm0
    {"66 0f 38 28 c1", 5},  // pmuldq %xmm1,%xmm0
    {"66 0f 38 29 c1", 5},  // pcmpeqq %xmm1,%xmm0
    {"66 0f 38 2b c1", 5},  // packusdw %xmm1,%xmm0
    {"66 0f 38 37 c1", 5},  // pcmpgtq %xmm1,%xmm0
    {"66 0f 38 38 c1", 5},  // pminsb %xmm1,%xmm0
    {"66 0f 38 3f c1", 5},  // pmaxud %xmm1,%xmm0
    {"66 0f 38 40 c1", 5},  // pmulld %xmm1,%xmm0
    {"66 0f 38 41 c1", 5},  // phminposuw %xmm1,%xmm0
    {"66 0f 3a 08 c1 01", 6},  // roundps $0x1,%xmm1,%xmm0
    {"66 0f 3a 0b 00 01", 6},  // roundsd $0x1,(%rax),%xmm0
    {"66 0f 3a 0c c1 01", 6},  // blendps $0x1,%xmm1,%xmm0
    {"66 0f 3a 0e c1 01", 6},  // pblendw $0x1,%xmm1,%xmm0
    {"66 0f 3a 14 c0 01", 6},  // pextrb $0x1,%xmm0,%eax
    {"66 0f 3a 16 00 01", 6},  // pextrd $0x1,%xmm0,(%rax)
    {"66 48 0f 3a 16 c0 01", 7},  // pextrq $0x1,%xmm0,%rax
    {"66 0f 3a 17 c0 01", 6},  // extractps $0x1,%xmm0,%eax
    {"66 0f 3a 20 c0 01", 6},  // pinsrb $0x1,%eax,%xmm0
    {"66 0f 3a 21 c1 01", 6},  // insertps $0x1,%xmm1,%xmm0
    {"66 48 0f 3a 22 c0 01", 7},  // pinsrq $0x1,%rax,%xmm0
    {"66 0f 3a 40 c1 01", 6},  // dpps $0x1,%xmm1,%xmm0
    {"66 0f 3a 41 c1 01", 6},  // dppd $0x1,%xmm1,%xmm0
    {"66 0f 3a 42 c1 01", 6},  // mpsadbw $0x1,%xmm1,%xmm0
    {"66 0f 3a 44 c1 11", 6},  // pclmulhqhqdq %xmm1,%xmm0
    {"66 0f 3a 60 c1 01", 6},  // pcmpestrm $0x1,%xmm1,%xmm0
    {"66 0f 3a 61 c1 01", 6},  // pcmpestri $0x1,%xmm1,%xmm0
    {"66 0f 3a 62 c1 01", 6},  // pcmpistrm $0x1,%xmm1,%xmm0
    {"66 0f 3a 63 05 10 00 00 00 01", 10},  // pcmpistri $0x1,0x10(%rip),%xmm0
    {"66 0f 38 dc c1", 5},  // aesenc %xmm1,%xmm0
    {"66 0f 38 dd c1", 5},  // aesenclast %xmm1,%xmm0
    {"66 0f 38 de 00", 5},  // aesdec (%rax),%xmm0
    {"66 0f 38 df c1", 5},  // aesdeclast %xmm1,%xmm0
    {"66 0f 38 db c1", 5},  // aesimc %xmm1,%xmm0
    {"66 0f 3a df c1 01", 6},  // aeskeygenassist $0x1,%xmm1,%xmm0
    {"0f 3a cc c1 01", 5},  // sha1rnds4 $0x1,%xmm1,%xmm0
    {"0f 38 c8 c1", 4},  // sha1nexte %xmm1,%xmm0
    {"0f 38 c9 c1", 4},  // sha1msg1 %xmm1,%xmm0
    {"0f 38 ca c1", 4},  // sha1msg2 %xmm1,%xmm0
    {"0f 38 cb d1", 4},  // sha256rnds2 %xmm0,%xmm1,%xmm2
    {"0f 38 cc c1", 4},  // sha256msg1 %xmm1,%xmm0
    {"0f 38 cd c1", 4},  // sha256msg2 %xmm1,%xmm0
    {"66 0f 38 cf c1", 5},  // gf2p8mulb %xmm1,%xmm0
    {"66 0f 3a ce c1 01", 6},  // gf2p8affineqb $0x1,%xmm1,%xmm0
    {"66 0f 3a cf c1 01", 6},  // gf2p8affineinvqb $0x1,%xmm1,%xmm0
    {"66 0f 38 f8 08", 5},  // movdir64b (%rax),%rcx
    {"0f 38 f9 01", 4},  // movdiri %eax,(%rcx)
    {"f2 0f 38 f8 08", 5},  // enqcmd (%rax),%rcx
    {"0f 38 f6 01", 4},  // wrssd %eax,(%rcx)
    {"66 48 0f 38 f5 01", 6},  // wrussq %rax,(%rcx)
    {"f3 48 0f ae e8", 5},  // incsspq %rax
    {"f3 48 0f 1e c8", 5},  // rdsspq %rax
    {"f3 0f 01 ea", 4},  // saveprevssp
    {"f3 0f 01 e8", 4},  // setssbsy
    {"f3 0f ae 30", 4},  // clrssbsy (%rax)
    {"f3 0f 01 28", 4},  // rstorssp (%rax)
    {"66 0f ae f0", 4},  // tpause %eax
    {"f2 0f ae f0", 4},  // umwait %eax
    {"f3 0f ae f0", 4},  // umonitor %rax
    {"0f 1c 00", 3},  // cldemote (%rax)
    {"f3 0f ae e0", 4},  // ptwrite %eax
    {"0f 01 e8", 3},  // serialize
    {"f3 0f 09", 3},  // wbnoinvd
    {"0f 01 fd", 3},  // rdpru
    {"f3 0f 01 fa", 4},  // mcommit
    {"0f 01 fc", 3},  // clzero
    {"0f 01 fa", 3},  // monitorx %rax,%ecx,%edx
    {"0f 01 fb", 3},  // mwaitx %eax,%ecx,%ebx
    {"0f 01 c5", 3},  // pconfig
    {"0f 01 d6", 3},  // xtest
    {"0f 01 d5", 3},  // xend
    {"0f 1f 44 00 00", 5},  // nopl 0x0(%rax,%rax,1)
    {"42 89 44 ab fc", 5},  // mov %eax,-0x4(%rbx,%r13,4)
    {"48 39 c3", 3},  // cmp %rax,%rbx
    {"48 83 e8 01", 4},  // sub $0x1,%rax
    {"81 e1 00 40 00 00", 6},  // and $0x4000,%ecx
    {"41 b8 80 ff ff ff", 6},  // mov $0xffffff80,%r8d
    {"0f 85 bf 00 00 00", 6},  // jne rel
    {"5b", 1},  // pop %rbx
    {"4c 0f 44 f8", 4},  // cmove %rax,%r15
    {"53", 1},  // push %rbx
    {"e9 90 59 84 ff", 5},  // jmp rel
    {"0f 84 f5 01 00 00", 6},  // je rel
    {"f0 01 07", 3},  // lock add %eax,(%rdi)
    {"0f b7 3c 06", 4},  // movzwl (%rsi,%rax,1),%edi
    {"48 21 d0", 3},  // and %rdx,%rax
    {"09 ca", 2},  // or %ecx,%edx
    {"e8 8e a1 ed ff", 5},  // call rel
    {"0f bf 71 04", 4},  // movswl 0x4(%rcx),%esi
    {"80 7e 04 00", 4},  // cmpb $0x0,0x4(%rsi)
    {"eb 57", 2},  // jmp rel
    {"45 31 c0", 3},  // xor %r8d,%r8d
    {"45 85 ff", 3},  // test %r15d,%r15d
    {"45 0f ac f6 02", 5},  // shrd $0x2,%r14d,%r14d
    {"48 01 d9", 3},  // add %rbx,%rcx
    {"c7 43 08 08 00 00 00", 7},  // movl $0x8,0x8(%rbx)
    {"88 84 17 31 02 00 00", 7},  // mov %al,0x231(%rdi,%rdx,1)
    {"40 0f b6 f6", 4},  // movzbl %sil,%esi
    {"41 c1 c3 08", 4},  // rol $0x8,%r11d
    {"41 5d", 2},  // pop %r13
    {"41 83 e2 1f", 4},  // and $0x1f,%r10d
    {"2a 78 71", 3},  // sub 0x71(%rax),%bh
    {"0f 1f 80 00 00 00 00", 7},  // nopl 0x0(%rax)
    {"66 41 0f 72 e6 1f", 6},  // psrad $0x1f,%xmm14
    {"31 c9", 2},  // xor %ecx,%ecx
    {"48 83 c0 01", 4},  // add $0x1,%rax
    {"66 44 0f db de", 5},  // pand %xmm6,%xmm11
    {"48 8d 54 24 20", 5},  // lea 0x20(%rsp),%rdx
    {"48 8d 05 b2 22 ff ff", 7},  // lea -0xdd4e(%rip),%rax
    {"66 66 2e 0f 1f 84 00 00 00 00 00", 11},  // data16 cs nopw 0x0(%rax,%rax,1)
    {"b4 a6", 2},  // mov $0xa6,%ah
    {"4a 8d 0c 02", 4},  // lea (%rdx,%r8,1),%rcx
    {"48 8d 84 24 c0 00 00 00", 8},  // lea 0xc0(%rsp),%rax
    {"8d 55 ff", 3},  // lea -0x1(%rbp),%edx
    {"48 d1 eb", 3},  // shr %rbx
    {"41 83 f8 02", 4},  // cmp $0x2,%r8d
    {"81 f9 4a 04 00 00", 6},  // cmp $0x44a,%ecx
    {"48 89 84 24 40 01 00 00", 8},  // mov %rax,0x140(%rsp)
    {"64 48 2b 14 25 28 00 00 00", 9},  // sub %fs:0x28,%rdx
    {"66 0f db c2", 4},  // pand %xmm2,%xmm0
    {"f6 45 10 01", 4},  // testb $0x1,0x10(%rbp)
    {"74 4e", 2},  // je rel
    {"66 0f 1f 44 00 00", 6},  // nopw 0x0(%rax,%rax,1)
    {"0f b6 c0", 3},  // movzbl %al,%eax
    {"66 0f 62 c1", 4},  // punpckldq %xmm1,%xmm0
    {"91", 1},  // xchg %eax,%ecx
    {"48 c1 e1 04", 4},  // shl $0x4,%rcx
    {"75 f5", 2},  // jne rel
    {"4c 63 6c 24 18", 5},  // movslq 0x18(%rsp),%r13
    {"c3", 1},  // ret
    {"0f 1f 40 00", 4},  // nopl 0x0(%rax)
    {"a9 00 00 80 00", 5},  // test $0x800000,%eax
    {"4c 0f be 84 08 30 02 00 00", 9},  // movsbq 0x230(%rax,%rcx,1),%r8
    {"f3 0f 6f 94 39 38 03 00 00", 9},  // movdqu 0x338(%rcx,%rdi,1),%xmm2
    {"48 c1 eb 3f", 4},  // shr $0x3f,%rbx
    {"80 7c 24 10 00", 5},  // cmpb $0x0,0x10(%rsp)
    {"0f 87 e8 03 00 00", 6},  // ja rel
    {"77 4f", 2},  // ja rel
    {"66 0f 61 de", 4},  // punpcklwd %xmm6,%xmm3
    {"4c 09 e6", 3},  // or %r12,%rsi
    {"48 83 bb 60 51 00 00 00", 8},  // cmpq $0x0,0x5160(%rbx)
    {"a5", 1},  // movsl %ds:(%rsi),%es:(%rdi)
    {"25 00 00 10 01", 5},  // and $0x1100000,%eax
    {"4d 0f bb e0", 4},  // btc %r12,%r8
    {"c6 44 24 1c 01", 5},  // movb $0x1,0x1c(%rsp)
    {"0f 48 c2", 3},  // cmovs %edx,%eax
    {"81 c6 10 0c 00 00", 6},  // add $0xc10,%esi
    {"66 0f 6f 1f", 4},  // movdqa (%rdi),%xmm3
    {"48 0f bd cb", 4},  // bsr %rbx,%rcx
    {"66 2e 0f 1f 84 00 00 00 00 00", 10},  // cs nopw 0x0(%rax,%rax,1)
    {"13 02", 2},  // adc (%rdx),%eax
    {"41 83 c8 ff", 4},  // or $0xffffffff,%r8d
    {"46 00 46 46", 4},  // rex.RX add %r8b,0x46(%rsi)
    {"66 0f 54 ca", 4},  // andpd %xmm2,%xmm1
    {"72 76", 2},  // jb rel
    {"49 c7 00 02 00 00 00", 7},  // movq $0x2,(%r8)
    {"79 5a", 2},  // jns rel
    {"0f 82 eb 00 00 00", 6},  // jb rel
    {"41 c1 cd 0b", 4},  // ror $0xb,%r13d
    {"21 c1", 2},  // and %eax,%ecx
    {"44 0f 42 cf", 4},  // cmovb %edi,%r9d
    {"0f 1f 84 00 00 00 00 00", 8},  // nopl 0x0(%rax,%rax,1)
    {"7c dd", 2},  // jl rel
    {"0f 11 9f f8 b1 00 00", 7},  // movups %xmm3,0xb1f8(%rdi)
    {"d1 f8", 2},  // sar %eax
    {"73 0a", 2},  // jae rel
    {"0f b7 c2", 3},  // movzwl %dx,%eax
    {"64 48 8b 2c 25 28 00 00 00", 9},  // mov %fs:0x28,%rbp
    {"80 a3 e6 16 01 00 df", 7},  // andb $0xdf,0x116e6(%rbx)
    {"90", 1},  // nop
    {"f3 0f 6f 06", 4},  // movdqu (%rsi),%xmm0
    {"3d 3e 40 00 00", 5},  // cmp $0x403e,%eax
    {"7e fe", 2},  // jle rel
    {"3e ff e0", 3},  // notrack jmp *%rax
    {"83 38 01", 3},  // cmpl $0x1,(%rax)
    {"0f bf f6", 3},  // movswl %si,%esi
    {"76 5b", 2},  // jbe rel
    {"66 41 0f 6f f4", 5},  // movdqa %xmm12,%xmm6
    {"19 c0", 2},  // sbb %eax,%eax
    {"f7 de", 2},  // neg %esi
    {"48 0f be f6", 4},  // movsbq %sil,%rsi
    {"f7 c6 00 00 00 40", 6},  // test $0x40000000,%esi
    {"f3 0f 7e 15 ee 3a da 00", 8},  // movq 0xda3aee(%rip),%xmm2
    {"41 81 f8 01 05 00 00", 7},  // cmp $0x501,%r8d
    {"44 0f b6 49 04", 5},  // movzbl 0x4(%rcx),%r9d
    {"48 0f ba f5 3f", 5},  // btr $0x3f,%rbp
    {"c1 e2 1e", 3},  // shl $0x1e,%edx
    {"41 0f be 79 03", 5},  // movsbl 0x3(%r9),%edi
    {"48 0f bf d0", 4},  // movswq %ax,%rdx
    {"48 63 14 91", 4},  // movslq (%rcx,%rdx,4),%rdx
    {"0f 92 c0", 3},  // setb %al
    {"48 83 7b 40 ff", 5},  // cmpq $0xffffffffffffffff,0x40(%rbx)
    {"48 0f 4e d0", 4},  // cmovle %rax,%rdx
    {"46 33 9c 87 00 0c 00 00", 8},  // xor 0xc00(%rdi,%r8,4),%r11d
    {"0f 4e c6", 3},  // cmovle %esi,%eax
    {"49 83 d9 00", 4},  // sbb $0x0,%r9
    {"d3 4b 95", 3},  // rorl %cl,-0x6b(%rbx)
    {"48 83 f1 3f", 4},  // xor $0x3f,%rcx
    {"80 19 a4", 3},  // sbbb $0xa4,(%rcx)
    {"66 0f 6f 05 58 16 14 00", 8},  // movdqa 0x141658(%rip),%xmm0
    {"29 90 3c 03 00 00", 6},  // sub %edx,0x33c(%rax)
    {"83 47 34 01", 4},  // addl $0x1,0x34(%rdi)
    {"4d 03 74 24 d8", 5},  // add -0x28(%r12),%r14
    {"66 0f 6f 4c 24 70", 6},  // movdqa 0x70(%rsp),%xmm1
    {"29 c8", 2},  // sub %ecx,%eax
    {"48 f7 f5", 3},  // div %rbp
    {"8d 88 00 02 00 00", 6},  // lea 0x200(%rax),%ecx
    {"41 f6 44 24 34 08", 6},  // testb $0x8,0x34(%r12)
    {"66 0f 1f 84 00 00 00 00 00", 9},  // nopw 0x0(%rax,%rax,1)
    {"41 81 cc 00 00 00 40", 7},  // or $0x40000000,%r12d
    {"66 45 0f 6e 42 ec", 6},  // movd -0x14(%r10),%xmm8
    {"80 bf db 07 00 00 00", 7},  // cmpb $0x0,0x7db(%rdi)
    {"41 f6 47 52 08", 5},  // testb $0x8,0x52(%r15)
    {"41 0f 49 cc", 4},  // cmovns %r12d,%ecx
    {"66 44 0f ef 3c 24", 6},  // pxor (%rsp),%xmm15
    {"70 05", 2},  // jo rel
    {"01 c8", 2},  // add %ecx,%eax
    {"41 0f 92 c0", 4},  // setb %r8b
    {"87 be f2 a1 16 36", 6},  // xchg %edi,0x3616a1f2(%rsi)
    {"0f 83 c7 01 00 00", 6},  // jae rel
    {"f3 0f 6f b3 a4 04 00 00", 8},  // movdqu 0x4a4(%rbx),%xmm6
    {"66 44 0f fe e9", 5},  // paddd %xmm1,%xmm13
    {"41 0f b6 bf de 00 00 00", 8},  // movzbl 0xde(%r15),%edi
    {"f5", 1},  // cmc
    {"0f 8f 36 01 00 00", 6},  // jg rel
    {"0f 11 47 50", 4},  // movups %xmm0,0x50(%rdi)
    {"48 c7 44 24 28 01 00 00 00", 9},  // movq $0x1,0x28(%rsp)
    {"3c 07", 2},  // cmp $0x7,%al
    {"c1 f8 1b", 3},  // sar $0x1b,%eax
    {"ac", 1},  // lods %ds:(%rsi),%al
    {"66 41 0f 61 c0", 5},  // punpcklwd %xmm8,%xmm0
    {"0f 8e 79 02 00 00", 6},  // jle rel
    {"d3 e0", 2},  // shl %cl,%eax
    {"4c 0f b3 ce", 4},  // btr %r9,%rsi
    {"f7 d1", 2},  // not %ecx
    {"41 f6 86 ca 0b 00 00 10", 8},  // testb $0x10,0xbca(%r14)
    {"45 0f b6 84 00 28 02 00 00", 9},  // movzbl 0x228(%r8,%rax,1),%r8d
    {"66 44 0f ef d8", 5},  // pxor %xmm0,%xmm11
    {"0f b7 82 3c 03 00 00", 7},  // movzwl 0x33c(%rdx),%eax
    {"48 ff c1", 3},  // inc %rcx
    {"41 81 e5 00 40 00 00", 7},  // and $0x4000,%r13d
    {"48 0f 45 c1", 4},  // cmovne %rcx,%rax
    {"41 c6 00 00", 4},  // movb $0x0,(%r8)
    {"48 98", 2},  // cltq
    {"83 ad a0 f9 ff ff 01", 7},  // subl $0x1,-0x660(%rbp)
    {"44 0f b6 4c 24 20", 6},  // movzbl 0x20(%rsp),%r9d
    {"0f 11 8c 24 08 07 00 00", 8},  // movups %xmm1,0x708(%rsp)
    {"ff ca", 2},  // dec %edx
    {"48 81 c2 ff 03 00 00", 7},  // add $0x3ff,%rdx
    {"d3 c0", 2},  // rol %cl,%eax
    {"7f 4c", 2},  // jg rel
    {"40 0f 95 c7", 4},  // setne %dil
    {"41 0f 57 db", 4},  // xorps %xmm11,%xmm3
    {"66 f7 df", 3},  // neg %di
    {"49 11 d5", 3},  // adc %rdx,%r13
    {"d0 ef", 2},  // shr %bh
    {"41 0f 48 f8", 4},  // cmovs %r8d,%edi
    {"df 46 a8", 3},  // filds -0x58(%rsi)
    {"48 83 7c 24 20 00", 6},  // cmpq $0x0,0x20(%rsp)
    {"da 53 4f", 3},  // ficoml 0x4f(%rbx)
    {"49 f7 f9", 3},  // idiv %r9
    {"49 c7 86 c8 00 00 00 00 00 00 00", 11},  // movq $0x0,0xc8(%r14)
    {"c1 c6 0d", 3},  // rol $0xd,%esi
    {"0f 8c c2 00 00 00", 6},  // jl rel
    {"c1 cd 07", 3},  // ror $0x7,%ebp
    {"7b e4", 2},  // jnp rel
    {"48 81 ec 98 01 00 00", 7},  // sub $0x198,%rsp
    {"41 81 4e 50 00 40 00 00", 8},  // orl $0x4000,0x50(%r14)
    {"0f 89 53 f9 ff ff", 6},  // jns rel
    {"48 83 d2 00", 4},  // adc $0x0,%rdx
    {"0f b6 bd 3a 05 00 00", 7},  // movzbl 0x53a(%rbp),%edi
  };
  check_rows(rows);
}

namespace {

// Checks one decode of `code` against the rules every answer keeps.
void check_answer(std::span<const std::uint8_t> code) {
  const std::optional<std::size_t> length = x86_64_instruction_length(code);
  if (!length) return;
  CHECK(*length >= 1);
  CHECK(*length <= kMaxInstructionLength);
  REQUIRE(*length <= code.size());
  // The instruction is all in its own bytes, and not in fewer.
  CHECK(x86_64_instruction_length(code.first(*length)) == length);
  CHECK(x86_64_instruction_length(code.first(*length - 1)) == std::nullopt);
}

}  // namespace

TEST_CASE("insn length: random bytes give a length in 1..15 within them, or none") {
  std::mt19937 random(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> size(0, 20);
  std::array<std::uint8_t, 20> code{};
  for (int round = 0; round < 200'000; ++round) {
    for (std::uint8_t& b : code) b = static_cast<std::uint8_t>(byte(random));
    check_answer(std::span<const std::uint8_t>(code).first(size(random)));
  }
}

TEST_CASE("insn length: every 2-byte start and every 0F xx yy, before any tail") {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::array<std::uint8_t, 16> code{};
  for (unsigned first = 0; first < 256; ++first) {
    for (unsigned second = 0; second < 256; ++second) {
      for (int tail = 0; tail < 4; ++tail) {
        code[0] = static_cast<std::uint8_t>(first);
        code[1] = static_cast<std::uint8_t>(second);
        for (std::size_t i = 2; i < code.size(); ++i) {
          code[i] = static_cast<std::uint8_t>(tail == 0 ? 0x00 : tail == 1 ? 0xFF : byte(random));
        }
        for (std::size_t n = 0; n <= code.size(); ++n) check_answer(std::span<const std::uint8_t>(code).first(n));
      }
      code[0] = 0x0F;
      code[1] = static_cast<std::uint8_t>(first);
      code[2] = static_cast<std::uint8_t>(second);
      check_answer(code);
    }
  }
}
