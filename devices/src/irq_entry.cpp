// ARM64 exception entry to EL1 (IRQ and synchronous) and return (Arm ARM
// D1 "Exception entry", "Exception vectors", "Exception return"). See
// devices/arm64/irq_entry.h.
#include "devices/arm64/irq_entry.h"

#include "devices/arm64/interrupt_line.h"

namespace softsynic::devices {

namespace {
constexpr std::uint64_t kAarch32 = 0x10;
constexpr std::uint64_t kNoGroup = ~std::uint64_t{0};
constexpr std::uint64_t kIrqInGroup = 0x080;

// The vector group (the synchronous entry's offset) for an exception taken
// to EL1 from `mode`, or kNoGroup when unsupported.
constexpr std::uint64_t vector_group(std::uint64_t mode) {
  switch (mode) {
    case pstate::kEl0t: return arm64_vector_offset::kSyncLowerElAarch64;
    case pstate::kEl1t: return arm64_vector_offset::kSyncCurrentElSp0;
    case pstate::kEl1h: return arm64_vector_offset::kSyncCurrentElSpx;
    default: return kNoGroup;  // AArch32 or EL2/EL3
  }
}

// The entry common to every kind: SPSR, ELR, PSTATE (which banks SP), PC.
void enter_el1(Arm64EntryRegisters& regs, std::uint64_t ps, std::uint64_t offset) {
  regs.set_spsr_el1(ps);
  regs.set_elr_el1(regs.pc());
  regs.set_pstate((ps & pstate::kNzcv) | pstate::kDaif | pstate::kEl1h);
  regs.set_pc(regs.vbar_el1() + offset);
}
}  // namespace

Arm64EntryResult arm64_take_irq(Arm64EntryRegisters& regs) {
  const std::uint64_t ps = regs.pstate();
  const std::uint64_t group = vector_group(ps & pstate::kModeMask);
  if (group == kNoGroup) return {Arm64EntryStatus::unsupported, 0};
  if ((ps & pstate::kI) != 0) return {Arm64EntryStatus::masked, 0};
  enter_el1(regs, ps, group + kIrqInGroup);
  return {Arm64EntryStatus::taken, group + kIrqInGroup};
}

Arm64EntryResult arm64_take_sync(Arm64EntryRegisters& regs, const Arm64SyncException& exception) {
  const std::uint64_t ps = regs.pstate();
  const std::uint64_t group = vector_group(ps & pstate::kModeMask);
  if (group == kNoGroup) return {Arm64EntryStatus::unsupported, 0};
  regs.set_esr_el1(exception.syndrome);
  if (esr::reports_fault_address(esr::ec(exception.syndrome))) regs.set_far_el1(exception.fault_address);
  enter_el1(regs, ps, group);
  return {Arm64EntryStatus::taken, group};
}

bool arm64_exception_return(Arm64EntryRegisters& regs) {
  const std::uint64_t mode = regs.pstate() & pstate::kModeMask;
  const std::uint64_t target = regs.spsr_el1() & pstate::kModeMask;
  if ((mode != pstate::kEl1t && mode != pstate::kEl1h) || (target & kAarch32) != 0 ||
      vector_group(target) == kNoGroup)
    return false;
  regs.set_pc(regs.elr_el1());
  regs.set_pstate(regs.spsr_el1());
  return true;
}

bool arm64_wfi_should_wake(const InterruptLine& line) { return line.irq_asserted(); }

}  // namespace softsynic::devices
