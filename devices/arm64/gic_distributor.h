// GicDistributor: the GICv3 distributor (GICD) of the ARM64 machine, for
// its shared peripheral interrupts (Arm GICv3/v4 architecture
// specification, "The Distributor", "The GIC Distributor register map",
// "Affinity routing"). Registers and bits in gic_registers.h (gic::gicd).
//
// Modelled: GICD_CTLR (single security state: DS reads 1, RWP reads 0,
// EnableGrp0/EnableGrp1/ARE stored; SPIs are group 1 and reach CPU
// interfaces only while EnableGrp1 is set), GICD_TYPER (SPIs 32-63,
// ITLinesNumber 1; 10 INTID bits; no LPIs, MBIs or extended SPIs), TYPER2
// (0), IIDR, PIDR2 (ArchRev 3), and for the SPIs: IGROUPR (RAO/WI, all
// group 1), ISENABLER/ICENABLER, ISPENDR/ICPENDR, ISACTIVER/ICACTIVER,
// IPRIORITYR (5 priority bits, byte or word access), ICFGR (stored and
// read back; SGI/PPI words RAZ/WI) and IROUTER (64-bit or 32-bit halves;
// routes to the VP whose MPIDR affinity matches; IRM = 1, "any PE", goes to
// VP 0; an affinity no VP has delivers nowhere and the SPI stays pending).
// Inputs: set_spi_level drives a level-sensitive line (pending while
// asserted, pending again after deactivation while still asserted);
// pulse_spi latches an edge. Which kind an SPI is follows from the input
// used; ICFGR is only stored.
// Guest accesses: registers of INTIDs below 32 or above 63 are RAZ/WI (the
// redistributors own SGIs and PPIs once ARE is set); IPRIORITYR takes byte
// and word accesses, IROUTER word and doubleword, the rest word accesses;
// any other offset or width reads 0 and ignores writes.
// Not supported: LPIs/ITS, message-based SPIs (GICD_SETSPI_*), extended
// SPIs, group 0 delivery and secure state, GICv2 compatibility
// (ITARGETSR, SGIR: RAZ/WI), 1-of-N selection among VPs (always VP 0),
// GICD_STATUSR (RAZ).
//
// Threading, per method: every public method is thread-safe (one mutex;
// best_spi's common "nothing for this VP" answer takes no lock). Set-up:
// attach, before any VP runs. A line's kick is called without the mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "devices/arm64/gic_registers.h"
#include "devices/arm64/interrupt_line.h"
#include "devices/arm64/mmio_device.h"
#include "devices/arm64/spi_source.h"

namespace softsynic::devices {

class GicDistributor final : public MmioDevice, public SpiSource {
 public:
  // One entry per VP: the affinity fields of its MPIDR_EL1 (what IROUTER
  // names). At least one VP.
  explicit GicDistributor(std::vector<std::uint64_t> vp_mpidrs);
  ~GicDistributor() override;
  GicDistributor(const GicDistributor&) = delete;
  GicDistributor& operator=(const GicDistributor&) = delete;

  // ---- set-up ----
  // Connects VP `vp`'s CPU interface: its SPIs are offered to `line`, which
  // is woken when one becomes deliverable there.
  void attach(std::uint32_t vp, InterruptLine& line);

  // ---- thread-safe: device inputs ----
  // A level-sensitive SPI line (the UART); INTIDs outside 32-63 are ignored.
  void set_spi_level(std::uint32_t intid, bool asserted);
  // An edge on an SPI line: latches pending.
  void pulse_spi(std::uint32_t intid);

  // ---- thread-safe: MmioDevice (offset from GICD_base) ----
  std::uint64_t size() const override { return gic::gicd::kFrameSize; }
  std::uint64_t mmio_read(std::uint32_t vp, std::uint64_t offset, unsigned size) override;
  void mmio_write(std::uint32_t vp, std::uint64_t offset, unsigned size, std::uint64_t value) override;

  // ---- thread-safe: SpiSource ----
  std::optional<IntidPriority> best_spi(std::uint32_t vp) const override;
  bool acknowledge_spi(std::uint32_t vp, std::uint32_t intid) override;
  void deactivate_spi(std::uint32_t vp, std::uint32_t intid) override;

  // ---- thread-safe: state snapshots (tests, monitors) ----
  bool spi_pending(std::uint32_t intid) const;
  bool spi_active(std::uint32_t intid) const;
  bool spi_enabled(std::uint32_t intid) const;
  std::optional<std::uint32_t> spi_target(std::uint32_t intid) const;  // the routed VP
  gic::GicdCtlrReg ctlr() const;
  gic::GicdTyperReg typer() const { return typer_; }

 private:
  struct Spi {
    bool enabled = false;
    bool latched = false;  // edge or ISPENDR
    bool level = false;    // the level input
    bool active = false;
    std::uint8_t priority = 0;
    std::uint32_t config = 0;  // the ICFGR field (bit 1: edge)
    gic::IrouterReg route;
    std::optional<std::uint32_t> target;
    bool pending() const { return latched || level; }
  };
  // Locked: register access and state changes.
  std::uint32_t read32(std::uint32_t offset) const;
  void write32(std::uint32_t offset, std::uint32_t value);
  std::uint32_t bit_array(std::uint32_t word, bool Spi::*field) const;
  std::uint32_t pending_word(std::uint32_t word) const;
  void set_route(std::uint32_t index, gic::IrouterReg route);
  std::optional<std::uint32_t> resolve(gic::IrouterReg route) const;
  // Runs `change` under the mutex, then wakes the VPs it made an SPI
  // deliverable to (after unlocking).
  template <typename Change>
  void change_and_wake(Change&& change);
  // Recomputes each VP's deliverable set; returns the VPs that gained one.
  std::vector<std::uint32_t> refresh();
  void wake(const std::vector<std::uint32_t>& vps) const;
  static std::optional<std::uint32_t> spi_index(std::uint32_t intid);

  const std::vector<std::uint64_t> mpidrs_;
  const gic::GicdTyperReg typer_;
  std::vector<InterruptLine*> lines_;
  mutable std::mutex mutex_;
  gic::GicdCtlrReg ctlr_;
  std::array<Spi, gic::kSpiCount> spis_{};
  // Per VP, bit i: SPI 32+i is deliverable there (pending, enabled,
  // inactive, group 1 enabled). Written under the mutex, read without.
  std::unique_ptr<std::atomic<std::uint32_t>[]> deliverable_;
};

}  // namespace softsynic::devices
