// UnicornArm64Registers: see unicorn_arm64_registers.h.
#include "emu/arm64/unicorn_arm64_registers.h"

namespace softsynic::emu::arm64 {
namespace {

// SPSR_EL1: op0 3, op1 0, CRn 4, CRm 0, op2 0.
constexpr std::uint32_t kSpsrEl1[] = {3, 0, 4, 0, 0};
// VBAR_EL1: op0 3, op1 0, CRn 12, CRm 0, op2 0.
constexpr std::uint32_t kVbarEl1[] = {3, 0, 12, 0, 0};

constexpr std::uint64_t kScrNs = 1u << 0;
constexpr std::uint64_t kScrHce = 1u << 8;
constexpr std::uint64_t kScrRw = 1u << 10;
constexpr std::uint64_t kHcrRw = std::uint64_t{1} << 31;

// PSTATE.M[3:2] is the EL, M[0] the stack pointer choice (SP_EL0 or
// SP_ELx).
constexpr unsigned exception_level(std::uint64_t ps) { return static_cast<unsigned>(ps >> 2 & 3); }
constexpr unsigned stack_in_use(std::uint64_t ps) { return (ps & 1) != 0 ? exception_level(ps) : 0; }
constexpr int kSpEl[] = {UC_ARM64_REG_SP_EL0, UC_ARM64_REG_SP_EL1, UC_ARM64_REG_SP_EL2, UC_ARM64_REG_SP_EL3};

int x_register(unsigned n) {
  // X0-X28 are contiguous in Unicorn's enum; X29 and X30 are not.
  if (n <= 28) return UC_ARM64_REG_X0 + static_cast<int>(n);
  if (n == 29) return UC_ARM64_REG_X29;
  if (n == 30) return UC_ARM64_REG_X30;
  return UC_ARM64_REG_XZR;
}

}  // namespace

std::uint64_t UnicornArm64Registers::get(int reg) const {
  if (reg == UC_ARM64_REG_XZR || reg == UC_ARM64_REG_WZR) return 0;
  std::uint64_t value = 0;
  uc_reg_read(uc_, reg, &value);
  return value;
}

void UnicornArm64Registers::set(int reg, std::uint64_t value) {
  if (reg == UC_ARM64_REG_XZR || reg == UC_ARM64_REG_WZR) return;
  uc_reg_write(uc_, reg, &value);
}

std::uint64_t UnicornArm64Registers::get_x(unsigned n) const { return n < kArm64XCount ? get(x_register(n)) : 0; }

void UnicornArm64Registers::set_x(unsigned n, std::uint64_t value) {
  if (n < kArm64XCount) set(x_register(n), value);
}

std::uint64_t UnicornArm64Registers::get_sysreg(std::uint32_t op0, std::uint32_t op1, std::uint32_t crn,
                                                std::uint32_t crm, std::uint32_t op2) const {
  uc_arm64_cp_reg reg{crn, crm, op0, op1, op2, 0};
  uc_reg_read(uc_, UC_ARM64_REG_CP_REG, &reg);
  return reg.val;
}

void UnicornArm64Registers::set_sysreg(std::uint32_t op0, std::uint32_t op1, std::uint32_t crn, std::uint32_t crm,
                                       std::uint32_t op2, std::uint64_t value) {
  uc_arm64_cp_reg reg{crn, crm, op0, op1, op2, value};
  uc_reg_write(uc_, UC_ARM64_REG_CP_REG, &reg);
}

void UnicornArm64Registers::set_pstate(std::uint64_t value) {
  const std::uint64_t before = pstate();
  const unsigned from = stack_in_use(before), to = stack_in_use(value);
  if (from != to) set(kSpEl[from], sp());
  set(UC_ARM64_REG_PSTATE, value);
  if (from != to) set_sp(get(kSpEl[to]));
  if (exception_level(before) != exception_level(value)) {
    const std::uint64_t vbar = get_sysreg(kVbarEl1[0], kVbarEl1[1], kVbarEl1[2], kVbarEl1[3], kVbarEl1[4]);
    set_sysreg(kVbarEl1[0], kVbarEl1[1], kVbarEl1[2], kVbarEl1[3], kVbarEl1[4], vbar);
  }
}

void prepare_non_secure_el1(UnicornArm64Registers& regs) {
  // SCR_EL3 (op0 3, op1 6, CRn 1, CRm 1, op2 0) and HCR_EL2 (op1 4).
  regs.set_sysreg(3, 6, 1, 1, 0, regs.get_sysreg(3, 6, 1, 1, 0) | kScrNs | kScrHce | kScrRw);
  regs.set_sysreg(3, 4, 1, 1, 0, regs.get_sysreg(3, 4, 1, 1, 0) | kHcrRw);
}

std::uint64_t UnicornArm64Registers::spsr_el1() const {
  return get_sysreg(kSpsrEl1[0], kSpsrEl1[1], kSpsrEl1[2], kSpsrEl1[3], kSpsrEl1[4]);
}

void UnicornArm64Registers::set_spsr_el1(std::uint64_t value) {
  set_sysreg(kSpsrEl1[0], kSpsrEl1[1], kSpsrEl1[2], kSpsrEl1[3], kSpsrEl1[4], value);
}

}  // namespace softsynic::emu::arm64
