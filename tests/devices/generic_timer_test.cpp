// The Arm generic timer's virtual timer: the counter derived from the
// reference time, CNTV_CTL/CVAL/TVAL, ISTATUS, the PPI 27 level output
// into an interrupt line, next_deadline(), and the register access rules.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "devices/arm64/generic_timer.h"
#include "devices/arm64/interrupt_line.h"

using namespace softsynic::devices;
using namespace softsynic::devices::timer;

namespace {

struct Timer {
  Timer() {
    timer.set_output([this](bool level) { levels.push_back(level); });
  }
  std::uint64_t read(SysRegEncoding r, std::uint64_t now) {
    std::uint64_t v = 0;
    REQUIRE(timer.read_sysreg(r, now, v) == softsynic::devices::SysRegResult::ok);
    return v;
  }
  void write(SysRegEncoding r, std::uint64_t now, std::uint64_t v) {
    REQUIRE(timer.write_sysreg(r, now, v) == softsynic::devices::SysRegResult::ok);
  }
  GenericTimer timer;
  std::vector<bool> levels;
};

constexpr std::uint64_t kOneSecond = 10'000'000;  // reference ticks

}  // namespace

TEST_CASE("timer: the counter runs at CNTFRQ, derived from the reference time") {
  Timer t;
  CHECK(t.read(reg::kCntfrq, 0) == 62'500'000);
  struct Row {
    std::uint64_t ticks;
    std::uint64_t count;
  };
  const Row rows[] = {{0, 0}, {1, 6}, {2, 12}, {3, 18}, {4, 25}, {kOneSecond, 62'500'000}, {kOneSecond + 1, 62'500'006}};
  for (const Row& row : rows) {
    CAPTURE(row.ticks);
    CHECK(t.read(reg::kCntvct, row.ticks) == row.count);
  }
}

TEST_CASE("timer: ticks_for is the first reference time at which the counter reaches a count") {
  for (std::uint64_t count = 0; count < 200; ++count) {
    CAPTURE(count);
    const std::uint64_t t = GenericTimer::ticks_for(count);
    CHECK(GenericTimer::count_at(t) >= count);
    if (t > 0) CHECK(GenericTimer::count_at(t - 1) < count);
  }
  CHECK(GenericTimer::ticks_for(~std::uint64_t{0}) > GenericTimer::ticks_for(~std::uint64_t{0} - 25));  // no overflow
}

TEST_CASE("timer: ISTATUS is ENABLE && CNTVCT >= CVAL; the output is ISTATUS && !IMASK") {
  Timer t;
  t.write(reg::kCntvCval, 0, 625);  // 10 us
  CHECK(t.read(reg::kCntvCtl, 200) == 0);  // disabled: no status even when due
  t.write(reg::kCntvCtl, 0, CntvCtlReg::kEnable);
  CHECK(t.read(reg::kCntvCtl, 99) == CntvCtlReg::kEnable);
  CHECK(t.levels.empty());
  t.timer.update(99);
  CHECK(t.levels.empty());
  t.timer.update(100);
  CHECK(t.read(reg::kCntvCtl, 100) == (CntvCtlReg::kEnable | CntvCtlReg::kIstatus));
  CHECK(t.levels == std::vector<bool>{true});
  t.write(reg::kCntvCtl, 100, CntvCtlReg::kEnable | CntvCtlReg::kImask);  // masked: output falls, status stays
  CHECK(t.read(reg::kCntvCtl, 100) == (CntvCtlReg::kEnable | CntvCtlReg::kImask | CntvCtlReg::kIstatus));
  CHECK(t.levels == std::vector<bool>{true, false});
  t.write(reg::kCntvCtl, 100, CntvCtlReg::kEnable);
  t.write(reg::kCntvCval, 100, 10'000);  // a new compare value in the future: output falls
  CHECK(t.levels == std::vector<bool>{true, false, true, false});
  t.write(reg::kCntvCtl, 100, 0xFFFF'FFFF'FFFF'FFF8);  // ISTATUS and RES0 bits ignored
  CHECK(t.timer.control().raw() == 0);
}

TEST_CASE("timer: TVAL is a signed 32-bit view of CVAL relative to the counter") {
  Timer t;
  t.write(reg::kCntvTval, 400, 1000);  // counter 2500 at 400 ticks
  CHECK(t.timer.compare_value() == 3500);
  CHECK(t.read(reg::kCntvTval, 400) == 1000);
  CHECK(t.read(reg::kCntvTval, 800) == static_cast<std::uint32_t>(-1500));  // counter 5000: 1500 past
  t.write(reg::kCntvTval, 400, 0xFFFF'FFFF'FFFF'FF9C);  // -100: only bits 31:0 count, sign-extended
  CHECK(t.timer.compare_value() == 2400);
  t.write(reg::kCntvCtl, 400, CntvCtlReg::kEnable);
  CHECK(t.timer.output_level());  // already due
}

TEST_CASE("timer: next_deadline names when the output asserts, or nothing when disabled or masked") {
  Timer t;
  t.write(reg::kCntvCval, 0, 62'500'000 + 1);  // just after one second
  CHECK(t.timer.next_deadline() == std::nullopt);
  t.write(reg::kCntvCtl, 0, CntvCtlReg::kEnable | CntvCtlReg::kImask);
  CHECK(t.timer.next_deadline() == std::nullopt);
  t.write(reg::kCntvCtl, 0, CntvCtlReg::kEnable);
  REQUIRE(t.timer.next_deadline().has_value());
  const std::uint64_t deadline = *t.timer.next_deadline();
  CHECK(deadline == kOneSecond + 1);
  t.timer.update(deadline - 1);
  CHECK_FALSE(t.timer.output_level());
  t.timer.update(deadline);
  CHECK(t.timer.output_level());
}

TEST_CASE("timer: register access rules") {
  Timer t;
  std::uint64_t v = 0;
  CHECK(t.timer.write_sysreg(reg::kCntfrq, 0, 1) == softsynic::devices::SysRegResult::undefined);
  CHECK(t.timer.write_sysreg(reg::kCntvct, 0, 1) == softsynic::devices::SysRegResult::undefined);
  CHECK(t.timer.read_sysreg(SysRegEncoding{3, 3, 14, 2, 1}, 0, v) == softsynic::devices::SysRegResult::not_mine);  // CNTP_CTL_EL0
  CHECK(t.timer.write_sysreg(SysRegEncoding{3, 0, 1, 0, 0}, 0, 0) == softsynic::devices::SysRegResult::not_mine);  // SCTLR_EL1
}

TEST_CASE("timer: the output drives PPI 27 as a level on the VP's interrupt line") {
  InterruptLine line;
  line.write_sysreg(softsynic::devices::gic::icc::kPmr, 0xF0);
  line.write_sysreg(softsynic::devices::gic::icc::kIgrpen1, 1);
  line.gicr_write(softsynic::devices::gic::gicr::kIsenabler0, 1u << kVirtualTimerPpi);
  GenericTimer timer;
  timer.set_output([&line](bool level) { line.set_level(kVirtualTimerPpi, level); });
  timer.write_sysreg(reg::kCntvTval, 0, 6250);  // 100 us
  timer.write_sysreg(reg::kCntvCtl, 0, CntvCtlReg::kEnable);
  CHECK_FALSE(line.irq_asserted());
  timer.update(*timer.next_deadline());
  REQUIRE(line.irq_asserted());
  std::uint64_t iar = 0;
  line.read_sysreg(softsynic::devices::gic::icc::kIar1, iar);
  CHECK(iar == kVirtualTimerPpi);
  // Linux's handler masks the timer (IMASK) before EOI: nothing re-pends.
  timer.write_sysreg(reg::kCntvCtl, 1000, CntvCtlReg::kEnable | CntvCtlReg::kImask);
  line.write_sysreg(softsynic::devices::gic::icc::kEoir1, kVirtualTimerPpi);
  CHECK_FALSE(line.irq_asserted());
  CHECK_FALSE(line.pending(kVirtualTimerPpi));
}
