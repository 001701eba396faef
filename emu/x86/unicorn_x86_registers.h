// UnicornX86Registers: the x86-64 register file of one Unicorn engine, seen
// through the two interfaces the plug-in layers use: cpu_hooks'
// X86Registers (hypercall ABIs) and devices' X86EntryRegisters (interrupt
// and exception delivery). Every access goes straight to the engine, so it
// is valid inside hooks (a PC written there is where execution continues).
// 32-bit mode: the engine's register view is UC_MODE_64's in every CPU mode
// (full registers); long_mode() is what the engine last set.
//
// Direct access: when the self-test of unicorn_x86_internals.h has found
// the engine's live CPU state, the general registers (reads and writes),
// RIP, CR0/CR3/CR4 and CS reads are plain memory accesses there, a few
// nanoseconds instead of a Unicorn call each; RIP writes (Unicorn must end
// the translated block when a hook moves the PC), RFLAGS (computed lazily)
// and everything else still go through uc_reg_read/uc_reg_write, as do all
// registers when the self-test failed or Access::unicorn_api is asked for.
//
// Threading: engine-affine.
#pragma once

#include <unicorn/unicorn.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "cpu_hooks/x86_registers.h"
#include "devices/x86_interrupt_entry.h"

namespace softsynic::emu::x86 {

class PrivilegeState;

class UnicornX86Registers final : public X86Registers, public devices::X86EntryRegisters {
 public:
  enum class Access { direct_when_proved, unicorn_api };
  explicit UnicornX86Registers(uc_engine* uc, Access access = Access::direct_when_proved);
  // Whether this engine's registers are read in its live CPU state.
  bool direct() const { return live_ != nullptr; }

  // X86Registers
  std::uint64_t get(X86Reg reg) const override;
  void set(X86Reg reg, std::uint64_t value) override;
  Uint128 get_xmm(unsigned n) const override;
  void set_xmm(unsigned n, Uint128 value) override;
  bool long_mode() const override { return long_mode_; }
  void get_many(std::span<const X86Reg> regs, std::span<std::uint64_t> out) const override;
  // The engine says when the CPU runs 64-bit code (the pc platform starts
  // in 32-bit or real mode); hypercalls then use the 64-bit convention.
  void set_long_mode(bool on) { long_mode_ = on; }

  // X86EntryRegisters
  std::uint64_t rip() const override { return live_ != nullptr ? live_[kLiveRipSlot] : read(UC_X86_REG_RIP); }
  void set_rip(std::uint64_t value) override { write(UC_X86_REG_RIP, value); }
  std::uint64_t rsp() const override { return get(X86Reg::rsp); }
  void set_rsp(std::uint64_t value) override { write(UC_X86_REG_RSP, value); }
  std::uint64_t rflags() const override { return read(UC_X86_REG_RFLAGS); }
  void set_rflags(std::uint64_t value) override { write(UC_X86_REG_RFLAGS, value); }
  std::uint16_t cs() const override;
  void set_cs(std::uint16_t selector) override;
  std::uint16_t ss() const override { return static_cast<std::uint16_t>(read(UC_X86_REG_SS)); }
  void set_ss(std::uint16_t selector) override;
  // With a PrivilegeState (set_privilege), through Unicorn's hidden state:
  // selector writes alone leave the CPL as it was (unicorn_x86_internals.h).
  void switch_privilege(std::uint16_t cs, std::uint16_t ss) override;
  void set_privilege(PrivilegeState* privilege) { privilege_ = privilege; }

  // CR2 (a page fault's address). Unicorn 2.1.1 also loads the value's low
  // 32 bits into CR3 when CR2 is written: CR3 is put back.
  void set_cr2(std::uint64_t value);
  // Drops the CPU's TLB (by writing CR3 with its own value), keeping the
  // translated code.
  void flush_tlb();

  // CR0, CR3 and CR4 (the paging state), direct when proved.
  std::uint64_t cr0() const { return cr_ != nullptr ? cr_[0] : read(UC_X86_REG_CR0); }
  std::uint64_t cr3() const { return cr_ != nullptr ? cr_[3] : read(UC_X86_REG_CR3); }
  std::uint64_t cr4() const { return cr_ != nullptr ? cr_[4] : read(UC_X86_REG_CR4); }

  // Raw access by Unicorn register id (direct where the named accessors
  // are), and MSRs by number.
  std::uint64_t read(int uc_reg) const;
  void write(int uc_reg, std::uint64_t value);
  std::uint64_t msr(std::uint32_t index) const;
  uc_engine* engine() const { return uc_; }

  // IDTR and the TSS base (when TR is loaded) as the delivery helper wants them.
  devices::X86DescriptorTables descriptor_tables() const;

 private:
  static constexpr std::size_t kLiveRipSlot = 16;  // kLiveRip (unicorn_x86_internals.h)

  uc_engine* uc_;
  std::uint64_t* live_ = nullptr;  // the engine's RAX, RCX, ..., R15, RIP; null: Unicorn calls
  std::uint64_t* cr_ = nullptr;    // its CR0..CR4
  const std::uint32_t* cs_ = nullptr;  // its CS selector
  PrivilegeState* privilege_ = nullptr;
  bool long_mode_ = true;
};

}  // namespace softsynic::emu::x86
