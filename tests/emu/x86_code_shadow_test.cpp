// The execution view of patched code frames (x86_code_shadow.h): what a
// fetch runs and what stays the guest's, and when patches are refused or
// forgotten. The guest-level proof is guest_pc_patched_sites_*.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "emu/unicorn/uc_engine.h"
#include "emu/x86/x86_code_shadow.h"
#include "synic/guest_memory.h"

using softsynic::RamGuestMemory;
using softsynic::emu::x86::TrappedInstruction;
using softsynic::emu::x86::X86CodeShadow;

namespace {

constexpr std::uint64_t kFrame = 0x3000;

struct Rig {
  RamGuestMemory ram{1 << 20};
  softsynic::emu::unicorn::UcHandle uc = softsynic::emu::unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
  X86CodeShadow shadow{uc.get(), ram};

  void put(std::uint64_t gpa, std::vector<std::uint8_t> bytes) {
    REQUIRE(ram.write(gpa, std::as_bytes(std::span{bytes})));
  }
  std::vector<std::uint8_t> shadow_bytes(std::uint64_t page, std::size_t offset, std::size_t n) {
    std::vector<std::uint8_t> out(n);
    REQUIRE(uc_mem_read(uc.get(), page + offset, out.data(), n) == UC_ERR_OK);
    return out;
  }
  std::vector<std::uint8_t> frame_bytes(std::size_t offset, std::size_t n) {
    std::vector<std::uint8_t> out(n);
    REQUIRE(ram.read(kFrame + offset, std::as_writable_bytes(std::span{out})));
    return out;
  }
};

X86CodeShadow::Patch patch(std::uint16_t offset, TrappedInstruction instruction, std::uint8_t length) {
  X86CodeShadow::Patch p;
  p.offset = offset;
  p.instruction = instruction;
  p.length = length;
  return p;
}

}  // namespace

TEST_CASE("code shadow: RDMSR runs as SYSCALL and VMCALL as CS-prefixed SYSCALL; the frame keeps its bytes") {
  Rig rig;
  rig.put(kFrame + 0x10, {0xB9, 0x22, 0x00, 0x00, 0x40, 0x0F, 0x32, 0xC3});  // mov ecx, ...; rdmsr; ret
  rig.put(kFrame + 0x40, {0x0F, 0x01, 0xC1, 0xC3});                          // vmcall; ret
  CHECK_FALSE(rig.shadow.exec_page(kFrame));  // no patch: the frame runs itself
  REQUIRE(rig.shadow.add(kFrame, patch(0x15, TrappedInstruction::rdmsr, 2)));
  REQUIRE(rig.shadow.add(kFrame, patch(0x40, TrappedInstruction::hypercall, 3)));
  const auto page = rig.shadow.exec_page(kFrame);
  REQUIRE(page);
  CHECK(X86CodeShadow::in_shadow(*page));
  CHECK(*page >= X86CodeShadow::kBase);
  CHECK(rig.shadow_bytes(*page, 0x10, 8) == std::vector<std::uint8_t>{0xB9, 0x22, 0x00, 0x00, 0x40, 0x0F, 0x05, 0xC3});
  CHECK(rig.shadow_bytes(*page, 0x40, 4) == std::vector<std::uint8_t>{0x2E, 0x0F, 0x05, 0xC3});
  CHECK(rig.frame_bytes(0x15, 2) == std::vector<std::uint8_t>{0x0F, 0x32});
  CHECK(rig.frame_bytes(0x40, 3) == std::vector<std::uint8_t>{0x0F, 0x01, 0xC1});
  const auto* at = rig.shadow.patch_at(*page, 0x15);
  REQUIRE(at != nullptr);
  CHECK(at->instruction == TrappedInstruction::rdmsr);
  CHECK(rig.shadow.patch_at(*page, 0x16) == nullptr);  // the guest's own SYSCALL would not be a site
  CHECK(rig.shadow.patched(kFrame, 0x40));
}

TEST_CASE("code shadow: a store to the frame forgets its patches; a drop without one keeps them") {
  Rig rig;
  rig.put(kFrame, {0x0F, 0x30, 0xC3});  // wrmsr; ret
  REQUIRE(rig.shadow.add(kFrame, patch(0, TrappedInstruction::wrmsr, 2)));
  REQUIRE(rig.shadow.exec_page(kFrame));
  rig.shadow.dropped(kFrame, false);
  const auto page = rig.shadow.page_of(kFrame);
  REQUIRE(page);
  CHECK(rig.shadow.patch_at(*page, 0) == nullptr);  // stale until the next fetch rebuilds it
  REQUIRE(rig.shadow.exec_page(kFrame) == page);
  CHECK(rig.shadow.patch_at(*page, 0) != nullptr);
  rig.shadow.dropped(kFrame, true);
  CHECK_FALSE(rig.shadow.active(kFrame));
  CHECK_FALSE(rig.shadow.exec_page(kFrame));
}

TEST_CASE("code shadow: a frame changed in any byte since its patches were found loses them all") {
  Rig rig;
  rig.put(kFrame, {0x0F, 0x31, 0x90, 0x0F, 0x32});  // rdtsc; nop; rdmsr
  REQUIRE(rig.shadow.add(kFrame, patch(0, TrappedInstruction::rdtsc, 2)));
  REQUIRE(rig.shadow.add(kFrame, patch(3, TrappedInstruction::rdmsr, 2)));
  rig.put(kFrame + 0x800, {0x42});  // far from both, behind the shadow's back (another VP, a host write)
  CHECK_FALSE(rig.shadow.exec_page(kFrame));
  CHECK_FALSE(rig.shadow.active(kFrame));
  const auto page = rig.shadow.page_of(kFrame);
  REQUIRE(page);
  CHECK(rig.shadow.patch_at(*page, 3) == nullptr);
}

TEST_CASE("code shadow: a patch found in changed bytes replaces the patches found before the change") {
  Rig rig;
  rig.put(kFrame, {0x0F, 0x31, 0x90, 0x0F, 0x32});
  REQUIRE(rig.shadow.add(kFrame, patch(0, TrappedInstruction::rdtsc, 2)));
  rig.put(kFrame, {0x0F, 0xAE, 0xE8, 0x0F, 0x31});  // lfence; rdtsc: the RDTSC moved on
  REQUIRE(rig.shadow.add(kFrame, patch(3, TrappedInstruction::rdtsc, 2)));
  const auto page = rig.shadow.exec_page(kFrame);
  REQUIRE(page);
  CHECK(rig.shadow.patch_at(*page, 0) == nullptr);
  CHECK(rig.shadow.patch_at(*page, 3) != nullptr);
  CHECK(rig.shadow_bytes(*page, 0, 5) == std::vector<std::uint8_t>{0x0F, 0xAE, 0xE8, 0x0F, 0x05});
}

TEST_CASE("code shadow: a frame that keeps changing unseen is left to the code hooks") {
  Rig rig;
  rig.put(kFrame, {0x0F, 0x32});
  for (std::uint32_t round = 0; round < X86CodeShadow::kMaxUnseenChanges; ++round) {
    REQUIRE(rig.shadow.add(kFrame, patch(0, TrappedInstruction::rdmsr, 2)));
    rig.put(kFrame + 0x900, {static_cast<std::uint8_t>(round + 1)});  // data next to the code, written unseen
    CHECK_FALSE(rig.shadow.exec_page(kFrame));
  }
  CHECK_FALSE(rig.shadow.add(kFrame, patch(0, TrappedInstruction::rdmsr, 2)));
}

TEST_CASE("code shadow: a patch the frame's bytes do not hold is refused") {
  Rig rig;
  rig.put(kFrame, {0x0F, 0x30, 0x90, 0x90});
  CHECK_FALSE(rig.shadow.add(kFrame, patch(0, TrappedInstruction::rdmsr, 2)));  // a WRMSR is there
  CHECK_FALSE(rig.shadow.add(kFrame, patch(2, TrappedInstruction::rdtsc, 2)));
  CHECK(rig.shadow.add(kFrame, patch(0, TrappedInstruction::wrmsr, 2)));
}

TEST_CASE("code shadow: patches across the page end, of a wrong length or overlapping another are refused") {
  Rig rig;
  rig.put(kFrame + 0xFFE, {0x0F, 0x01});
  rig.put(kFrame + 0x10, {0x0F, 0x01, 0xC1, 0x0F, 0x32});
  CHECK_FALSE(rig.shadow.add(kFrame, patch(0xFFF, TrappedInstruction::rdmsr, 2)));
  CHECK_FALSE(rig.shadow.add(kFrame, patch(0xFFE, TrappedInstruction::rdtscp, 3)));
  CHECK_FALSE(rig.shadow.add(kFrame, patch(0x10, TrappedInstruction::rdmsr, 4)));
  REQUIRE(rig.shadow.add(kFrame, patch(0x10, TrappedInstruction::hypercall, 3)));
  CHECK_FALSE(rig.shadow.add(kFrame, patch(0x11, TrappedInstruction::rdmsr, 2)));
  CHECK(rig.shadow.add(kFrame, patch(0x10, TrappedInstruction::hypercall, 3)));  // the same one again
  CHECK(rig.shadow.add(kFrame, patch(0x13, TrappedInstruction::rdmsr, 2)));      // right after it
}

TEST_CASE("code shadow: once every slot holds a frame, another frame is refused") {
  RamGuestMemory ram((X86CodeShadow::kSlots + 1) * X86CodeShadow::kPageSize);
  auto uc = softsynic::emu::unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
  X86CodeShadow shadow(uc.get(), ram);
  const std::array<std::uint8_t, 10> code = {0x0F, 0x32, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x0F, 0x30};
  for (std::uint64_t i = 0; i <= X86CodeShadow::kSlots; ++i)
    REQUIRE(ram.write(i * X86CodeShadow::kPageSize, std::as_bytes(std::span{code})));
  for (std::uint64_t i = 0; i < X86CodeShadow::kSlots; ++i)
    REQUIRE(shadow.add(i * X86CodeShadow::kPageSize, patch(0, TrappedInstruction::rdmsr, 2)));
  CHECK(shadow.frames() == X86CodeShadow::kSlots);
  CHECK_FALSE(shadow.add(X86CodeShadow::kSlots * X86CodeShadow::kPageSize, patch(0, TrappedInstruction::rdmsr, 2)));
  CHECK(shadow.add(0, patch(8, TrappedInstruction::wrmsr, 2)));  // a frame that has a slot still takes patches
}

TEST_CASE("code shadow: after a host write every patch goes") {
  Rig rig;
  rig.put(kFrame, {0x0F, 0x32});
  REQUIRE(rig.shadow.add(kFrame, patch(0, TrappedInstruction::rdmsr, 2)));
  rig.shadow.forget_all();
  CHECK_FALSE(rig.shadow.active(kFrame));
  CHECK_FALSE(rig.shadow.exec_page(kFrame));
}
