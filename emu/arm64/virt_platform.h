// VirtPlatform: the devices of the ARM64 "virt" machine that a general-
// purpose OS needs beyond the SynIC (emu/arm64/platform.h has the memory
// map): the GICv3 distributor with its SPIs, one virtual timer per VP on
// PPI 27, the PL011 console on SPI 1, and PSCI 0.2 over HVC #0 with the
// VPs' power states (Arm DEN0022 "Power State Coordination Interface";
// Arm ARM "The Generic Timer"; Arm GICv3/v4 "The Distributor").
//
// Power states: VP 0 starts on; every other VP starts off and runs only
// after a CPU_ON names it (entry PC and context id; the engine starts it
// at EL1h with D, A, I, F masked and the MMU off, X0 = the context id).
// SYSTEM_OFF and SYSTEM_RESET end the run through EngineHost::guest_exit
// with status 0 (reset is not modelled: the run ends as for off, and the
// device log says so).
// Not supported: CPU_OFF and CPU_SUSPEND (NOT_SUPPORTED; Linux needs them
// only for hotplug and idle states), turning a VP off again.
//
// Threading: set-up (constructor, attach) on the runner's thread. The
// PsciPlatform methods run on the calling VP's strand; power states are
// atomics, so any VP may start another. take_start() is the target VP's
// strand. The devices' own headers say which of their methods are
// thread-safe; timer(vp) is strand-affine to vp.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "cpu_hooks/psci.h"
#include "devices/arm64/generic_timer.h"
#include "devices/arm64/gic_distributor.h"
#include "devices/arm64/pl011.h"

namespace softsynic::emu {
struct MachineConfig;
}

namespace softsynic::emu::arm64 {

class VirtPlatform final : public PsciPlatform {
 public:
  // `lines[vp]`: each VP's interrupt line (the SPIs and the timer's PPI go
  // there). config's host and time must outlive this object.
  VirtPlatform(const MachineConfig& config, std::span<devices::InterruptLine* const> lines);
  ~VirtPlatform() override;
  VirtPlatform(const VirtPlatform&) = delete;
  VirtPlatform& operator=(const VirtPlatform&) = delete;

  devices::GicDistributor& distributor() { return *distributor_; }
  devices::Pl011& uart() { return *uart_; }
  devices::GenericTimer& timer(std::uint32_t vp) { return *timers_.at(vp); }
  PsciService& psci() { return *psci_; }

  // A CPU_ON for `vp` that its engine has not taken yet: entry and context.
  struct Start {
    std::uint64_t entry = 0;
    std::uint64_t context_id = 0;
  };
  std::optional<Start> take_start(std::uint32_t vp);
  // Thread-safe: a CPU_ON is waiting for `vp`.
  bool start_pending(std::uint32_t vp) const;
  // Thread-safe: SYSTEM_OFF or SYSTEM_RESET was called (the engine that
  // made the call ends its slice).
  bool system_off_requested() const { return off_requested_.load(std::memory_order_acquire); }
  // The VP whose PSCI call is running (set by the engine before the HVC is
  // dispatched; names the VP in guest_exit).
  void set_calling_vp(std::uint32_t vp) { calling_vp_ = vp; }

  // PsciPlatform.
  psci::AffinityState vp_state(std::uint32_t vp) const override;
  std::int32_t power_on(std::uint32_t vp, std::uint64_t entry, std::uint64_t context_id) override;
  void system_off() override;
  void system_reset() override;

 private:
  enum class Power : std::uint8_t { off, on_pending, on };
  void end_run(const char* what);

  const MachineConfig& config_;
  std::unique_ptr<devices::GicDistributor> distributor_;
  std::unique_ptr<devices::Pl011> uart_;
  std::vector<std::unique_ptr<devices::GenericTimer>> timers_;
  std::unique_ptr<PsciService> psci_;
  std::unique_ptr<std::atomic<Power>[]> power_;
  std::mutex start_mutex_;
  std::vector<Start> starts_;  // guarded by start_mutex_: valid while on_pending
  std::atomic<bool> off_requested_{false};
  static thread_local std::uint32_t calling_vp_;
};

}  // namespace softsynic::emu::arm64
