// Arm64Hypervisor: the ARM64 face of the emulated hypervisor for one
// partition: the HVC instruction (TLFS "Hypercall Interface" for ARM64 and
// the Arm SMCCC 1.1/1.2 convention).
//
// HVC #1, native: X0 control, X1 input GPA, X2 output GPA, result X0; fast
// input and output in X1-X17.
// HVC #0, SMCCC (the form the Linux and FreeBSD drivers use):
//  - X0 = 0x46000001 (yielding, SMC64, vendor-hypervisor service,
//    function 1): a hypercall with X1 control, X2 input GPA, X3 output GPA,
//    result X0; fast input and output in X2-X17. The drivers' fast
//    HvCallSetVpRegisters puts partition id in X2, VP index in X3, the name
//    in X4 and the value in X6/X7; a fast HvCallGetVpRegisters returns the
//    value in X6 (low) and X7 (high).
//  - X0 = 0x8600FF01 (vendor-hypervisor "call UID"): X0-X3 = the Hyper-V
//    UID words.
//  - a PSCI function (owner 4, fast call) with a PsciService attached
//    (set_psci): that service answers (cpu_hooks/psci.h).
//  - any other X0: X0 = -1 (SMCCC NOT_SUPPORTED). An emulator that offers
//    other SMCCC services answers those before calling in.
// Any other immediate: not_mine. All SynIC registers, GUEST_OS_ID,
// VP_INDEX and TIME_REF_COUNT are reached through HvGet/SetVpRegisters;
// unknown names get HV_STATUS_UNKNOWN_REGISTER_NAME; a SINT's vector is a
// GIC PPI INTID and auto-EOI is invalid.
// Not supported: nested hypercalls, SMCCC VERSION/ARCH_FEATURES (answered
// NOT_SUPPORTED), the vendor-hypervisor revision and feature queries.
//
// Threading: hvc() is strand-affine (the calling VP's strand); config() and
// registers().visible() are thread-safe; set_psci is set-up.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "cpu_hooks/arm64_registers.h"
#include "cpu_hooks/hv_config.h"
#include "cpu_hooks/hypercall_outcome.h"
#include "cpu_hooks/psci.h"
#include "cpu_hooks/synthetic_registers.h"
#include "synic/defs/vtl.h"

namespace softsynic {

struct GuestCrashReport;

class Partition;
class TimeSource;

namespace smccc {
inline constexpr std::uint64_t kHvHypercall = 0x46000001;  // yielding, SMC64, vendor hyp, fn 1
inline constexpr std::uint64_t kVendorHypCallUid = 0x8600FF01;
inline constexpr std::uint64_t kNotSupported = ~std::uint64_t{0};  // -1
// The Hyper-V vendor-hypervisor UID, as returned in W0-W3.
inline constexpr std::uint32_t kHyperVUid[4] = {0x4d32ba58, 0xcd244764, 0x8eef6c75, 0x16597024};
}  // namespace smccc

inline constexpr std::uint16_t kHvcImmSmccc = 0;
inline constexpr std::uint16_t kHvcImmHyperV = 1;

class Arm64Hypervisor {
 public:
  // Partition and time source must outlive this object. config.arch must be
  // aarch64 (else std::invalid_argument: host misuse).
  Arm64Hypervisor(Partition& partition, HvConfig config, const TimeSource& time);
  ~Arm64Hypervisor();
  Arm64Hypervisor(const Arm64Hypervisor&) = delete;
  Arm64Hypervisor& operator=(const Arm64Hypervisor&) = delete;

  // The guest executed HVC #imm on `vp` at `vtl` (PC already past it).
  // vp/vtl out of range (host misuse): completed with
  // HV_STATUS_INVALID_VP_INDEX in X0.
  HypercallOutcome hvc(std::uint32_t vp, Vtl vtl, std::uint16_t imm, Arm64Registers& regs);

  // Set-up: PSCI calls on HVC #0 go to `psci` (which must outlive this
  // object); nullptr answers them NOT_SUPPORTED.
  void set_psci(PsciService* psci);
  // Set-up: where a crash the guest reports through the crash registers
  // (GUEST_CRASH_P0-P4, GUEST_CRASH_CTL by name; cpu_hooks/crash_msrs.h)
  // goes; called on the reporting VP's strand.
  void set_crash_listener(std::function<void(const GuestCrashReport&)> listener);

  const HvConfig& config() const;
  SyntheticRegisters& registers();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace softsynic
