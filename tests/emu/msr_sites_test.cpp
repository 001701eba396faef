// The trapped-instruction scan of the x86-64 engine (RDMSR, WRMSR, RDTSC,
// RDTSCP).
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include "emu/x86/msr_sites.h"

using softsynic::emu::x86::find_trapped_sites;
using softsynic::emu::x86::TrappedInstruction;

TEST_CASE("trapped sites: rdmsr, wrmsr, rdtsc and rdtscp are candidates at their first byte") {
  // mov ecx, 0x40000083; rdmsr; wrmsr; rdtsc; rdtscp; ret
  const std::array<std::uint8_t, 15> code = {0xB9, 0x83, 0x00, 0x00, 0x40, 0x0F, 0x32, 0x0F,
                                             0x30, 0x0F, 0x31, 0x0F, 0x01, 0xF9, 0xC3};
  auto found = find_trapped_sites(code);
  REQUIRE(found.size() == 4);
  CHECK(found[0].offset == 5);
  CHECK(found[0].instruction == TrappedInstruction::rdmsr);
  CHECK(found[1].offset == 7);
  CHECK(found[1].instruction == TrappedInstruction::wrmsr);
  CHECK(found[2].offset == 9);
  CHECK(found[2].instruction == TrappedInstruction::rdtsc);
  CHECK(found[3].offset == 11);
  CHECK(found[3].instruction == TrappedInstruction::rdtscp);
  CHECK(found[3].length == 3);
}

TEST_CASE("trapped sites: a pair inside another instruction is still a candidate (its hook never fires)") {
  // mov eax, 0x0000320F: the immediate holds 0F 32.
  const std::array<std::uint8_t, 5> code = {0xB8, 0x0F, 0x32, 0x00, 0x00};
  auto found = find_trapped_sites(code);
  REQUIRE(found.size() == 1);
  CHECK(found[0].offset == 1);
}

TEST_CASE("trapped sites: other two-byte opcodes, other group-7 forms and a trailing escape are not candidates") {
  const std::array<std::uint8_t, 9> code = {0x0F, 0xA2, 0x0F, 0x01, 0xC1, 0x0F, 0x01, 0xF8, 0x0F};  // cpuid; vmcall; swapgs; 0F
  CHECK(find_trapped_sites(code).empty());
  CHECK(find_trapped_sites({}).empty());
}
