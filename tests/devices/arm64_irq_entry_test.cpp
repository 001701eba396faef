// ARM64 exception entry to EL1 (IRQ and synchronous) and ERET: SPSR_EL1,
// ELR_EL1, ESR_EL1, FAR_EL1, PSTATE masks and mode, vector offsets, and
// the WFI wake-up condition.
#include <doctest/doctest.h>

#include <string>

#include "devices/arm64/interrupt_line.h"
#include "devices/arm64/irq_entry.h"

using namespace softsynic::devices;

namespace {

constexpr std::uint64_t kVbar = 0xFFFF'0000'0008'0000;
constexpr std::uint64_t kNzcvZc = 0x6ull << 28;

struct Regs final : Arm64EntryRegisters {
  std::uint64_t pc_ = 0x40001000, pstate_ = 0, elr_ = 0, spsr_ = 0, esr_ = 0, far_ = 0x5A5A;
  std::uint64_t pc() const override { return pc_; }
  void set_pc(std::uint64_t v) override { pc_ = v; }
  std::uint64_t pstate() const override { return pstate_; }
  void set_pstate(std::uint64_t v) override { pstate_ = v; }
  std::uint64_t elr_el1() const override { return elr_; }
  void set_elr_el1(std::uint64_t v) override { elr_ = v; }
  std::uint64_t spsr_el1() const override { return spsr_; }
  void set_spsr_el1(std::uint64_t v) override { spsr_ = v; }
  std::uint64_t vbar_el1() const override { return kVbar; }
  void set_esr_el1(std::uint64_t v) override { esr_ = v; }
  void set_far_el1(std::uint64_t v) override { far_ = v; }
};

}  // namespace

TEST_CASE("arm64 entry: IRQ to EL1 from each supported mode") {
  struct Row {
    const char* what;
    std::uint64_t mode;
    std::uint64_t offset;
  };
  const Row rows[] = {
      {"EL1h (current EL, SP_ELx)", pstate::kEl1h, 0x280},
      {"EL1t (current EL, SP_EL0)", pstate::kEl1t, 0x080},
      {"EL0 AArch64 (lower EL)", pstate::kEl0t, 0x480},
  };
  for (const Row& row : rows) {
    const std::string case_name = row.what;
    INFO(case_name);
    Regs r;
    const std::uint64_t before = row.mode | kNzcvZc | pstate::kF;
    r.pstate_ = before;
    const Arm64EntryResult res = arm64_take_irq(r);
    REQUIRE(res.status == Arm64EntryStatus::taken);
    CHECK(res.vector_offset == row.offset);
    CHECK(r.pc_ == kVbar + row.offset);
    CHECK(r.elr_ == 0x40001000);
    CHECK(r.spsr_ == before);
    CHECK(r.pstate_ == (kNzcvZc | pstate::kDaif | pstate::kEl1h));

    SUBCASE("ERET restores PC and PSTATE") {
      CHECK(arm64_exception_return(r));
      CHECK(r.pc_ == 0x40001000);
      CHECK(r.pstate_ == before);
    }
  }
}

TEST_CASE("arm64 entry: synchronous exceptions to EL1 from each supported mode, IRQs masked or not") {
  struct Row {
    const char* what;
    std::uint64_t mode;
    std::uint64_t offset;
  };
  const Row rows[] = {
      {"EL1h (current EL, SP_ELx)", pstate::kEl1h, 0x200},
      {"EL1t (current EL, SP_EL0)", pstate::kEl1t, 0x000},
      {"EL0 AArch64 (lower EL)", pstate::kEl0t, 0x400},
  };
  for (const Row& row : rows) {
    const std::string case_name = row.what;
    INFO(case_name);
    Regs r;
    const std::uint64_t before = row.mode | kNzcvZc | pstate::kI;  // masked IRQs do not mask these
    r.pstate_ = before;
    const std::uint32_t svc = (esr::kEcSvc64 << esr::kEcShift) | esr::kIl | 0x1234;
    const Arm64EntryResult res = arm64_take_sync(r, {svc, 0xDEAD});
    REQUIRE(res.status == Arm64EntryStatus::taken);
    CHECK(res.vector_offset == row.offset);
    CHECK(r.pc_ == kVbar + row.offset);
    CHECK(r.elr_ == 0x40001000);
    CHECK(r.spsr_ == before);
    CHECK(r.esr_ == svc);
    CHECK(r.far_ == 0x5A5A);  // an SVC reports no address: FAR_EL1 untouched
    CHECK(r.pstate_ == (kNzcvZc | pstate::kDaif | pstate::kEl1h));
    CHECK(arm64_exception_return(r));
    CHECK(r.pstate_ == before);
  }
}

TEST_CASE("arm64 entry: aborts, alignment faults and watchpoints write FAR_EL1, the other classes do not") {
  for (std::uint32_t ec = 0; ec < 0x40; ++ec) {
    CAPTURE(ec);
    Regs r;
    r.pstate_ = pstate::kEl0t;
    const std::uint32_t syndrome = (ec << esr::kEcShift) | esr::kIl | esr::kWnR | (esr::kFscTranslation + 3);
    REQUIRE(arm64_take_sync(r, {syndrome, 0x7FFF'1234'5008}).status == Arm64EntryStatus::taken);
    CHECK(r.esr_ == syndrome);
    const bool reports = ec == 0x20 || ec == 0x21 || ec == 0x22 || ec == 0x24 || ec == 0x25 || ec == 0x34 || ec == 0x35;
    CHECK(r.far_ == (reports ? 0x7FFF'1234'5008 : 0x5A5A));
  }
}

TEST_CASE("arm64 entry: PSTATE.I masks the IRQ and nothing changes") {
  Regs r;
  r.pstate_ = pstate::kEl1h | pstate::kI;
  CHECK(arm64_take_irq(r).status == Arm64EntryStatus::masked);
  CHECK(r.pc_ == 0x40001000);
  CHECK(r.elr_ == 0);
}

TEST_CASE("arm64 entry: AArch32 and EL2 are unsupported and change nothing") {
  for (std::uint64_t mode : {std::uint64_t{0x10}, std::uint64_t{0x13}, std::uint64_t{0x9}}) {
    CAPTURE(mode);
    Regs r;
    r.pstate_ = mode;
    CHECK(arm64_take_irq(r).status == Arm64EntryStatus::unsupported);
    CHECK(arm64_take_sync(r, {0x5600'0000, 0}).status == Arm64EntryStatus::unsupported);
    CHECK(r.pc_ == 0x40001000);
    CHECK(r.esr_ == 0);
  }
}

TEST_CASE("arm64 eret: refused outside EL1 or towards AArch32/EL2") {
  Regs r;
  r.pstate_ = pstate::kEl0t;
  r.spsr_ = pstate::kEl0t;
  CHECK_FALSE(arm64_exception_return(r));
  r.pstate_ = pstate::kEl1h;
  r.spsr_ = 0x9;  // EL2h
  CHECK_FALSE(arm64_exception_return(r));
  r.spsr_ = 0x10;  // AArch32 user
  CHECK_FALSE(arm64_exception_return(r));
  CHECK(r.pc_ == 0x40001000);
}

TEST_CASE("arm64 wfi: wakes once an enabled interrupt is asserted, whatever PSTATE.I") {
  InterruptLine line;
  line.write_sysreg(gic::icc::kPmr, 0xFF);
  line.write_sysreg(gic::icc::kIgrpen1, 1);
  CHECK_FALSE(arm64_wfi_should_wake(line));
  line.request_interrupt(20, false);
  CHECK_FALSE(arm64_wfi_should_wake(line));  // not enabled yet
  line.gicr_write(gic::gicr::kIsenabler0, 1u << 20);
  CHECK(arm64_wfi_should_wake(line));
}
