// The reference emulator's x86 register adapter over Unicorn: batched reads
// give what single reads give, and long_mode() follows the engine.
#include <doctest/doctest.h>

#include <array>

#include "emu/unicorn/uc_engine.h"
#include "emu/x86/unicorn_x86_registers.h"

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
