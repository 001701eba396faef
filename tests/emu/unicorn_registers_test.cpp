// The reference emulator's x86 register adapter over Unicorn: batched reads
// give what single reads give, and long_mode() follows the engine; the
// hidden-state self-tests pass; SYSCALL's transition as values.
#include <doctest/doctest.h>

#include <array>
#include <cstdlib>

#include "emu/unicorn/uc_engine.h"
#include "emu/x86/unicorn_x86_internals.h"
#include "emu/x86/unicorn_x86_registers.h"
#include "emu/x86/x86_privilege.h"

using namespace softsynic;
using namespace softsynic::emu;

TEST_CASE("unicorn x86 registers: get_many reads what get reads, out-of-range names read 0") {
  unicorn::UcHandle uc = unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
  x86::UnicornX86Registers regs(uc.get());
  for (unsigned i = 0; i < 16; ++i) regs.set(X86Reg(i), 0x1111'0000'0000'0000ull * (i + 1) + i);
  const std::array<X86Reg, 7> names = {X86Reg::rcx, X86Reg::rdx, X86Reg::r8, X86Reg::rax,
                                       X86Reg::r15, X86Reg::rsi, X86Reg(200)};
  std::array<std::uint64_t, 7> got{};
  got.fill(0xDEAD);
  regs.get_many(names, got);
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO(i);
    CHECK(got[i] == regs.get(names[i]));
  }
  CHECK(got[6] == 0);
  // More names than one batch holds: the rest are read one by one.
  std::array<X86Reg, 12> many{};
  std::array<std::uint64_t, 12> out{};
  for (unsigned i = 0; i < many.size(); ++i) many[i] = X86Reg(i);
  regs.get_many(many, out);
  for (unsigned i = 0; i < many.size(); ++i) CHECK(out[i] == regs.get(X86Reg(i)));
  CHECK(regs.long_mode());
  regs.set_long_mode(false);
  CHECK_FALSE(regs.long_mode());
}

// The installed library passes both self-tests: the fault layout, and user
// mode (IRETQ to ring 3, SYSCALL to ring 0 with MOV to CR3 there, SYSRETQ
// back, a #GP from ring 3 landing at CPL 0 on TSS.RSP0).
TEST_CASE("unicorn x86 internals: the fault and user-mode self-tests pass on this library") {
  const emu::x86::UnicornX86Layout& layout = emu::x86::x86_internals();
  INFO(layout.failure);
  CHECK(layout.ok);
  const emu::x86::UserModeVerdict& user = emu::x86::x86_user_mode();
  INFO(user.failure);
  if (std::getenv(emu::x86::kUserModeSelftestEnv) == nullptr) CHECK(user.ok);
}

TEST_CASE("x86 SYSCALL transition: RCX, R11, FMASK, STAR's selectors at CPL 0, LSTAR") {
  emu::x86::X86SyscallInput in;
  in.next_rip = 0x401002;
  in.rflags = 0x10202 | 0x100;  // RF, IF, TF
  in.star = (std::uint64_t{0x23} << 48) | (std::uint64_t{0x10} << 32);
  in.lstar = 0xFFFF'FFFF'8100'0000;
  in.fmask = 0x100 | 0x200;
  const emu::x86::X86SyscallEntry e = emu::x86::x86_syscall_entry(in);
  CHECK(e.rcx == 0x401002);
  CHECK(e.r11 == in.rflags);
  CHECK(e.rflags == 0x2);  // TF, IF masked; RF cleared; bit 1 set
  CHECK(e.rip == in.lstar);
  CHECK(e.cs.selector == 0x10);
  CHECK(e.cs.dpl() == 0);
  CHECK((e.cs.attributes & emu::x86::seg_attr::kLong) != 0);
  CHECK(e.ss.selector == 0x18);
  CHECK(e.ss.dpl() == 0);
  CHECK((e.ss.attributes & emu::x86::seg_attr::kCode) == 0);
  // An interrupt entry from ring 3 to ring 0 in 64-bit mode: null SS, RPL 0.
  CHECK(emu::x86::x86_null_stack(0).selector == 0);
  CHECK(emu::x86::x86_flat_code64(0x08).dpl() == 0);
  CHECK(emu::x86::x86_flat_code64(0x23).dpl() == 3);
}
