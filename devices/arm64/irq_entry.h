// ARM64 IRQ exception entry to EL1 and exception return, on a generic
// register file (Arm ARM "Exception entry", "Exception vectors", "Exception
// return", "SPSR_EL1", "Wait for Interrupt").
//
// Supported: an IRQ taken to EL1 (AArch64) from EL1 with SP_EL0 (vector
// offset 0x080), EL1 with SP_EL1 (0x280) and EL0 AArch64 (lower EL, 0x480):
// SPSR_EL1 = PSTATE, ELR_EL1 = PC, PSTATE = EL1h with D, A, I, F set and
// NZCV kept, PC = VBAR_EL1 + offset; ERET from EL1 (PC = ELR_EL1, PSTATE =
// SPSR_EL1); the WFI wake-up condition.
// Not supported: AArch32 state (offset 0x680) and EL2/EL3 (returns
// unsupported, nothing changed); the stack pointer is not switched (the
// emulator banks SP_EL0/SP_EL1 by PSTATE.SP); PAN/SSBS/BTYPE/IL/SS bits are
// cleared rather than derived from SCTLR_EL1.
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
inline constexpr std::uint64_t kIrqCurrentElSp0 = 0x080;
inline constexpr std::uint64_t kIrqCurrentElSpx = 0x280;
inline constexpr std::uint64_t kIrqLowerElAarch64 = 0x480;
}  // namespace arm64_vector_offset

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
};

enum class Arm64EntryStatus {
  taken,        // registers now point at the IRQ vector
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

// ERET at EL1: PC = ELR_EL1, PSTATE = SPSR_EL1. Returns false (nothing
// changed) when PSTATE is not EL1 or SPSR names AArch32 / a higher EL.
bool arm64_exception_return(Arm64EntryRegisters& regs);

// WFI completes when an interrupt is asserted, whatever PSTATE.I says.
bool arm64_wfi_should_wake(const InterruptLine& line);

}  // namespace softsynic::devices
