// The reference emulator's x86 register adapter over Unicorn: batched reads
// give what single reads give, and long_mode() follows the engine; the
// hidden-state self-tests pass; direct registers agree with Unicorn's own
// calls both ways, between runs and inside hooks; SYSCALL's transition as
// values.
#include <doctest/doctest.h>

#include <array>
#include <cstdlib>
#include <string>

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

// The direct path is taken unless SOFTSYNIC_X86_DIRECT_REGS_SELFTEST=fail
// forces the fallback; then every register goes through Unicorn's calls.
TEST_CASE("unicorn x86 direct registers: the self-test passes on this library, or is forced to fail") {
  const x86::X86LiveStateLayout& layout = x86::x86_live_state();
  unicorn::UcHandle uc = unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
  x86::UnicornX86Registers regs(uc.get());
  INFO(layout.failure);
  if (const char* forced = std::getenv(x86::kDirectRegsSelftestEnv); forced != nullptr) {
    CHECK_FALSE(layout.ok);
    CHECK(layout.failure.find("forced") != std::string::npos);
    CHECK_FALSE(regs.direct());
    CHECK(x86::x86_live_registers(uc.get()) == nullptr);
  } else {
    CHECK(layout.ok);
    CHECK(regs.direct());
  }
  // Either way the registers work.
  regs.set(X86Reg::r9, 0x9999);
  CHECK(regs.get(X86Reg::r9) == 0x9999);
  x86::UnicornX86Registers api(uc.get(), x86::UnicornX86Registers::Access::unicorn_api);
  CHECK_FALSE(api.direct());
  CHECK(api.get(X86Reg::r9) == 0x9999);
}

namespace {

std::uint64_t uc_read(uc_engine* uc, int id) {
  std::uint64_t v = 0;
  uc_reg_read(uc, id, &v);
  return v;
}

void uc_write(uc_engine* uc, int id, std::uint64_t v) { uc_reg_write(uc, id, &v); }

constexpr std::array<int, 17> kUcIds = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15, UC_X86_REG_RIP};

}  // namespace

TEST_CASE("unicorn x86 direct registers: what one path writes the other reads, engine by engine") {
  // Two engines at once: each finds its own state.
  unicorn::UcHandle a = unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
  unicorn::UcHandle b = unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
  x86::UnicornX86Registers ra(a.get()), rb(b.get());
  if (!ra.direct()) {
    MESSAGE("direct registers unavailable: " << x86::x86_live_state().failure);
    return;
  }
  REQUIRE(rb.direct());
  for (unsigned i = 0; i < 16; ++i) {
    INFO(i);
    ra.set(X86Reg(i), 0xA000'0000'0000'0000ull + i);
    rb.set(X86Reg(i), 0xB000'0000'0000'0000ull + i);
  }
  for (unsigned i = 0; i < 16; ++i) {
    INFO(i);
    CHECK(uc_read(a.get(), kUcIds[i]) == 0xA000'0000'0000'0000ull + i);
    CHECK(uc_read(b.get(), kUcIds[i]) == 0xB000'0000'0000'0000ull + i);
    uc_write(a.get(), kUcIds[i], 0xC000'0000'0000'0000ull + i);
    CHECK(ra.get(X86Reg(i)) == 0xC000'0000'0000'0000ull + i);
    CHECK(ra.read(kUcIds[i]) == 0xC000'0000'0000'0000ull + i);
    ra.write(kUcIds[i], i);
    CHECK(uc_read(a.get(), kUcIds[i]) == i);
  }
  // RIP: read directly, written through Unicorn; RFLAGS through Unicorn.
  ra.set_rip(0x1234'5678);
  CHECK(ra.rip() == 0x1234'5678);
  CHECK(uc_read(a.get(), UC_X86_REG_RIP) == 0x1234'5678);
  uc_write(a.get(), UC_X86_REG_RIP, 0x4000);
  CHECK(ra.rip() == 0x4000);
  CHECK(ra.get(X86Reg::rip) == 0x4000);
  ra.set_rflags(0x202);
  CHECK(ra.rflags() == 0x202);
  // CR0, CR3, CR4 read directly what Unicorn holds.
  uc_write(a.get(), UC_X86_REG_CR3, 0x0012'3000);
  CHECK(ra.cr3() == 0x0012'3000);
  CHECK(ra.read(UC_X86_REG_CR3) == 0x0012'3000);
  CHECK(ra.cr0() == uc_read(a.get(), UC_X86_REG_CR0));
  CHECK(ra.cr4() == uc_read(a.get(), UC_X86_REG_CR4));
  CHECK(rb.cr3() == uc_read(b.get(), UC_X86_REG_CR3));
  // CS's selector read directly (a 64-bit engine's selector write loads nothing else).
  uc_write(a.get(), UC_X86_REG_CS, 0x33);
  CHECK(ra.cs() == 0x33);
  CHECK(rb.cs() == uc_read(b.get(), UC_X86_REG_CS));
  // get_many on the direct path.
  const std::array<X86Reg, 3> names = {X86Reg::rdx, X86Reg::rip, X86Reg::rflags};
  std::array<std::uint64_t, 3> got{};
  ra.get_many(names, got);
  CHECK(got[0] == uc_read(a.get(), UC_X86_REG_RDX));
  CHECK(got[1] == 0x4000);
  CHECK(got[2] == uc_read(a.get(), UC_X86_REG_RFLAGS));
}

namespace {

struct CpuidProbe {
  x86::UnicornX86Registers* regs = nullptr;
  std::uint64_t seen_rcx = 0, seen_rip = 0;
};

// CPUID's hook as a trap handler uses it: read RCX, answer in RAX and RBX,
// and skip the instruction (Unicorn then does not run its own CPUID).
int on_cpuid(uc_engine*, void* user) {
  auto& probe = *static_cast<CpuidProbe*>(user);
  probe.seen_rcx = probe.regs->get(X86Reg::rcx);
  probe.seen_rip = probe.regs->rip();
  probe.regs->set(X86Reg::rax, 0x1111);
  probe.regs->set(X86Reg::rbx, 0x2222);
  return 1;
}

}  // namespace

TEST_CASE("unicorn x86 direct registers: inside a hook, the guest sees what the hook stored") {
  unicorn::UcHandle uc = unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
  x86::UnicornX86Registers regs(uc.get());
  // 0x1000: mov ecx, 7; cpuid; mov rdx, rax; add rdx, rbx
  const std::array<std::uint8_t, 14> code = {0xB9, 0x07, 0x00, 0x00, 0x00, 0x0F, 0xA2,
                                             0x48, 0x89, 0xC2, 0x48, 0x01, 0xDA, 0x90};
  REQUIRE(uc_mem_map(uc.get(), 0x1000, 0x1000, UC_PROT_ALL) == UC_ERR_OK);
  REQUIRE(uc_mem_write(uc.get(), 0x1000, code.data(), code.size()) == UC_ERR_OK);
  CpuidProbe probe;
  probe.regs = &regs;
  uc_hook h;
  REQUIRE(uc_hook_add(uc.get(), &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_cpuid), &probe, 1, 0,
                      UC_X86_INS_CPUID) == UC_ERR_OK);
  REQUIRE(uc_emu_start(uc.get(), 0x1000, 0x1000 + code.size(), 0, 0) == UC_ERR_OK);
  CHECK(probe.seen_rcx == 7);
  CHECK(probe.seen_rip == 0x1005);
  CHECK(regs.get(X86Reg::rdx) == 0x3333);
  CHECK(uc_read(uc.get(), UC_X86_REG_RDX) == 0x3333);
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
