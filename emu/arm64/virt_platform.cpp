// VirtPlatform: the ARM64 virt machine's devices and PSCI; see
// virt_platform.h.
#include "emu/arm64/virt_platform.h"

#include <string>

#include "emu/arm64/platform.h"
#include "emu/vp_engine.h"

namespace softsynic::emu::arm64 {

thread_local std::uint32_t VirtPlatform::calling_vp_ = 0;

VirtPlatform::VirtPlatform(const MachineConfig& config, std::span<devices::InterruptLine* const> lines)
    : config_(config), power_(std::make_unique<std::atomic<Power>[]>(config.vp_count)), starts_(config.vp_count) {
  std::vector<std::uint64_t> mpidrs;
  for (std::uint32_t vp = 0; vp < config.vp_count; ++vp) mpidrs.push_back(mpidr_for_vp(vp));
  distributor_ = std::make_unique<devices::GicDistributor>(mpidrs);
  for (std::uint32_t vp = 0; vp < config.vp_count; ++vp) {
    distributor_->attach(vp, *lines[vp]);
    auto timer = std::make_unique<devices::GenericTimer>();
    devices::InterruptLine* line = lines[vp];
    timer->set_output([line](bool asserted) { line->set_level(kVirtualTimerIntid, asserted); });
    timers_.push_back(std::move(timer));
    power_[vp].store(vp == 0 ? Power::on : Power::off, std::memory_order_relaxed);
  }
  EngineHost* host = config.host;
  uart_ = std::make_unique<devices::Pl011>([host](std::uint32_t vp, char c) { host->console_write(vp, c); });
  devices::GicDistributor* gicd = distributor_.get();
  uart_->set_irq([gicd](bool level) { gicd->set_spi_level(kPl011Intid, level); });
  psci_ = std::make_unique<PsciService>(*this, std::move(mpidrs));
}

VirtPlatform::~VirtPlatform() = default;

psci::AffinityState VirtPlatform::vp_state(std::uint32_t vp) const {
  switch (power_[vp].load(std::memory_order_acquire)) {
    case Power::on:
      return psci::AffinityState::on;
    case Power::on_pending:
      return psci::AffinityState::on_pending;
    case Power::off:
    default:
      return psci::AffinityState::off;
  }
}

std::int32_t VirtPlatform::power_on(std::uint32_t vp, std::uint64_t entry, std::uint64_t context_id) {
  if (vp >= config_.vp_count) return psci::ret::kInvalidParameters;
  {
    std::lock_guard lock(start_mutex_);
    Power expected = Power::off;
    if (!power_[vp].compare_exchange_strong(expected, Power::on_pending, std::memory_order_acq_rel)) {
      return expected == Power::on ? psci::ret::kAlreadyOn : psci::ret::kOnPending;
    }
    starts_[vp] = {entry, context_id};
  }
  config_.host->wake(vp);
  return psci::ret::kSuccess;
}

std::optional<VirtPlatform::Start> VirtPlatform::take_start(std::uint32_t vp) {
  std::lock_guard lock(start_mutex_);
  if (power_[vp].load(std::memory_order_acquire) != Power::on_pending) return std::nullopt;
  power_[vp].store(Power::on, std::memory_order_release);
  return starts_[vp];
}

bool VirtPlatform::start_pending(std::uint32_t vp) const {
  return power_[vp].load(std::memory_order_acquire) == Power::on_pending;
}

void VirtPlatform::end_run(const char* what) {
  off_requested_.store(true, std::memory_order_release);
  if (config_.device_log) config_.device_log(std::string("psci: ") + what + " from vp" + std::to_string(calling_vp_));
  config_.host->guest_exit(calling_vp_, 0);
}

void VirtPlatform::system_off() { end_run("SYSTEM_OFF"); }

void VirtPlatform::system_reset() { end_run("SYSTEM_RESET (not modelled: the run ends as for SYSTEM_OFF)"); }

}  // namespace softsynic::emu::arm64
