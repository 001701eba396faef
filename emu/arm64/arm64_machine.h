// Arm64Machine: the ARM64 side of the reference emulator for one
// partition: the Arm64Hypervisor (HVC #0 SMCCC and HVC #1 hypercalls), one
// devices::InterruptLine per VP (the SynIC's interrupt sink: a SINT's
// vector is a PPI INTID; also the synthetic timers' direct-mode sink when
// the machine has timers), the redistributor state the lines do not keep
// (GICR_WAKER), and the factory of Arm64Engine (one Unicorn engine per VP
// over the shared RAM). Memory map: emu/arm64/platform.h.
//
// Threading: set-up (constructor, make_engine) on the runner's thread
// before any VP runs. Afterwards line(n) and the redistributor state are
// used by the engines, which the runner runs one at a time; the lines'
// own header says which of their methods other threads may call.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu_hooks/arm64_hypervisor.h"
#include "cpu_hooks/register_owner.h"
#include "devices/arm64/interrupt_line.h"
#include "emu/arm64/virt_platform.h"
#include "emu/vp_engine.h"

namespace softsynic::emu::arm64 {

class Arm64Machine final : public ArchMachine {
 public:
  explicit Arm64Machine(const MachineConfig& config);
  ~Arm64Machine() override;

  Arch arch() const override { return Arch::aarch64; }
  std::unique_ptr<VpEngine> make_engine(const EngineConfig& config) override;
  // The virt platform's PL011 receiver; 0 on the bare platform.
  std::size_t console_input(std::span<const std::uint8_t> bytes) override;

  const MachineConfig& config() const { return config_; }
  Arm64Hypervisor& hypervisor() { return hv_; }
  devices::InterruptLine& line(std::uint32_t vp) { return *lines_.at(vp); }
  // The virt platform's devices and PSCI; nullptr on the bare platform.
  VirtPlatform* virt() { return virt_.get(); }

  // ICC_SGI1R_EL1 written by `sender`: makes the SGI pending on every VP
  // the value names (affinity routing: Aff3.Aff2.Aff1 and a target list of
  // Aff0 values with the range selector, or IRM = every VP but the sender).
  // Thread-safe (InterruptLine::set_pending is).
  void send_sgi(std::uint32_t sender, std::uint64_t sgi1r);
  // A broadcast TLB invalidation (TLBI ...IS/OS) by `sender`: every other
  // VP's engine drops its whole TLB before it runs on (each VP is its own
  // Unicorn engine, whose TLBI reaches only its own CPU). Thread-safe.
  void broadcast_tlb_flush(std::uint32_t sender);
  // Thread-safe: a flush is waiting for `vp`. take_tlb_flush clears it.
  bool tlb_flush_pending(std::uint32_t vp) const { return tlb_flush_[vp].load(std::memory_order_acquire); }
  bool take_tlb_flush(std::uint32_t vp) { return tlb_flush_[vp].exchange(false, std::memory_order_acq_rel); }

  // Redistributor MMIO for every VP's frames (offset from kGicrBase):
  // RD_base registers here, the SGI/PPI frame in the VP's line. 32-bit
  // registers; GICR_TYPER also 64-bit; byte access to IPRIORITYR.
  std::uint64_t gicr_read(std::uint64_t offset, unsigned size);
  void gicr_write(std::uint64_t offset, unsigned size, std::uint64_t value);
  std::uint64_t gicr_size() const;

 private:
  static HvConfig make_hv_config(const MachineConfig& config);
  std::uint64_t rd_base_read(std::uint32_t vp, std::uint32_t offset) const;

  MachineConfig config_;
  Arm64Hypervisor hv_;
  std::vector<std::unique_ptr<devices::InterruptLine>> lines_;
  std::vector<std::uint32_t> waker_;  // GICR_WAKER.ProcessorSleep per VP
  std::unique_ptr<std::atomic<bool>[]> tlb_flush_;  // per VP: a broadcast TLBI to apply
  std::unique_ptr<RegisterOwner> stimer_owner_;  // config_.timers, when set
  std::unique_ptr<VirtPlatform> virt_;            // Platform::virt
};

}  // namespace softsynic::emu::arm64
