// The GICv3 distributor: identification and control registers, SPI
// enable/pending/active/priority/config registers, affinity routing to a
// VP's interrupt line, level-sensitive SPI inputs, and defined answers to
// any guest access. Also the interrupt line's level-sensitive PPI input.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "devices/arm64/gic_distributor.h"
#include "devices/arm64/interrupt_line.h"

using namespace softsynic::devices;
using namespace softsynic::devices::gic;

namespace {

constexpr std::uint32_t kUartSpi = 33;
constexpr std::uint32_t kOtherSpi = 40;
constexpr std::uint32_t kTimerPpi = 27;

// MPIDR affinity as the machine gives it: Aff0 = VP index, bit 31 RES1.
constexpr std::uint64_t mpidr(std::uint32_t vp) { return (std::uint64_t{1} << 31) | vp; }

// A distributor with `vps` CPU interfaces set up as Linux leaves them:
// distributor and group 1 enabled, PMR open, IGRPEN1 set.
struct Gic {
  explicit Gic(std::uint32_t vps = 2) : gicd(mpidrs(vps)), kicks(vps, 0) {
    for (std::uint32_t vp = 0; vp < vps; ++vp) {
      lines.push_back(std::make_unique<InterruptLine>());
      lines[vp]->set_kick([this, vp] { ++kicks[vp]; });
      lines[vp]->write_sysreg(icc::kPmr, 0xF0);
      lines[vp]->write_sysreg(icc::kIgrpen1, 1);
      gicd.attach(vp, *lines[vp]);
    }
    w32(gicd::kCtlr, GicdCtlrReg::kAre | GicdCtlrReg::kEnableGrp1 | GicdCtlrReg::kEnableGrp0);
  }
  static std::vector<std::uint64_t> mpidrs(std::uint32_t vps) {
    std::vector<std::uint64_t> v;
    for (std::uint32_t vp = 0; vp < vps; ++vp) v.push_back(mpidr(vp));
    return v;
  }
  std::uint64_t r32(std::uint32_t off) { return gicd.mmio_read(0, off, 4); }
  void w32(std::uint32_t off, std::uint32_t v) { gicd.mmio_write(0, off, 4, v); }
  void enable(std::uint32_t intid) { w32(gicd::kIsenabler + intid / 32 * 4, 1u << (intid % 32)); }
  void route(std::uint32_t intid, IrouterReg value) { gicd.mmio_write(0, gicd::kIrouter + 8 * intid, 8, value.raw()); }
  std::uint64_t iar(std::uint32_t vp) {
    std::uint64_t v = 0;
    lines[vp]->read_sysreg(icc::kIar1, v);
    return v;
  }
  void eoi(std::uint32_t vp, std::uint32_t intid) { lines[vp]->write_sysreg(icc::kEoir1, intid); }

  GicDistributor gicd;
  std::vector<std::unique_ptr<InterruptLine>> lines;
  std::vector<int> kicks;
};

}  // namespace

TEST_CASE("gicd: identification and type registers describe SPIs 32-63 and no LPIs") {
  Gic g;
  CHECK((g.r32(gicd::kPidr2) & 0xF0) == 0x30);  // ArchRev 3
  const GicdTyperReg typer(static_cast<std::uint32_t>(g.r32(gicd::kTyper)));
  CHECK(typer.it_lines_number() == 1);
  CHECK(typer.intid_limit() == kIntidLimit);
  CHECK(typer.cpu_number() == 1);  // two VPs
  CHECK_FALSE(typer.lpis());
  CHECK_FALSE(typer.mbis());
  CHECK_FALSE(typer.espi());
  CHECK(g.r32(gicd::kTyper2) == 0);
  CHECK(g.r32(gicd::kIidr) == kIidrValue);
}

TEST_CASE("gicd: CTLR reads DS set and RWP clear, and keeps ARE and the group enables") {
  Gic g;
  g.w32(gicd::kCtlr, 0xFFFF'FFFF);
  CHECK(g.r32(gicd::kCtlr) == (GicdCtlrReg::kWritable | GicdCtlrReg::kDs));
  CHECK((g.r32(gicd::kCtlr) & GicdCtlrReg::kRwp) == 0);
  g.w32(gicd::kCtlr, 0);
  CHECK(g.r32(gicd::kCtlr) == GicdCtlrReg::kDs);
  CHECK(GicdCtlrReg(0x13).with_enable_grp1(false) == GicdCtlrReg(0x11));
}

TEST_CASE("gicd: SPI registers read back; INTIDs below 32 are RAZ/WI") {
  Gic g;
  struct Row {
    const char* name;
    std::uint32_t set;
    std::uint32_t clear;
  };
  const Row rows[] = {
      {"enable", gicd::kIsenabler, gicd::kIcenabler},
      {"pending", gicd::kIspendr, gicd::kIcpendr},
      {"active", gicd::kIsactiver, gicd::kIcactiver},
  };
  for (const Row& row : rows) {
    INFO(std::string(row.name));
    g.w32(row.set + 4, 0x8000'0002);
    CHECK(g.r32(row.set + 4) == 0x8000'0002);
    CHECK(g.r32(row.clear + 4) == 0x8000'0002);
    g.w32(row.clear + 4, 0x8000'0000);
    CHECK(g.r32(row.set + 4) == 0x2);
    g.w32(row.set, 0xFFFF'FFFF);  // SGIs/PPIs belong to the redistributors
    CHECK(g.r32(row.set) == 0);
    g.w32(row.clear + 4, 0xFFFF'FFFF);
  }
  CHECK(g.r32(gicd::kIgroupr + 4) == 0xFFFF'FFFF);
  CHECK(g.r32(gicd::kIgroupr) == 0);
  g.w32(gicd::kIpriorityr + 32, 0x1234'56A7);  // INTIDs 32-35
  CHECK(g.r32(gicd::kIpriorityr + 32) == 0x1030'50A0);
  CHECK(g.gicd.mmio_read(0, gicd::kIpriorityr + kUartSpi, 1) == 0x50);
  g.gicd.mmio_write(0, gicd::kIpriorityr + 35, 1, 0xFF);
  CHECK(g.r32(gicd::kIpriorityr + 32) == 0xF830'50A0);
  CHECK(g.gicd.mmio_read(0, gicd::kIpriorityr + 33, 4) == 0);  // words are aligned
  g.w32(gicd::kIpriorityr, 0xFFFF'FFFF);  // SGI priorities: not here
  CHECK(g.r32(gicd::kIpriorityr) == 0);
  g.w32(gicd::kIcfgr + 8, 0xFFFF'FFFF);  // INTIDs 32-47: edge bits only
  CHECK(g.r32(gicd::kIcfgr + 8) == 0xAAAA'AAAA);
  g.w32(gicd::kIcfgr + 4, 0xFFFF'FFFF);  // PPIs: RAZ/WI
  CHECK(g.r32(gicd::kIcfgr + 4) == 0);
}

TEST_CASE("gicd: any offset and width gets a defined answer") {
  Gic g;
  const std::uint64_t offsets[] = {0x0001, 0x0002, 0x0F00, 0x0800, 0x5FFC, 0x6000, 0x7FE0, 0xFFFC, 0x10000, ~std::uint64_t{0}};
  const unsigned sizes[] = {0, 1, 2, 3, 4, 8, 16};
  for (std::uint64_t off : offsets) {
    for (unsigned size : sizes) {
      g.gicd.mmio_write(0, off, size, ~std::uint64_t{0});
      CHECK(g.gicd.mmio_read(0, off, size) == 0);
    }
  }
  CHECK(g.gicd.mmio_read(0, gicd::kCtlr, 2) == 0);      // CTLR takes word accesses only
  CHECK(g.gicd.mmio_read(0, gicd::kTyper, 8) == 0);
  CHECK(g.r32(gicd::kCtlr) == (GicdCtlrReg::kWritable | GicdCtlrReg::kDs));  // the 2-byte write was ignored
}

TEST_CASE("gicd: IROUTER takes 64-bit and 32-bit accesses and keeps only its fields") {
  Gic g;
  const std::uint32_t off = gicd::kIrouter + 8 * kUartSpi;
  g.gicd.mmio_write(0, off, 8, 0xFFFF'FFFF'FFFF'FFFF);
  CHECK(g.gicd.mmio_read(0, off, 8) == 0xFF'80FF'FFFF);
  g.gicd.mmio_write(0, off, 4, 0x1);
  g.gicd.mmio_write(0, off + 4, 4, 0);
  CHECK(g.gicd.mmio_read(0, off, 8) == 0x1);
  CHECK(g.gicd.mmio_read(0, off, 4) == 0x1);
  CHECK(g.gicd.spi_target(kUartSpi) == 1u);
  g.gicd.mmio_write(0, gicd::kIrouter + 8 * 5, 8, 1);  // a PPI's IROUTER: reserved
  CHECK(g.gicd.mmio_read(0, gicd::kIrouter + 8 * 5, 8) == 0);
}

TEST_CASE("gicd: an SPI routed to VP 1 is acknowledged there") {
  Gic g;
  g.enable(kUartSpi);
  g.route(kUartSpi, IrouterReg{}.with_affinity(mpidr(1)));  // MPIDR bit 31 is not IRM
  g.gicd.set_spi_level(kUartSpi, true);
  CHECK(g.kicks[1] == 1);
  CHECK(g.kicks[0] == 0);
  CHECK_FALSE(g.lines[0]->irq_asserted());
  CHECK(g.iar(0) == kSpuriousIntid);
  REQUIRE(g.lines[1]->irq_asserted());
  CHECK(g.lines[1]->highest_pending() == kUartSpi);
  CHECK(g.iar(1) == kUartSpi);
  CHECK(g.gicd.spi_active(kUartSpi));
  CHECK(g.lines[1]->running_priority() == 0);
  g.gicd.set_spi_level(kUartSpi, false);
  g.eoi(1, kUartSpi);
  CHECK_FALSE(g.gicd.spi_active(kUartSpi));
  CHECK(g.lines[1]->running_priority() == kIdlePriority);
  CHECK(g.iar(1) == kSpuriousIntid);
}

TEST_CASE("gicd: IRM routes to VP 0; an affinity no VP has delivers nowhere until rerouted") {
  Gic g;
  g.enable(kUartSpi);
  g.route(kUartSpi, IrouterReg{}.with_affinity(mpidr(7)));
  g.gicd.pulse_spi(kUartSpi);
  CHECK(g.gicd.spi_target(kUartSpi) == std::nullopt);
  CHECK(g.gicd.spi_pending(kUartSpi));
  CHECK_FALSE(g.lines[0]->irq_asserted());
  CHECK_FALSE(g.lines[1]->irq_asserted());
  g.route(kUartSpi, IrouterReg{}.with_any(true));
  CHECK(g.kicks[0] == 1);
  CHECK(g.iar(0) == kUartSpi);
}

TEST_CASE("gicd: a level SPI stays pending while asserted and is offered again after deactivation") {
  Gic g;
  g.enable(kUartSpi);
  g.gicd.set_spi_level(kUartSpi, true);
  REQUIRE(g.iar(0) == kUartSpi);
  CHECK(g.gicd.spi_pending(kUartSpi));  // active and pending
  CHECK_FALSE(g.lines[0]->irq_asserted());
  g.eoi(0, kUartSpi);
  CHECK(g.lines[0]->irq_asserted());  // still asserted: pending again
  CHECK(g.iar(0) == kUartSpi);
  g.gicd.set_spi_level(kUartSpi, false);
  g.eoi(0, kUartSpi);
  CHECK_FALSE(g.gicd.spi_pending(kUartSpi));
  CHECK_FALSE(g.lines[0]->irq_asserted());
  SUBCASE("a level dropped before acknowledgement leaves nothing pending") {
    g.gicd.set_spi_level(kUartSpi, true);
    g.gicd.set_spi_level(kUartSpi, false);
    CHECK(g.iar(0) == kSpuriousIntid);
  }
  SUBCASE("ICPENDR does not clear an asserted level") {
    g.gicd.set_spi_level(kUartSpi, true);
    g.w32(gicd::kIcpendr + 4, 1u << (kUartSpi - 32));
    CHECK(g.gicd.spi_pending(kUartSpi));
  }
}

TEST_CASE("gicd: an edge SPI is latched once and not re-offered after deactivation") {
  Gic g;
  g.enable(kUartSpi);
  g.gicd.pulse_spi(kUartSpi);
  REQUIRE(g.iar(0) == kUartSpi);
  CHECK_FALSE(g.gicd.spi_pending(kUartSpi));
  g.eoi(0, kUartSpi);
  CHECK(g.iar(0) == kSpuriousIntid);
}

TEST_CASE("gicd: SPIs are held while disabled, group 1 is off or the distributor is off") {
  struct Row {
    const char* what;
    void (*setup)(Gic&);
  };
  const Row rows[] = {
      {"ICENABLER", [](Gic& g) { g.w32(gicd::kIcenabler + 4, 1u << (kUartSpi - 32)); }},
      {"GICD_CTLR.EnableGrp1 = 0", [](Gic& g) { g.w32(gicd::kCtlr, GicdCtlrReg::kAre); }},
      {"ICC_IGRPEN1_EL1 = 0", [](Gic& g) { g.lines[0]->write_sysreg(icc::kIgrpen1, 0); }},
      {"PMR at the priority", [](Gic& g) { g.lines[0]->write_sysreg(icc::kPmr, 0); }},
  };
  for (const Row& row : rows) {
    INFO(std::string(row.what));
    Gic g;
    g.enable(kUartSpi);
    row.setup(g);
    g.gicd.set_spi_level(kUartSpi, true);
    CHECK_FALSE(g.lines[0]->irq_asserted());
    CHECK(g.iar(0) == kSpuriousIntid);
    CHECK(g.gicd.spi_pending(kUartSpi));
  }
}

TEST_CASE("gicd: SPIs and PPIs are weighed by priority, ties to the lower INTID") {
  Gic g;
  g.lines[0]->gicr_write(gicr::kIsenabler0, 1u << kTimerPpi);
  g.enable(kUartSpi);
  g.enable(kOtherSpi);
  g.w32(gicd::kIpriorityr + 32, 0x0000'A000);  // INTID 33 at 0xA0
  g.w32(gicd::kIpriorityr + 40, 0x0000'0040);  // INTID 40 at 0x40
  g.lines[0]->set_priority(kTimerPpi, 0x80);
  g.gicd.set_spi_level(kUartSpi, true);
  g.lines[0]->set_level(kTimerPpi, true);
  CHECK(g.iar(0) == kTimerPpi);  // 0x80 beats 0xA0
  g.gicd.pulse_spi(kOtherSpi);
  CHECK(g.iar(0) == kOtherSpi);  // 0x40 preempts the running 0x80
  CHECK(g.lines[0]->running_priority() == 0x40);
  g.eoi(0, kOtherSpi);
  CHECK(g.lines[0]->running_priority() == 0x80);
  CHECK_FALSE(g.lines[0]->irq_asserted());  // 0xA0 cannot preempt 0x80
  g.lines[0]->set_level(kTimerPpi, false);
  g.eoi(0, kTimerPpi);
  CHECK(g.iar(0) == kUartSpi);
  SUBCASE("equal priorities: the PPI first") {
    g.eoi(0, kUartSpi);
    g.lines[0]->set_priority(kTimerPpi, 0xA0);
    g.lines[0]->set_level(kTimerPpi, true);
    CHECK(g.iar(0) == kTimerPpi);
  }
}

TEST_CASE("gicd: EOImode 1 drops an SPI's priority on EOIR and deactivates it on DIR") {
  Gic g;
  g.lines[0]->write_sysreg(icc::kCtlr, 0x2);
  g.enable(kUartSpi);
  g.gicd.pulse_spi(kUartSpi);
  REQUIRE(g.iar(0) == kUartSpi);
  g.eoi(0, kUartSpi);
  CHECK(g.lines[0]->running_priority() == kIdlePriority);
  CHECK(g.gicd.spi_active(kUartSpi));
  g.lines[0]->write_sysreg(icc::kDir, kUartSpi);
  CHECK_FALSE(g.gicd.spi_active(kUartSpi));
}

TEST_CASE("gicd: an SPI is pulled away between HPPIR and IAR: the read is spurious") {
  Gic g;
  g.enable(kUartSpi);
  g.gicd.set_spi_level(kUartSpi, true);
  REQUIRE(g.lines[0]->irq_asserted());
  g.gicd.set_spi_level(kUartSpi, false);
  CHECK(g.iar(0) == kSpuriousIntid);
  CHECK(g.lines[0]->running_priority() == kIdlePriority);
}

TEST_CASE("ppi: a level input is pending while asserted, again after deactivation, and clears when deasserted") {
  InterruptLine line;
  int kicks = 0;
  line.set_kick([&] { ++kicks; });
  line.write_sysreg(icc::kPmr, 0xF0);
  line.write_sysreg(icc::kIgrpen1, 1);
  line.gicr_write(gicr::kIsenabler0, 1u << kTimerPpi);
  auto iar = [&] {
    std::uint64_t v = 0;
    line.read_sysreg(icc::kIar1, v);
    return v;
  };
  line.set_level(kTimerPpi, true);
  line.set_level(kTimerPpi, true);
  CHECK(kicks == 1);  // one rising edge
  CHECK(line.gicr_read(gicr::kIspendr0) == 1u << kTimerPpi);
  REQUIRE(iar() == kTimerPpi);
  CHECK(line.pending(kTimerPpi));  // active and pending
  CHECK_FALSE(line.irq_asserted());
  line.write_sysreg(icc::kEoir1, kTimerPpi);
  CHECK(line.irq_asserted());
  REQUIRE(iar() == kTimerPpi);
  line.set_level(kTimerPpi, false);
  line.write_sysreg(icc::kEoir1, kTimerPpi);
  CHECK_FALSE(line.pending(kTimerPpi));
  CHECK_FALSE(line.irq_asserted());
  line.set_level(kTimerPpi, true);
  line.gicr_write(gicr::kIcpendr0, 1u << kTimerPpi);  // the level wins over ICPENDR
  CHECK(line.pending(kTimerPpi));
  line.set_level(40, true);
  CHECK(line.dropped_requests() == 1);
}

TEST_CASE("ppi: ICFGR1 reads back the trigger Linux writes; ICFGR0 stays edge") {
  InterruptLine line;
  CHECK(line.gicr_read(gicr::kIcfgr1) == 0xAAAA'AAAA);
  line.gicr_write(gicr::kIcfgr1, 0xAAAA'AAAA & ~(2u << (2 * (kTimerPpi - 16))));
  CHECK(line.gicr_read(gicr::kIcfgr1) == (0xAAAA'AAAA & ~(2u << (2 * (kTimerPpi - 16)))));
  line.gicr_write(gicr::kIcfgr1, 0x5555'5555);  // RES0 bits
  CHECK(line.gicr_read(gicr::kIcfgr1) == 0);
  line.gicr_write(gicr::kIcfgr0, 0);
  CHECK(line.gicr_read(gicr::kIcfgr0) == 0xAAAA'AAAA);
}
