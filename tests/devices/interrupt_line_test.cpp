// ARM64 interrupt line: PPI enable through the redistributor, priority
// mask, group enable, acknowledge (ICC_IAR1_EL1), EOI (ICC_EOIR1_EL1, with
// EOImode 0 and 1), nesting by priority, and the system register rules.
#include <doctest/doctest.h>

#include <string>

#include <vector>

#include "devices/arm64/interrupt_line.h"

using namespace softsynic::devices;
using namespace softsynic::devices::gic;

namespace {

constexpr std::uint32_t kSintPpi = 18;  // a SINT's INTID
constexpr std::uint32_t kOtherPpi = 21;

// A line the way a guest driver leaves it: PMR open, group 1 enabled, the
// PPIs enabled through GICR_ISENABLER0.
struct ReadyLine {
  ReadyLine() {
    line.set_kick([this] { ++kicks; });
    line.write_sysreg(icc::kPmr, 0xF0);
    line.write_sysreg(icc::kIgrpen1, 1);
    line.gicr_write(gicr::kIsenabler0, (1u << kSintPpi) | (1u << kOtherPpi));
  }
  std::uint64_t iar() {
    std::uint64_t v = 0;
    line.read_sysreg(icc::kIar1, v);
    return v;
  }
  void eoi(std::uint32_t intid) { line.write_sysreg(icc::kEoir1, intid); }
  InterruptLine line;
  int kicks = 0;
};

}  // namespace

TEST_CASE("ppi: nothing pending acknowledges as 1023") {
  ReadyLine r;
  CHECK(r.iar() == kSpuriousIntid);
  CHECK_FALSE(r.line.irq_asserted());
}

TEST_CASE("ppi: a requested, enabled PPI is acknowledged, becomes active, and EOI deactivates it") {
  ReadyLine r;
  r.line.request_interrupt(kSintPpi, false);
  CHECK(r.kicks == 1);
  CHECK(r.line.irq_asserted());
  CHECK(r.line.gicr_read(gicr::kIspendr0) == 1u << kSintPpi);
  CHECK(r.iar() == kSintPpi);
  CHECK(r.line.active(kSintPpi));
  CHECK_FALSE(r.line.pending(kSintPpi));
  CHECK_FALSE(r.line.irq_asserted());
  CHECK(r.line.running_priority() == 0);
  r.eoi(kSintPpi);
  CHECK_FALSE(r.line.active(kSintPpi));
  CHECK(r.line.running_priority() == kIdlePriority);
}

TEST_CASE("ppi: disabled, group-disabled or PMR-masked interrupts are held, not lost") {
  struct Row {
    const char* what;
    void (*setup)(InterruptLine&);
  };
  const Row rows[] = {
      {"ICENABLER0", [](InterruptLine& l) { l.gicr_write(gicr::kIcenabler0, 1u << kSintPpi); }},
      {"IGRPEN1 = 0", [](InterruptLine& l) { l.write_sysreg(icc::kIgrpen1, 0); }},
      {"PMR at the priority", [](InterruptLine& l) { l.set_priority(kSintPpi, 0x80); l.write_sysreg(icc::kPmr, 0x80); }},
  };
  for (const Row& row : rows) {
    const std::string case_name = row.what;
    INFO(case_name);
    ReadyLine r;
    row.setup(r.line);
    r.line.request_interrupt(kSintPpi, false);
    CHECK_FALSE(r.line.irq_asserted());
    CHECK(r.iar() == kSpuriousIntid);
    CHECK(r.line.pending(kSintPpi));
  }
}

TEST_CASE("ppi: redistributor enable and priority registers read back") {
  ReadyLine r;
  CHECK(r.line.gicr_read(gicr::kIsenabler0) == ((1u << kSintPpi) | (1u << kOtherPpi)));
  r.line.gicr_write(gicr::kIcenabler0, 1u << kOtherPpi);
  CHECK(r.line.gicr_read(gicr::kIcenabler0) == 1u << kSintPpi);
  r.line.gicr_write(gicr::kIpriorityr0 + 16, 0xFFA0'1234);  // INTIDs 16-19
  CHECK(r.line.priority(16) == 0x30);                      // low 3 bits not implemented
  CHECK(r.line.priority(kSintPpi) == 0xA0);
  CHECK(r.line.gicr_read(gicr::kIpriorityr0 + 16) == 0xF8A0'1030);
  CHECK(r.line.gicr_read(gicr::kIgroupr0) == 0xFFFFFFFF);
  r.line.gicr_write(gicr::kIspendr0, 1u << kOtherPpi);
  CHECK(r.line.pending(kOtherPpi));
  r.line.gicr_write(gicr::kIcpendr0, 1u << kOtherPpi);
  CHECK_FALSE(r.line.pending(kOtherPpi));
}

TEST_CASE("ppi: the higher priority is acknowledged first and preempts a lower one") {
  ReadyLine r;
  r.line.set_priority(kSintPpi, 0xA0);
  r.line.set_priority(kOtherPpi, 0x40);
  r.line.request_interrupt(kSintPpi, false);
  CHECK(r.iar() == kSintPpi);
  r.line.request_interrupt(kOtherPpi, false);
  CHECK(r.line.irq_asserted());  // 0x40 beats running 0xA0
  CHECK(r.iar() == kOtherPpi);
  CHECK(r.line.running_priority() == 0x40);
  r.eoi(kOtherPpi);
  CHECK(r.line.running_priority() == 0xA0);
  r.eoi(kSintPpi);
  CHECK(r.line.running_priority() == kIdlePriority);
  SUBCASE("an equal priority does not preempt") {
    r.line.request_interrupt(kSintPpi, false);
    REQUIRE(r.iar() == kSintPpi);
    r.line.set_priority(kOtherPpi, 0xA0);
    r.line.request_interrupt(kOtherPpi, false);
    CHECK_FALSE(r.line.irq_asserted());
  }
}

TEST_CASE("ppi: EOImode 1 drops priority on EOIR and deactivates on DIR") {
  ReadyLine r;
  r.line.write_sysreg(icc::kCtlr, 0x2);
  r.line.request_interrupt(kSintPpi, false);
  REQUIRE(r.iar() == kSintPpi);
  r.eoi(kSintPpi);
  CHECK(r.line.running_priority() == kIdlePriority);
  CHECK(r.line.active(kSintPpi));
  r.line.write_sysreg(icc::kDir, kSintPpi);
  CHECK_FALSE(r.line.active(kSintPpi));
}

TEST_CASE("ppi: EOI of a spurious or never-acknowledged INTID changes nothing") {
  ReadyLine r;
  r.line.request_interrupt(kSintPpi, false);
  REQUIRE(r.iar() == kSintPpi);
  r.eoi(kSpuriousIntid);
  r.eoi(kOtherPpi);
  CHECK(r.line.active(kSintPpi));
  CHECK(r.line.running_priority() == 0);
}

TEST_CASE("ppi: INTIDs beyond the local range are dropped") {
  ReadyLine r;
  r.line.request_interrupt(32, false);
  r.line.request_interrupt(1023, false);
  CHECK(r.line.dropped_requests() == 2);
  CHECK(r.kicks == 0);
}

TEST_CASE("icc: system register access rules") {
  ReadyLine r;
  std::uint64_t v = 0;
  CHECK(r.line.read_sysreg(icc::kEoir1, v) == SysRegResult::undefined);  // write-only
  CHECK(r.line.read_sysreg(icc::kDir, v) == SysRegResult::undefined);
  CHECK(r.line.write_sysreg(icc::kIar1, 0) == SysRegResult::undefined);  // read-only
  CHECK(r.line.write_sysreg(icc::kRpr, 0) == SysRegResult::undefined);
  CHECK(r.line.read_sysreg(SysRegEncoding{3, 0, 1, 0, 0}, v) == SysRegResult::not_mine);  // SCTLR_EL1
  REQUIRE(r.line.read_sysreg(icc::kCtlr, v) == SysRegResult::ok);
  CHECK(v == 0x400);  // PRIbits = 4 (5 bits), EOImode 0
  r.line.write_sysreg(icc::kCtlr, 0xFFFF);
  r.line.read_sysreg(icc::kCtlr, v);
  CHECK(v == 0x403);
  r.line.read_sysreg(icc::kSre, v);
  CHECK(v == 0x7);
  r.line.write_sysreg(icc::kPmr, 0x1FF);
  r.line.read_sysreg(icc::kPmr, v);
  CHECK(v == 0xF8);
  r.line.read_sysreg(icc::kIgrpen1, v);
  CHECK(v == 1);
  r.line.write_sysreg(icc::kBpr1, 0);
  r.line.read_sysreg(icc::kBpr1, v);
  CHECK(v == 3);  // the minimum for five priority bits
}

TEST_CASE("icc: HPPIR1 names the best pending INTID even when masked") {
  ReadyLine r;
  r.line.write_sysreg(icc::kPmr, 0);
  r.line.request_interrupt(kOtherPpi, false);
  std::uint64_t v = 0;
  r.line.read_sysreg(icc::kHppir1, v);
  CHECK(v == kOtherPpi);
  CHECK(r.iar() == kSpuriousIntid);
}
