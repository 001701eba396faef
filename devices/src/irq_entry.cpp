// ARM64 IRQ exception entry and return at EL1 (Arm ARM "Exception entry",
// "Exception vectors", "Exception return"). See devices/arm64/irq_entry.h.
#include "devices/arm64/irq_entry.h"

#include "devices/arm64/interrupt_line.h"

namespace softsynic::devices {

namespace {
constexpr std::uint64_t kAarch32 = 0x10;

// Vector offset for an IRQ taken to EL1 from `mode`, or 0 when unsupported.
constexpr std::uint64_t irq_vector_offset(std::uint64_t mode) {
  switch (mode) {
    case pstate::kEl0t: return arm64_vector_offset::kIrqLowerElAarch64;
    case pstate::kEl1t: return arm64_vector_offset::kIrqCurrentElSp0;
    case pstate::kEl1h: return arm64_vector_offset::kIrqCurrentElSpx;
    default: return 0;  // AArch32 or EL2/EL3
  }
}
}  // namespace

Arm64EntryResult arm64_take_irq(Arm64EntryRegisters& regs) {
  const std::uint64_t ps = regs.pstate();
  const std::uint64_t offset = irq_vector_offset(ps & pstate::kModeMask);
  if (offset == 0) return {Arm64EntryStatus::unsupported, 0};
  if ((ps & pstate::kI) != 0) return {Arm64EntryStatus::masked, 0};
  regs.set_spsr_el1(ps);
  regs.set_elr_el1(regs.pc());
  regs.set_pstate((ps & pstate::kNzcv) | pstate::kDaif | pstate::kEl1h);
  regs.set_pc(regs.vbar_el1() + offset);
  return {Arm64EntryStatus::taken, offset};
}

bool arm64_exception_return(Arm64EntryRegisters& regs) {
  const std::uint64_t mode = regs.pstate() & pstate::kModeMask;
  const std::uint64_t target = regs.spsr_el1() & pstate::kModeMask;
  if ((mode != pstate::kEl1t && mode != pstate::kEl1h) || (target & kAarch32) != 0 ||
      irq_vector_offset(target) == 0)
    return false;
  regs.set_pc(regs.elr_el1());
  regs.set_pstate(regs.spsr_el1());
  return true;
}

bool arm64_wfi_should_wake(const InterruptLine& line) { return line.irq_asserted(); }

}  // namespace softsynic::devices
