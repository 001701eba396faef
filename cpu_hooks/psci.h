// PsciService: the PSCI 0.2 calls a Linux guest makes over HVC #0 (Arm
// DEN0022 "Power State Coordination Interface" 0.2; conduit and register
// use per the SMC Calling Convention), decoded into the few things a
// machine must do, which it supplies as PsciPlatform.
//
// Answered: PSCI_VERSION (0.2), CPU_ON (SMC64 and SMC32 forms: X1 target
// MPIDR, X2 entry, X3 context id; INVALID_PARAMETERS for an MPIDR no VP
// has, ALREADY_ON / ON_PENDING from the VP's state, otherwise the
// platform's answer), AFFINITY_INFO (both forms, lowest affinity level 0
// only: other levels are INVALID_PARAMETERS), MIGRATE_INFO_TYPE (2),
// SYSTEM_OFF and SYSTEM_RESET (the platform stops or restarts the
// partition; should the guest run on after the call, it reads
// INTERNAL_FAILURE). Any other PSCI function: NOT_SUPPORTED (-1), CPU_OFF
// and CPU_SUSPEND included (Linux needs them only for hotplug and idle).
// Results go to X0 (sign-extended to 64 bits); no other register is
// written.
// Not supported: PSCI 1.x (PSCI_FEATURES and later functions), MIGRATE,
// affinity levels above 0.
//
// Threading: call() runs on the calling VP's strand and calls the platform
// there; PsciPlatform methods must be safe to call from any VP's strand.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "cpu_hooks/arm64_registers.h"
#include "cpu_hooks/psci_defs.h"

namespace softsynic {

// What the machine does for PSCI.
class PsciPlatform {
 public:
  virtual ~PsciPlatform() = default;
  virtual psci::AffinityState vp_state(std::uint32_t vp) const = 0;
  // Start an off VP at `entry` (EL1, MMU off) with X0 = context_id. Returns
  // a PSCI code: kSuccess, or kInvalidAddress / kInternalFailure /
  // kOnPending when the machine cannot (yet).
  virtual std::int32_t power_on(std::uint32_t vp, std::uint64_t entry, std::uint64_t context_id) = 0;
  virtual void system_off() = 0;
  virtual void system_reset() = 0;
};

class PsciService {
 public:
  // `vp_mpidrs[i]`: VP i's MPIDR_EL1 (only its affinity fields count). The
  // platform must outlive this object.
  PsciService(PsciPlatform& platform, std::vector<std::uint64_t> vp_mpidrs);

  // Is this SMCCC function id one of PSCI's (owner 4, fast call)?
  static bool is_psci(std::uint64_t function_id);
  // Handles the PSCI call in X0-X3 made by `vp`; writes the result to X0.
  void call(std::uint32_t vp, Arm64Registers& regs);

 private:
  std::int32_t cpu_on(std::uint64_t target, std::uint64_t entry, std::uint64_t context_id);
  std::int32_t affinity_info(std::uint64_t target, std::uint64_t lowest_level) const;
  std::optional<std::uint32_t> vp_for(std::uint64_t mpidr) const;

  PsciPlatform& platform_;
  std::vector<std::uint64_t> mpidrs_;
};

}  // namespace softsynic
