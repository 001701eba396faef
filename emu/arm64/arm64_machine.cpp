// Arm64Machine: partition-wide ARM64 objects and the engine factory.
#include "emu/arm64/arm64_machine.h"

#include <stdexcept>
#include <string>

#include "cpu_hooks/crash_msrs.h"
#include "devices/arm64/gic_registers.h"
#include "emu/arm64/arm64_engine.h"
#include "emu/arm64/platform.h"
#include "synic/partition.h"
#include "synic/timers/synthetic_timers.h"

namespace softsynic::emu::arm64 {

HvConfig Arm64Machine::make_hv_config(const MachineConfig& config) {
  if (config.ram == nullptr || config.partition == nullptr || config.time == nullptr || config.host == nullptr) {
    throw std::invalid_argument("aarch64 machine: ram, partition, time and host are required");
  }
  if (config.platform == Platform::pc) {
    throw std::invalid_argument("aarch64 machine: the bare or virt platform (pc is x86-64's)");
  }
  if (config.vp_count == 0 || config.vp_count > kMaxVps) {
    throw std::invalid_argument("aarch64 machine: 1 to " + std::to_string(kMaxVps) + " VPs");
  }
  HvConfig hv;
  hv.arch = HvArch::aarch64;
  if (config.timers != nullptr) {
    hv.features.stimers = true;
    hv.features.direct_timers = config.timers->config().direct_mode;
  }
  for (const auto& name : config.features_off) {
    if (!set_hv_feature(hv.features, name, false)) throw std::invalid_argument("unknown feature: " + name);
  }
  return hv;
}

Arm64Machine::Arm64Machine(const MachineConfig& config)
    : config_(config),
      hv_(*config.partition, make_hv_config(config), *config.time),
      waker_(config.vp_count, gicr_rd::kWakerProcessorSleep),
      tlb_flush_(std::make_unique<std::atomic<bool>[]>(config.vp_count)) {
  for (std::uint32_t vp = 0; vp < config_.vp_count; ++vp) {
    auto line = std::make_unique<devices::InterruptLine>();
    line->attach_synic(config_.partition->vp(vp), 0);
    lines_.push_back(std::move(line));
  }
  if (config_.timers != nullptr) {
    // STIMER register names reach the timers through the register owners;
    // a direct-mode timer's vector is a PPI INTID on the VP's line.
    for (std::uint32_t vp = 0; vp < config_.vp_count; ++vp) config_.timers->vp(vp).set_interrupt_sink(0, lines_[vp].get());
    stimer_owner_ = std::make_unique<RegisterOwnerRef<SyntheticTimers>>(*config_.timers);
    hv_.registers().add_owner(*stimer_owner_);
  }
  // A crash the guest reports ends the run (status 125), as on x86.
  hv_.set_crash_listener([this](const GuestCrashReport& report) { config_.host->guest_crash(report); });
  if (config_.platform == Platform::virt) {
    std::vector<devices::InterruptLine*> lines;
    for (auto& line : lines_) lines.push_back(line.get());
    virt_ = std::make_unique<VirtPlatform>(config_, lines);
    hv_.set_psci(&virt_->psci());
  }
}

Arm64Machine::~Arm64Machine() = default;

std::size_t Arm64Machine::console_input(std::span<const std::uint8_t> bytes) {
  return virt_ != nullptr ? virt_->uart().receive(bytes) : 0;
}

std::unique_ptr<VpEngine> Arm64Machine::make_engine(const EngineConfig& config) {
  if (config.vp_index >= config_.vp_count) throw std::invalid_argument("VP index out of range");
  const bool virt_start = config.start == StartMode::powered_off || config.start == StartMode::arm64_linux;
  if (config.start != StartMode::boot_contract && !(virt_start && virt_ != nullptr)) {
    throw std::invalid_argument("aarch64: the boot contract start, or on the virt platform powered_off and arm64_linux");
  }
  return std::make_unique<Arm64Engine>(*this, config);
}

void Arm64Machine::send_sgi(std::uint32_t sender, std::uint64_t sgi1r) {
  // ICC_SGI1R_EL1: TargetList 15:0, Aff1 23:16, INTID 27:24, Aff2 39:32,
  // IRM 40, RS 47:44, Aff3 55:48.
  const auto intid = static_cast<std::uint32_t>(sgi1r >> 24 & 0xF);
  const bool all_but_self = (sgi1r >> 40 & 1) != 0;
  const std::uint64_t target_list = sgi1r & 0xFFFF;
  const std::uint64_t range = sgi1r >> 44 & 0xF;
  const std::uint64_t upper = (sgi1r >> 16 & 0xFF) << 8 | (sgi1r >> 32 & 0xFF) << 16 | (sgi1r >> 48 & 0xFF) << 32;
  for (std::uint32_t vp = 0; vp < config_.vp_count; ++vp) {
    const std::uint64_t mpidr = mpidr_for_vp(vp);
    bool hit = false;
    if (all_but_self) {
      hit = vp != sender;
    } else {
      const std::uint64_t aff0 = mpidr & 0xFF;
      const std::uint64_t vp_upper = (mpidr >> 8 & 0xFF) << 8 | (mpidr >> 16 & 0xFF) << 16 | (mpidr >> 32 & 0xFF) << 32;
      hit = vp_upper == upper && aff0 / 16 == range && (target_list >> (aff0 % 16) & 1) != 0;
    }
    if (hit) lines_[vp]->set_pending(intid);
  }
}

void Arm64Machine::broadcast_tlb_flush(std::uint32_t sender) {
  for (std::uint32_t vp = 0; vp < config_.vp_count; ++vp) {
    if (vp != sender) tlb_flush_[vp].store(true, std::memory_order_release);
  }
}

std::uint64_t Arm64Machine::gicr_size() const { return std::uint64_t{config_.vp_count} * kGicrFrameSize; }

std::uint64_t Arm64Machine::rd_base_read(std::uint32_t vp, std::uint32_t offset) const {
  switch (offset) {
    case gicr_rd::kIidr:
      return gicr_rd::kIidrValue;
    case gicr_rd::kTyper: {
      std::uint64_t typer = (std::uint64_t{vp} << gicr_rd::kTyperProcessorNumberShift) |
                            ((mpidr_for_vp(vp) & 0xFFFF) << gicr_rd::kTyperAffinityShift);
      if (vp + 1 == config_.vp_count) typer |= gicr_rd::kTyperLast;
      return typer;
    }
    case gicr_rd::kWaker:
      // Wakes (or sleeps) at once: ChildrenAsleep follows ProcessorSleep.
      return waker_[vp] ? (gicr_rd::kWakerProcessorSleep | gicr_rd::kWakerChildrenAsleep) : 0;
    case gicr_rd::kPidr2:
      return gicr_rd::kPidr2Gicv3;
    case gicr_rd::kCtlr:
    default:
      return 0;
  }
}

std::uint64_t Arm64Machine::gicr_read(std::uint64_t offset, unsigned size) {
  if (offset >= gicr_size() || size == 0 || size > 8) return 0;
  const auto vp = static_cast<std::uint32_t>(offset / kGicrFrameSize);
  const auto within = static_cast<std::uint32_t>(offset % kGicrFrameSize);
  const std::uint64_t mask = size == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * size)) - 1;
  if (within >= devices::gic::gicr::kSgiFrameOffset) {
    const std::uint32_t reg = within - devices::gic::gicr::kSgiFrameOffset;
    std::uint64_t value = lines_[vp]->gicr_read(reg & ~3u);
    if (size == 8) value |= std::uint64_t{lines_[vp]->gicr_read((reg & ~3u) + 4)} << 32;
    return (value >> (8 * (reg & 3))) & mask;
  }
  // GICR_TYPER is the only 64-bit RD_base register; read the others 32-bit.
  const std::uint32_t aligned = within == gicr_rd::kTyper + 4 ? gicr_rd::kTyper : within & ~3u;
  return (rd_base_read(vp, aligned) >> (8 * (within - aligned))) & mask;
}

void Arm64Machine::gicr_write(std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (offset >= gicr_size()) return;
  const auto vp = static_cast<std::uint32_t>(offset / kGicrFrameSize);
  const auto within = static_cast<std::uint32_t>(offset % kGicrFrameSize);
  if (within < devices::gic::gicr::kSgiFrameOffset) {
    if (within == gicr_rd::kWaker && size >= 4) waker_[vp] = value & gicr_rd::kWakerProcessorSleep;
    return;  // everything else in RD_base is read-only or write-ignored here
  }
  const std::uint32_t reg = within - devices::gic::gicr::kSgiFrameOffset;
  devices::InterruptLine& line = *lines_[vp];
  namespace gicr = devices::gic::gicr;
  if (size == 1 && reg >= gicr::kIpriorityr0 && reg < gicr::kIpriorityrEnd) {
    line.set_priority(reg - gicr::kIpriorityr0, static_cast<std::uint8_t>(value));
  } else if (size == 4 && (reg & 3) == 0) {
    line.gicr_write(reg, static_cast<std::uint32_t>(value));
  } else if (size == 8 && (reg & 7) == 0) {
    line.gicr_write(reg, static_cast<std::uint32_t>(value));
    line.gicr_write(reg + 4, static_cast<std::uint32_t>(value >> 32));
  }
  // Other widths are not architected for these registers: ignored.
}

}  // namespace softsynic::emu::arm64

namespace softsynic::emu {

std::unique_ptr<ArchMachine> make_aarch64_machine(const MachineConfig& config) {
  return std::make_unique<arm64::Arm64Machine>(config);
}

}  // namespace softsynic::emu
