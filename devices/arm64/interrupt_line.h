// InterruptLine: one VP's GICv3-like interrupt line for the local INTIDs
// (SGIs 0-15 and PPIs 16-31) and its view of the SPIs the distributor
// routes to it, the ARM64 InterruptSink of the SynIC, where a SINT's vector
// is a PPI INTID (TLFS "SynIC" on ARM64; Arm GICv3/v4 architecture
// specification: "CPU interface", "Interrupt prioritization",
// "Redistributor registers for SGIs and PPIs").
//
// Modelled: per-INTID pending, active, enable and 8-bit priority (5 bits
// implemented); ICC_PMR_EL1, ICC_IGRPEN1_EL1, ICC_CTLR_EL1 (EOImode 0 and
// 1), ICC_BPR1_EL1 (stored; preemption compares full priorities),
// ICC_IAR1_EL1 (acknowledge, 1023 when nothing), ICC_EOIR1_EL1 (priority
// drop, and deactivation in EOImode 0), ICC_DIR_EL1, ICC_HPPIR1_EL1,
// ICC_RPR_EL1 (the priority each INTID had when acknowledged),
// ICC_SRE_EL1 (reads 0x7: system registers only); the redistributor SGI
// frame registers ISENABLER0/ICENABLER0, ISPENDR0/ICPENDR0, ISACTIVER0/
// ICACTIVER0, IPRIORITYR0-7, IGROUPR0 (RAO/WI), ICFGR0 (SGIs: edge, read-
// only) and ICFGR1 (PPIs: stored and read back). Deactivating a SINT's
// INTID acts as EOM (SynicVp::on_eoi).
// Inputs: set_pending/request_interrupt latch an edge; set_level drives a
// level input, pending while asserted (acknowledging it makes it active
// and still pending, so it is offered again after deactivation while
// asserted; deasserting it clears that pending state). Which kind an
// INTID is follows from the input used, not from ICFGR1.
// SPIs: with a SpiSource attached (the distributor), IAR1/HPPIR1/RPR and
// the IRQ output weigh the best SPI routed here against the local INTIDs;
// EOIR1/DIR of an SPI go back to the source.
// Not modelled: group 0 and secure state (ICC_IGRPEN0_EL1 reads 0, writes
// ignored), SGI generation (ICC_SGI1R_EL1 writes are ignored here: the
// machine, which sees every VP, sends them; emu/arm64/arm64_machine.h),
// the active-priority registers ICC_AP0R<n>_EL1/ICC_AP1R<n>_EL1 (read 0,
// writes ignored: Linux only clears them at start-up), LPIs,
// binary-point preemption groups, ICACTIVER of an SPI from another VP (its
// priority stays running here until EOIR).
//
// Threading, per method:
//  - thread-safe: request_interrupt, set_pending, set_level, wake,
//    dropped_requests.
//  - set-up: set_kick, attach_synic, attach_spi_source.
//  - strand-affine (the VP's own thread): everything else.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include "devices/arm64/gic_registers.h"
#include "devices/arm64/spi_source.h"
#include "devices/arm64/sysreg_result.h"
#include "synic/defs/vtl.h"
#include "synic/interrupt_sink.h"

namespace softsynic {
class SynicVp;
}

namespace softsynic::devices {

class InterruptLine final : public InterruptSink {
 public:
  InterruptLine();
  ~InterruptLine() override;
  InterruptLine(const InterruptLine&) = delete;
  InterruptLine& operator=(const InterruptLine&) = delete;

  // ---- set-up ----
  // Called on the requesting thread after an INTID became pending.
  void set_kick(std::function<void()> kick);
  // Makes this line vp's interrupt sink at vtl; deactivation of an INTID
  // calls vp.on_eoi(vtl, intid).
  void attach_synic(SynicVp& vp, Vtl vtl);
  // Offers the SPIs `source` routes to VP `vp` (this line's VP) to this
  // CPU interface. GicDistributor::attach calls it.
  void attach_spi_source(SpiSource& source, std::uint32_t vp);

  // ---- thread-safe ----
  // InterruptSink: makes `vector` (an INTID < 32) pending and kicks.
  // auto_eoi is ignored (ARM64 has none); INTIDs >= 32 are dropped.
  void request_interrupt(std::uint32_t vector, bool auto_eoi) override;
  void set_pending(std::uint32_t intid);
  // A level input for a local INTID (the architected timer's PPI 27);
  // INTIDs >= 32 are dropped. Kicks when the input rises.
  void set_level(std::uint32_t intid, bool asserted);
  // Kicks: something this line weighs changed (an SPI became pending).
  void wake();
  std::uint64_t dropped_requests() const;

  // ---- strand-affine: the CPU side ----
  // Is IRQ asserted to the PE: group 1 enabled, and a pending, enabled,
  // inactive INTID with priority below PMR and above the running priority?
  // This is also WFI's wake-up condition (PSTATE.I does not matter).
  bool irq_asserted() const;
  // The INTID irq_asserted() is about (ICC_HPPIR1_EL1 without the PMR/
  // running-priority filter: 1023 when nothing is pending and enabled).
  std::uint32_t highest_pending() const;
  // ICC_IAR1_EL1: acknowledges and returns the asserted INTID (pending ->
  // active, running priority raised), or 1023.
  std::uint32_t acknowledge();
  // ICC_EOIR1_EL1 / ICC_DIR_EL1.
  void end_of_interrupt(std::uint32_t intid);
  void deactivate(std::uint32_t intid);

  // Trapped MRS/MSR by encoding.
  SysRegResult read_sysreg(gic::SysRegEncoding reg, std::uint64_t& value);
  SysRegResult write_sysreg(gic::SysRegEncoding reg, std::uint64_t value);

  // Redistributor SGI-frame MMIO (offset within that 64 KiB frame, 32-bit
  // accesses; IPRIORITYR also bytewise via priority()/set_priority()).
  // Unknown offsets read 0 and ignore writes.
  std::uint32_t gicr_read(std::uint32_t offset) const;
  void gicr_write(std::uint32_t offset, std::uint32_t value);

  // ---- strand-affine: state ----
  // Local INTIDs only (SPI state lives in the distributor).
  bool pending(std::uint32_t intid) const;
  bool level(std::uint32_t intid) const;
  bool active(std::uint32_t intid) const;
  bool enabled(std::uint32_t intid) const;
  std::uint8_t priority(std::uint32_t intid) const;
  void set_priority(std::uint32_t intid, std::uint8_t priority);
  std::uint8_t priority_mask() const { return pmr_; }
  std::uint8_t running_priority() const;
  bool group1_enabled() const { return igrpen1_; }
  gic::IccCtlrReg ctlr() const { return ctlr_; }

 private:
  std::optional<IntidPriority> best_candidate(bool apply_masks) const;
  bool drop_priority(std::uint32_t intid);
  std::uint32_t pending_or_level() const;

  std::function<void()> kick_;
  // Set by attach_synic; kept as a function so the SynIC is linked only
  // when it is used.
  std::function<void(std::uint32_t vector)> on_eoi_;

  SpiSource* spi_source_ = nullptr;
  std::uint32_t spi_vp_ = 0;

  std::atomic<std::uint32_t> pending_{0};  // edge latches: any thread sets, VP thread clears
  std::atomic<std::uint32_t> level_{0};    // level inputs: any thread
  std::atomic<std::uint64_t> dropped_{0};

  std::uint32_t enabled_ = 0;
  std::uint32_t active_ = 0;
  std::array<std::uint8_t, gic::kLocalIntids> priority_{};
  std::uint32_t icfgr1_;
  // Priority-dropped-not-yet order: INTIDs acknowledged and not yet EOIed
  // with their priority then, most recent last (EOIR must retire the most
  // recent one).
  std::array<IntidPriority, gic::kIntidLimit> running_{};
  unsigned running_count_ = 0;
  std::uint8_t pmr_ = 0;
  std::uint8_t bpr1_ = 0;
  bool igrpen1_ = false;
  gic::IccCtlrReg ctlr_;
};

}  // namespace softsynic::devices
