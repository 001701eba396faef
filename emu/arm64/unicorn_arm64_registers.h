// UnicornArm64Registers: one ARM64 Unicorn engine's register file seen
// through the hooks' interfaces: cpu_hooks' Arm64Registers (X0-X30 for
// HVC) and devices' Arm64EntryRegisters (PC, PSTATE, ELR_EL1, SPSR_EL1,
// VBAR_EL1, ESR_EL1, FAR_EL1 for exception entry). Every access is a
// uc_reg_read/uc_reg_write, so values are never stale, including from
// inside Unicorn hooks.
// set_pstate does what Unicorn 2.1's PSTATE write leaves out (measured;
// proved by the self-test in unicorn_arm64_internals.h): it banks the
// stack pointer (Unicorn keeps the current SP in SP and the others in
// SP_EL0..SP_EL3, switching them only in its own exception return and
// MSR SPSel), and it refreshes the cached translation flags, whose EL
// decides privileged instructions and the MMU regime (only system
// register writes refresh them: a no-op VBAR_EL1 write does).
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
  void set_pstate(std::uint64_t value) override;
  std::uint64_t elr_el1() const override { return get(UC_ARM64_REG_ELR_EL1); }
  void set_elr_el1(std::uint64_t value) override { set(UC_ARM64_REG_ELR_EL1, value); }
  std::uint64_t spsr_el1() const override;
  void set_spsr_el1(std::uint64_t value) override;
  std::uint64_t vbar_el1() const override { return get(UC_ARM64_REG_VBAR_EL1); }
  void set_esr_el1(std::uint64_t value) override { set(UC_ARM64_REG_ESR_EL1, value); }
  void set_far_el1(std::uint64_t value) override { set(UC_ARM64_REG_FAR_EL1, value); }

  // The current stack pointer (PSTATE's choice).
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

// The host-side EL2/EL3 set-up for a guest at Non-secure EL1: SCR_EL3.NS
// (Unicorn starts Secure), SCR_EL3.HCE (HVC traps instead of being
// undefined), SCR_EL3.RW and HCR_EL2.RW (the higher levels are AArch64, so
// ERET from the guest's handlers stays in AArch64).
void prepare_non_secure_el1(UnicornArm64Registers& regs);

}  // namespace softsynic::emu::arm64
