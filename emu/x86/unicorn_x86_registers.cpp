// UnicornX86Registers: X86Registers and X86EntryRegisters over Unicorn.
#include "emu/x86/unicorn_x86_registers.h"

#include <algorithm>
#include <array>

#include "emu/x86/unicorn_x86_internals.h"
#include "emu/x86/x86_privilege.h"

namespace softsynic::emu::x86 {
namespace {

// Indexed by X86Reg.
constexpr std::array<int, kX86RegCount> kUcRegs = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_RFLAGS,
};

constexpr std::size_t kGprCount = 16;
static_assert(static_cast<unsigned>(X86Reg::rip) == kGprCount, "X86Reg: the 16 GPRs in QEMU's order, then RIP");
static_assert(kLiveRip == kGprCount);

// By Unicorn register id: the live-state slot (X86Reg order), -1 when not
// direct. Reads: the GPRs, RIP; writes: the GPRs only.
constexpr int kNotDirect = -1;
struct DirectSlots {
  std::array<std::int8_t, UC_X86_REG_ENDING> read{};
  std::array<std::int8_t, UC_X86_REG_ENDING> write{};
};
constexpr DirectSlots make_direct_slots() {
  DirectSlots s;
  s.read.fill(kNotDirect);
  s.write.fill(kNotDirect);
  for (std::size_t i = 0; i <= kGprCount; ++i) s.read[static_cast<std::size_t>(kUcRegs[i])] = static_cast<std::int8_t>(i);
  for (std::size_t i = 0; i < kGprCount; ++i) s.write[static_cast<std::size_t>(kUcRegs[i])] = static_cast<std::int8_t>(i);
  return s;
}
constexpr DirectSlots kDirect = make_direct_slots();

}  // namespace

UnicornX86Registers::UnicornX86Registers(uc_engine* uc, Access access) : uc_(uc) {
  static_assert(kLiveRipSlot == kLiveRip);
  if (access != Access::direct_when_proved) return;
  live_ = x86_live_registers(uc);
  if (live_ == nullptr) return;
  const X86LiveStateLayout& layout = x86_live_state();
  cr_ = live_ + layout.cr0 / sizeof(std::uint64_t);
  cs_ = reinterpret_cast<const std::uint32_t*>(reinterpret_cast<const std::uint8_t*>(live_) + layout.cs);
}

std::uint16_t UnicornX86Registers::cs() const {
  return static_cast<std::uint16_t>(cs_ != nullptr ? *cs_ : read(UC_X86_REG_CS));
}

std::uint64_t UnicornX86Registers::read(int uc_reg) const {
  if (live_ != nullptr && uc_reg > 0 && uc_reg < UC_X86_REG_ENDING) {
    const int slot = kDirect.read[static_cast<std::size_t>(uc_reg)];
    if (slot != kNotDirect) return live_[slot];
    if (uc_reg == UC_X86_REG_CR0) return cr_[0];
    if (uc_reg == UC_X86_REG_CR3) return cr_[3];
    if (uc_reg == UC_X86_REG_CR4) return cr_[4];
  }
  std::uint64_t value = 0;
  uc_reg_read(uc_, uc_reg, &value);
  return value;
}

void UnicornX86Registers::write(int uc_reg, std::uint64_t value) {
  if (live_ != nullptr && uc_reg > 0 && uc_reg < UC_X86_REG_ENDING) {
    const int slot = kDirect.write[static_cast<std::size_t>(uc_reg)];
    if (slot != kNotDirect) {
      live_[slot] = value;
      return;
    }
  }
  uc_reg_write(uc_, uc_reg, &value);
}

std::uint64_t UnicornX86Registers::get(X86Reg reg) const {
  auto i = static_cast<unsigned>(reg);
  if (live_ != nullptr && i <= kGprCount) return live_[i];
  return i < kUcRegs.size() ? read(kUcRegs[i]) : 0;
}

void UnicornX86Registers::set(X86Reg reg, std::uint64_t value) {
  auto i = static_cast<unsigned>(reg);
  if (live_ != nullptr && i < kGprCount) {
    live_[i] = value;
    return;
  }
  if (i < kUcRegs.size()) write(kUcRegs[i], value);
}

void UnicornX86Registers::get_many(std::span<const X86Reg> regs, std::span<std::uint64_t> out) const {
  if (live_ != nullptr) {
    const std::size_t n = std::min(regs.size(), out.size());
    for (std::size_t i = 0; i < n; ++i) out[i] = get(regs[i]);
    return;
  }
  // One Unicorn call for the lot: about 15 ns for three instead of 26.
  constexpr std::size_t kMax = 8;
  int ids[kMax];
  void* values[kMax];
  const std::size_t n = std::min({regs.size(), out.size(), kMax});
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = static_cast<unsigned>(regs[i]);
    out[i] = 0;
    ids[i] = r < kUcRegs.size() ? kUcRegs[r] : UC_X86_REG_RAX;
    values[i] = &out[i];
  }
  uc_reg_read_batch(uc_, ids, values, static_cast<int>(n));
  for (std::size_t i = 0; i < n; ++i) {
    if (static_cast<unsigned>(regs[i]) >= kUcRegs.size()) out[i] = 0;  // as get() answers
  }
  for (std::size_t i = n; i < regs.size() && i < out.size(); ++i) out[i] = get(regs[i]);
}

Uint128 UnicornX86Registers::get_xmm(unsigned n) const {
  std::uint64_t v[2] = {0, 0};
  if (n < kXmmCount) uc_reg_read(uc_, UC_X86_REG_XMM0 + static_cast<int>(n), v);
  return {v[0], v[1]};
}

void UnicornX86Registers::set_xmm(unsigned n, Uint128 value) {
  std::uint64_t v[2] = {value.low, value.high};
  if (n < kXmmCount) uc_reg_write(uc_, UC_X86_REG_XMM0 + static_cast<int>(n), v);
}

// Unicorn loads the descriptor from the guest GDT on a selector write, as
// the CPU does on a far transfer.
void UnicornX86Registers::set_cs(std::uint16_t selector) {
  std::uint64_t v = selector;
  uc_reg_write(uc_, UC_X86_REG_CS, &v);
}

void UnicornX86Registers::set_cr2(std::uint64_t value) {
  const std::uint64_t cr3 = read(UC_X86_REG_CR3);
  write(UC_X86_REG_CR2, value);
  write(UC_X86_REG_CR3, cr3);
}

void UnicornX86Registers::flush_tlb() { write(UC_X86_REG_CR3, read(UC_X86_REG_CR3)); }

void UnicornX86Registers::set_ss(std::uint16_t selector) {
  std::uint64_t v = selector;
  uc_reg_write(uc_, UC_X86_REG_SS, &v);
}

// 64-bit entry: SS is the null selector of the new CPL, CS the handler's
// 64-bit code (its base and limit do not matter in 64-bit mode).
void UnicornX86Registers::switch_privilege(std::uint16_t cs, std::uint16_t ss) {
  if (privilege_ == nullptr) {
    X86EntryRegisters::switch_privilege(cs, ss);
    return;
  }
  privilege_->load_segments(uc_, x86_flat_code64(cs), x86_null_stack(ss & 3u));
}

std::uint64_t UnicornX86Registers::msr(std::uint32_t index) const {
  uc_x86_msr m{index, 0};
  uc_reg_read(uc_, UC_X86_REG_MSR, &m);
  return m.value;
}

devices::X86DescriptorTables UnicornX86Registers::descriptor_tables() const {
  uc_x86_mmr idtr{};
  uc_reg_read(uc_, UC_X86_REG_IDTR, &idtr);
  devices::X86DescriptorTables tables;
  tables.idt_base = idtr.base;
  tables.idt_limit = static_cast<std::uint16_t>(idtr.limit);
  // The 64-bit TSS (IST stacks, RSP0) once the guest has loaded TR.
  uc_x86_mmr tr{};
  uc_reg_read(uc_, UC_X86_REG_TR, &tr);
  if ((tr.selector & 0xFFFC) != 0) tables.tss_base = tr.base;
  return tables;
}

}  // namespace softsynic::emu::x86
