// The ARM64 exception state that Unicorn 2.1 keeps but does not expose,
// reached through the CPU state inside a saved uc_context (Arm ARM D1 "The
// AArch64 Exception model", D13 "ESR_EL1", "FAR_EL1").
//
// Unicorn never takes an exception itself: its CPU loop calls the
// UC_HOOK_INTR hooks with QEMU's exception number (EXCP_UDEF 1, EXCP_SWI 2,
// EXCP_PREFETCH_ABORT 3, EXCP_DATA_ABORT 4, EXCP_BKPT 7, EXCP_HVC 11,
// EXCP_SMC 13) and drops it: ESR_EL1, FAR_EL1, ELR_EL1, SPSR_EL1, PSTATE
// and PC are never set. What the raising code recorded for the exception
// stays in QEMU's CPUARMState (QEMU 5.0 target/arm/cpu.h):
//   struct { uint32_t syndrome; uint32_t fsr; uint64_t vaddress;
//            uint32_t target_el; } exception;
// syndrome is ESR_ELx (EC, IL, ISS), vaddress the faulting virtual
// address of an abort (stale for other classes), target_el the EL the
// exception goes to (1 unless HCR_EL2/SCR_EL3 route it higher).
//
// The offset is found once per process by a marker search and proved by a
// self-test on a scratch engine (MMU on, 4 KiB pages): EL1 enters EL0 by
// ERET; EL0 makes an SVC #0x5A5A (its syndrome, 0x56005A5A, is the
// marker), a load and a store to unmapped VAs (EC 0x24, DFSC translation
// level 1, WnR 0 then 1, vaddress = the address), an UDF (EC 0, IL) and a
// BRK #0x77 (EC 0x3C); EL1 then loads from an unmapped VA (EC 0x25). Each
// is delivered through devices::arm64_take_sync on UnicornArm64Registers
// as the engine does, and the guest's handlers record what they see:
// ESR_EL1, FAR_EL1, ELR_EL1 (the SVC's next instruction, the faulting one
// otherwise), SPSR_EL1, CurrentEL and SP. So the self-test also proves the
// entry's two Unicorn catches: writing PSTATE neither banks SP_EL0/SP_EL1
// nor refreshes the EL that translation uses (see
// UnicornArm64Registers::set_pstate); a handler reading ESR_EL1 at a stale
// EL0 would itself be undefined.
// When the self-test fails, or when the environment variable
// SOFTSYNIC_ARM64_EXCEPTION_SELFTEST=fail forces it to (for tests),
// engines still run EL1 guests with HVC and IRQs, but refuse synchronous
// exceptions and IRQs taken from EL0: the run ends with a guest fault
// naming the reason, never with a wrong entry.
//
// Not supported: exceptions to EL2/EL3, AArch32, SError (QEMU's serror
// state is not read).
//
// This file and emu/x86/unicorn_x86_internals.* are the only ones that
// know Unicorn's internal layout.
//
// Threading: arm64_internals() is thread-safe (computed once);
// ExceptionReader is engine-affine.
#pragma once

#include <unicorn/unicorn.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace softsynic::emu::arm64 {

struct UnicornArm64Layout {
  bool ok = false;
  std::string failure;     // why not, when !ok
  std::size_t exception = 0;  // offset of exception.syndrome in the context blob
};
inline constexpr const char* kExceptionSelftestEnv = "SOFTSYNIC_ARM64_EXCEPTION_SELFTEST";

// The layout of the installed library, found and self-tested at first use.
const UnicornArm64Layout& arm64_internals();

// What the CPU recorded for the exception being raised.
struct RaisedException {
  std::uint32_t syndrome = 0;   // ESR_ELx
  std::uint64_t vaddress = 0;   // FAR for aborts; stale otherwise
  std::uint32_t target_el = 0;  // 1, 2 or 3
};

// Per engine: a context buffer to read the exception state in.
class ExceptionReader {
 public:
  ExceptionReader();
  ~ExceptionReader();
  ExceptionReader(const ExceptionReader&) = delete;
  ExceptionReader& operator=(const ExceptionReader&) = delete;

  // From UC_HOOK_INTR; requires arm64_internals().ok (else reads zeros).
  // Costs a context save (about 12 KiB copied).
  RaisedException read(uc_engine* uc);

 private:
  uc_context* context_ = nullptr;
};

}  // namespace softsynic::emu::arm64
