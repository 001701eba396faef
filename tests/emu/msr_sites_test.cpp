// The RDMSR/WRMSR candidate scan of the x86-64 engine.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include "emu/x86/msr_sites.h"

using softsynic::emu::x86::find_msr_candidates;

TEST_CASE("msr sites: rdmsr and wrmsr byte pairs are candidates at their first byte") {
  // mov ecx, 0x40000083; rdmsr; wrmsr; ret
  const std::array<std::uint8_t, 10> code = {0xB9, 0x83, 0x00, 0x00, 0x40, 0x0F, 0x32, 0x0F, 0x30, 0xC3};
  auto found = find_msr_candidates(code);
  REQUIRE(found.size() == 2);
  CHECK(found[0] == 5);
  CHECK(found[1] == 7);
}

TEST_CASE("msr sites: a pair inside another instruction is still a candidate (its hook never fires)") {
  // mov eax, 0x0000320F: the immediate holds 0F 32.
  const std::array<std::uint8_t, 5> code = {0xB8, 0x0F, 0x32, 0x00, 0x00};
  auto found = find_msr_candidates(code);
  REQUIRE(found.size() == 1);
  CHECK(found[0] == 1);
}

TEST_CASE("msr sites: other two-byte opcodes and a trailing escape byte are not candidates") {
  const std::array<std::uint8_t, 6> code = {0x0F, 0x31, 0x0F, 0x01, 0xC1, 0x0F};  // rdtsc; vmcall; 0F
  CHECK(find_msr_candidates(code).empty());
  CHECK(find_msr_candidates({}).empty());
}
