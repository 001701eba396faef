// UnicornArm64Registers: one ARM64 Unicorn engine's register file seen
// through the hooks' interfaces: cpu_hooks' Arm64Registers (X0-X30 for
// HVC) and devices' Arm64EntryRegisters (PC, PSTATE, ELR_EL1, SPSR_EL1,
// VBAR_EL1 for IRQ entry). Every access is a uc_reg_read/uc_reg_write, so
// values are never stale, including from inside Unicorn hooks.
// Not supported: SIMD/FP registers (no hook needs them).
//
// Threading: engine-affine (the owning VP's strand).
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>

#include "cpu_hooks/arm64_registers.h"
#include "devices/arm64/irq_entry.h"

namespace softsynic::emu::arm64 {

class UnicornArm64Registers final : public Arm64Registers, public devices::Arm64EntryRegisters {
 public:
  explicit UnicornArm64Registers(uc_engine* uc) : uc_(uc) {}

  // Arm64Registers
  std::uint64_t get_x(unsigned n) const override;
  void set_x(unsigned n, std::uint64_t value) override;

  // Arm64EntryRegisters
  std::uint64_t pc() const override { return get(UC_ARM64_REG_PC); }
  void set_pc(std::uint64_t value) override { set(UC_ARM64_REG_PC, value); }
  std::uint64_t pstate() const override { return get(UC_ARM64_REG_PSTATE); }
  void set_pstate(std::uint64_t value) override { set(UC_ARM64_REG_PSTATE, value); }
  std::uint64_t elr_el1() const override { return get(UC_ARM64_REG_ELR_EL1); }
  void set_elr_el1(std::uint64_t value) override { set(UC_ARM64_REG_ELR_EL1, value); }
  std::uint64_t spsr_el1() const override;
  void set_spsr_el1(std::uint64_t value) override;
  std::uint64_t vbar_el1() const override { return get(UC_ARM64_REG_VBAR_EL1); }

  std::uint64_t sp() const { return get(UC_ARM64_REG_SP); }
  void set_sp(std::uint64_t value) { set(UC_ARM64_REG_SP, value); }

  // A register by Unicorn id (as MRS/MSR hooks name Rt); XZR reads 0 and
  // ignores writes.
  std::uint64_t get(int reg) const;
  void set(int reg, std::uint64_t value);

  // A system register by encoding, through UC_ARM64_REG_CP_REG.
  std::uint64_t get_sysreg(std::uint32_t op0, std::uint32_t op1, std::uint32_t crn, std::uint32_t crm,
                           std::uint32_t op2) const;
  void set_sysreg(std::uint32_t op0, std::uint32_t op1, std::uint32_t crn, std::uint32_t crm, std::uint32_t op2,
                  std::uint64_t value);

 private:
  uc_engine* uc_;
};

}  // namespace softsynic::emu::arm64
