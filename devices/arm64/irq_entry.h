// ARM64 exception entry to EL1 (IRQ and synchronous) and exception return,
// on a generic register file (Arm ARM D1 "The AArch64 Exception model":
// "Exception entry", "Exception vectors", "Exception return"; D13
// "ESR_EL1", "FAR_EL1", "SPSR_EL1"; "Wait for Interrupt").
//
// Supported: an IRQ or a synchronous exception taken to EL1 (AArch64) from
// EL1 with SP_EL0 (vector group 0x000), EL1 with SP_EL1 (0x200) and EL0
// AArch64 (lower EL, 0x400); within a group synchronous is +0x000, IRQ
// +0x080. SPSR_EL1 = PSTATE, ELR_EL1 = PC (the caller leaves PC at the
// preferred return address: the SVC's next instruction, the faulting one
// otherwise), PSTATE = EL1h with D, A, I, F set and NZCV kept, PC =
// VBAR_EL1 + offset; a synchronous entry also writes ESR_EL1 (the
// syndrome: EC, IL, ISS) and, for the classes that report one, FAR_EL1.
// ERET from EL1 (PC = ELR_EL1, PSTATE = SPSR_EL1); the WFI wake-up
// condition.
// Not supported: AArch32 state (offset 0x600/0x680) and EL2/EL3 (returns
// unsupported, nothing changed); FIQ and SError; PAN/SSBS/BTYPE/IL/SS bits
// are cleared rather than derived from SCTLR_EL1. The stack pointer follows
// PSTATE: set_pstate must bank SP_EL0/SP_EL1 as the new mode selects (the
// caller's register file does it; see emu/arm64/unicorn_arm64_registers.h).
//
// Threading: plain functions; call them on the VP's thread.
#pragma once

#include <cstdint>

namespace softsynic::devices {

class InterruptLine;

// PSTATE in SPSR layout.
namespace pstate {
inline constexpr std::uint64_t kModeMask = 0x1F;  // M[4:0]; M[4] = AArch32
inline constexpr std::uint64_t kEl0t = 0x0;
inline constexpr std::uint64_t kEl1t = 0x4;
inline constexpr std::uint64_t kEl1h = 0x5;
inline constexpr std::uint64_t kF = 1u << 6;
inline constexpr std::uint64_t kI = 1u << 7;
inline constexpr std::uint64_t kA = 1u << 8;
inline constexpr std::uint64_t kD = 1u << 9;
inline constexpr std::uint64_t kDaif = kD | kA | kI | kF;
inline constexpr std::uint64_t kNzcv = 0xFull << 28;
}  // namespace pstate

namespace arm64_vector_offset {
inline constexpr std::uint64_t kSyncCurrentElSp0 = 0x000;
inline constexpr std::uint64_t kSyncCurrentElSpx = 0x200;
inline constexpr std::uint64_t kSyncLowerElAarch64 = 0x400;
inline constexpr std::uint64_t kIrqCurrentElSp0 = 0x080;
inline constexpr std::uint64_t kIrqCurrentElSpx = 0x280;
inline constexpr std::uint64_t kIrqLowerElAarch64 = 0x480;
}  // namespace arm64_vector_offset

// ESR_ELx (syndrome) layout: EC in bits 31:26, IL bit 25, ISS below.
namespace esr {
inline constexpr unsigned kEcShift = 26;
inline constexpr std::uint32_t kIl = 1u << 25;
inline constexpr std::uint32_t kIssMask = (1u << 25) - 1;
inline constexpr std::uint32_t kWnR = 1u << 6;      // data abort ISS: a write
inline constexpr std::uint32_t kFscMask = 0x3F;     // abort ISS: DFSC / IFSC
inline constexpr std::uint32_t kFscTranslation = 0x04;  // + level (0-3)
inline constexpr std::uint32_t kFscPermission = 0x0C;   // + level (1-3)
// Exception classes.
inline constexpr std::uint32_t kEcUnknown = 0x00;
inline constexpr std::uint32_t kEcFpAccess = 0x07;
inline constexpr std::uint32_t kEcSvc64 = 0x15;
inline constexpr std::uint32_t kEcHvc64 = 0x16;
inline constexpr std::uint32_t kEcSysReg = 0x18;
inline constexpr std::uint32_t kEcInstAbortLower = 0x20;
inline constexpr std::uint32_t kEcInstAbortSame = 0x21;
inline constexpr std::uint32_t kEcPcAlignment = 0x22;
inline constexpr std::uint32_t kEcDataAbortLower = 0x24;
inline constexpr std::uint32_t kEcDataAbortSame = 0x25;
inline constexpr std::uint32_t kEcSpAlignment = 0x26;
inline constexpr std::uint32_t kEcWatchpointLower = 0x34;
inline constexpr std::uint32_t kEcWatchpointSame = 0x35;
inline constexpr std::uint32_t kEcBrk64 = 0x3C;

constexpr std::uint32_t ec(std::uint32_t syndrome) { return syndrome >> kEcShift; }
// The classes for which FAR_EL1 holds the faulting address; for the
// others it is UNKNOWN (left as it was).
constexpr bool reports_fault_address(std::uint32_t ec_value) {
  switch (ec_value) {
    case kEcInstAbortLower:
    case kEcInstAbortSame:
    case kEcPcAlignment:
    case kEcDataAbortLower:
    case kEcDataAbortSame:
    case kEcWatchpointLower:
    case kEcWatchpointSame:
      return true;
    default:
      return false;
  }
}
}  // namespace esr

class Arm64EntryRegisters {
 public:
  virtual ~Arm64EntryRegisters() = default;
  virtual std::uint64_t pc() const = 0;
  virtual void set_pc(std::uint64_t value) = 0;
  virtual std::uint64_t pstate() const = 0;  // SPSR layout
  virtual void set_pstate(std::uint64_t value) = 0;
  virtual std::uint64_t elr_el1() const = 0;
  virtual void set_elr_el1(std::uint64_t value) = 0;
  virtual std::uint64_t spsr_el1() const = 0;
  virtual void set_spsr_el1(std::uint64_t value) = 0;
  virtual std::uint64_t vbar_el1() const = 0;
  virtual void set_esr_el1(std::uint64_t value) = 0;
  virtual void set_far_el1(std::uint64_t value) = 0;
};

enum class Arm64EntryStatus {
  taken,        // registers now point at the vector
  masked,       // PSTATE.I set: nothing changed
  unsupported,  // AArch32, EL2 or EL3: nothing changed
};

struct Arm64EntryResult {
  Arm64EntryStatus status = Arm64EntryStatus::taken;
  std::uint64_t vector_offset = 0;  // taken: offset from VBAR_EL1
};

// Takes an IRQ exception to EL1 if PSTATE.I allows it. Does not touch the
// interrupt line: the handler reads ICC_IAR1_EL1 itself.
Arm64EntryResult arm64_take_irq(Arm64EntryRegisters& regs);

// A synchronous exception as the CPU reported it.
struct Arm64SyncException {
  std::uint32_t syndrome = 0;      // ESR_EL1: EC, IL, ISS
  std::uint64_t fault_address = 0;  // FAR_EL1 when esr::reports_fault_address(EC)
};

// Takes a synchronous exception to EL1 (never masked). The PC must be the
// preferred return address.
Arm64EntryResult arm64_take_sync(Arm64EntryRegisters& regs, const Arm64SyncException& exception);

// ERET at EL1: PC = ELR_EL1, PSTATE = SPSR_EL1. Returns false (nothing
// changed) when PSTATE is not EL1 or SPSR names AArch32 / a higher EL.
bool arm64_exception_return(Arm64EntryRegisters& regs);

// WFI completes when an interrupt is asserted, whatever PSTATE.I says.
bool arm64_wfi_should_wake(const InterruptLine& line);

}  // namespace softsynic::devices
