// Local APIC: priority and masking, acceptance, nested interrupts, EOI
// order, auto-EOI, register interfaces (xAPIC MMIO, x2APIC MSRs and their
// #GP rules, Hyper-V synthetic MSRs, IA32_APIC_BASE).
#include <doctest/doctest.h>

#include <string>

#include <vector>

#include "cpu_hooks/msr_chain.h"
#include "devices/apic/apic_msr_handler.h"
#include "tests/devices/apic_rig.h"

using namespace softsynic::devices;
using namespace softsynic::devices::apic;
using softsynic::devices::test::EnabledApic;
using softsynic::devices::test::x2msr;

TEST_CASE("apic: a requested vector is pending, kicks, and moves from IRR to ISR on acceptance") {
  EnabledApic t;
  t.apic.request_interrupt(0x41, false);
  CHECK(t.kicks == 1);
  CHECK(t.apic.irr().test(0x41));
  CHECK(t.apic.pending_vector() == 0x41);
  CHECK(t.apic.accept() == 0x41);
  CHECK_FALSE(t.apic.irr().test(0x41));
  CHECK(t.apic.isr().test(0x41));
  CHECK(t.apic.pending_vector() == std::nullopt);
  CHECK(t.apic.accept() == std::nullopt);
}

TEST_CASE("apic: the highest vector is accepted first") {
  EnabledApic t;
  for (std::uint8_t v : {0x31, 0x92, 0x55}) t.apic.request_interrupt(v, true);
  CHECK(t.apic.accept() == 0x92);
  CHECK(t.apic.accept() == 0x55);
  CHECK(t.apic.accept() == 0x31);
}

TEST_CASE("apic: TPR masks vectors whose priority class is not above it") {
  struct Row {
    std::uint8_t tpr;
    std::uint8_t vector;
    bool deliverable;
  };
  const Row rows[] = {
      {0x00, 0x20, true}, {0x40, 0x4F, false}, {0x40, 0x50, true}, {0x4F, 0x50, true}, {0xF0, 0xFF, false},
  };
  for (const Row& r : rows) {
    CAPTURE(r.tpr);
    CAPTURE(r.vector);
    EnabledApic t;
    t.apic.mmio_write(reg::kTpr, r.tpr);
    t.apic.request_interrupt(r.vector, false);
    CHECK(t.apic.pending_vector().has_value() == r.deliverable);
    CHECK(t.apic.ppr() == r.tpr);
    t.apic.mmio_write(reg::kTpr, 0);
    CHECK(t.apic.pending_vector() == r.vector);  // held in IRR, not lost
  }
}

TEST_CASE("apic: PPR is the in-service class when it is above TPR") {
  EnabledApic t;
  t.apic.mmio_write(reg::kTpr, 0x32);
  t.apic.request_interrupt(0x61, false);
  REQUIRE(t.apic.accept() == 0x61);
  CHECK(t.apic.ppr() == 0x60);
  CHECK(t.apic.mmio_read(reg::kPpr) == 0x60);
  t.apic.eoi();
  CHECK(t.apic.ppr() == 0x32);
}

TEST_CASE("apic: nested interrupts: only a higher class preempts the in-service one") {
  EnabledApic t;
  t.apic.request_interrupt(0x50, false);
  REQUIRE(t.apic.accept() == 0x50);
  t.apic.request_interrupt(0x58, false);  // same class: waits
  CHECK(t.apic.pending_vector() == std::nullopt);
  t.apic.request_interrupt(0x70, false);  // higher class: nests
  CHECK(t.apic.accept() == 0x70);
  CHECK(t.apic.isr().test(0x50));
  CHECK(t.apic.isr().test(0x70));
  SUBCASE("EOI retires the highest in-service vector first") {
    t.apic.eoi();
    CHECK_FALSE(t.apic.isr().test(0x70));
    CHECK(t.apic.isr().test(0x50));
    CHECK(t.apic.pending_vector() == std::nullopt);  // 0x58 still below 0x50's class
    t.apic.eoi();
    CHECK(t.apic.isr().empty());
    CHECK(t.apic.accept() == 0x58);
  }
}

TEST_CASE("apic: EOI with nothing in service does nothing") {
  EnabledApic t;
  t.apic.eoi();
  CHECK(t.apic.isr().empty());
}

TEST_CASE("apic: auto-EOI vectors are accepted without an ISR entry and need no EOI") {
  EnabledApic t;
  t.apic.request_interrupt(0xB1, true);
  REQUIRE(t.apic.accept() == 0xB1);
  CHECK(t.apic.isr().empty());
  CHECK(t.apic.ppr() == 0);
  t.apic.request_interrupt(0x40, false);
  CHECK(t.apic.accept() == 0x40);  // a lower class is not blocked
  SUBCASE("a later EOI retires the ordinary vector, not the auto-EOI one") {
    t.apic.eoi();
    CHECK(t.apic.isr().empty());
  }
}

TEST_CASE("apic: the same vector requested twice before acceptance is one interrupt") {
  EnabledApic t;
  t.apic.request_interrupt(0x60, false);
  t.apic.request_interrupt(0x60, false);
  CHECK(t.apic.accept() == 0x60);
  CHECK(t.apic.accept() == std::nullopt);
}

TEST_CASE("apic: illegal vectors and disabled APICs drop requests") {
  EnabledApic t;
  t.apic.request_interrupt(15, false);
  t.apic.request_interrupt(256, false);
  CHECK(t.apic.irr().empty());
  CHECK(t.apic.dropped_requests() == 2);
  t.apic.mmio_write(reg::kEsr, 0);  // latch
  CHECK((t.apic.mmio_read(reg::kEsr) & esr::kReceiveIllegalVector) != 0);

  t.apic.mmio_write(reg::kSvr, 0xFF);  // software disable
  t.apic.request_interrupt(0x40, false);
  CHECK(t.apic.irr().empty());
  CHECK(t.kicks == 0);
}

TEST_CASE("apic: software disable masks every LVT entry and keeps them masked") {
  EnabledApic t;
  t.apic.mmio_write(reg::kLvtLint0, 0x700);  // ExtINT, unmasked
  CHECK_FALSE(t.apic.lvt(LvtIndex::lint0).masked());
  CHECK(t.apic.lvt(LvtIndex::lint0).delivery_mode() == 7);
  t.apic.mmio_write(reg::kSvr, 0xFF);
  CHECK(t.apic.lvt(LvtIndex::lint0).masked());
  t.apic.mmio_write(reg::kLvtTimer, 0x30);
  CHECK(t.apic.lvt(LvtIndex::timer).masked());
  CHECK(t.apic.lvt(LvtIndex::timer).vector() == 0x30);
}

TEST_CASE("apic xAPIC MMIO: identification, masks of writable bits and read-only registers") {
  EnabledApic t(3);
  CHECK(t.apic.mmio_read(reg::kId) == 3u << 24);
  CHECK(t.apic.mmio_read(reg::kVersion) == 0x00060014);
  CHECK(t.apic.mmio_read(reg::kSvr) == test::kSvrEnabled);
  CHECK(t.apic.mmio_read(reg::kDfr) == 0xFFFFFFFF);
  t.apic.mmio_write(reg::kLdr, 0x12345678);
  CHECK(t.apic.mmio_read(reg::kLdr) == 0x12000000);
  t.apic.mmio_write(reg::kVersion, 0);
  CHECK(t.apic.mmio_read(reg::kVersion) == 0x00060014);
  t.apic.mmio_write(reg::kTpr, 0x1234);
  CHECK(t.apic.tpr() == 0x34);
  t.apic.mmio_write(reg::kLvtError, 0xFFFFFFFF);
  CHECK(t.apic.mmio_read(reg::kLvtError) == 0x100FF);
  CHECK(t.apic.mmio_read(reg::kLvtError + 4) == 0);  // not a register byte
  CHECK(t.apic.mmio_read(reg::kId + 3) == 3);        // byte read of the ID's top byte
}

TEST_CASE("apic xAPIC MMIO: IRR and ISR read as eight 32-bit registers") {
  EnabledApic t;
  t.apic.request_interrupt(0x41, false);
  t.apic.request_interrupt(0xB5, false);
  CHECK(t.apic.mmio_read(reg::kIrr0 + 0x20) == 1u << 1);   // IRR2 holds 0x40-0x5F
  CHECK(t.apic.mmio_read(reg::kIrr0 + 0x50) == 1u << 21);  // IRR5 holds 0xA0-0xBF
  REQUIRE(t.apic.accept() == 0xB5);
  CHECK(t.apic.mmio_read(reg::kIsr0 + 0x50) == 1u << 21);
  t.apic.mmio_write(reg::kEoi, 0);
  CHECK(t.apic.mmio_read(reg::kIsr0 + 0x50) == 0);
}

TEST_CASE("apic xAPIC MMIO: an unknown register sets the illegal-register ESR bit") {
  EnabledApic t;
  t.apic.mmio_write(0x3C0, 1);
  t.apic.mmio_write(reg::kEsr, 0);
  CHECK(t.apic.esr() == esr::kIllegalRegister);
  t.apic.mmio_write(reg::kEsr, 0);
  CHECK(t.apic.esr() == 0);
}

TEST_CASE("apic base: relocation moves the MMIO window; disable hides it and resets the APIC") {
  EnabledApic t;
  CHECK(t.apic.mmio_claims(kDefaultBase + 0x20));
  CHECK_FALSE(t.apic.mmio_claims(kDefaultBase + 0x1000));
  const auto moved = t.apic.apic_base().with_base(0xFED00000);
  REQUIRE(t.apic.write_msr(msr::kApicBase, moved.raw()) == softsynic::MsrResult::ok);
  CHECK(t.apic.mmio_claims(0xFED00000));
  CHECK_FALSE(t.apic.mmio_claims(kDefaultBase));
  std::uint64_t v = 0;
  REQUIRE(t.apic.read_msr(msr::kApicBase, v) == softsynic::MsrResult::ok);
  CHECK(v == (0xFED00000 | 0x900));  // enabled + BSP

  t.apic.request_interrupt(0x40, false);
  REQUIRE(t.apic.write_msr(msr::kApicBase, moved.with_enabled(false).raw()) == softsynic::MsrResult::ok);
  CHECK_FALSE(t.apic.mmio_claims(0xFED00000));
  CHECK(t.apic.irr().empty());
  CHECK_FALSE(t.apic.svr().software_enabled());
}

TEST_CASE("apic base: invalid writes and mode transitions raise #GP") {
  struct Row {
    const char* what;
    bool start_x2apic;
    bool start_disabled;
    std::uint64_t value;
  };
  const std::uint64_t en = 1u << 11, extd = 1u << 10, base = kDefaultBase;
  const Row rows[] = {
      {"reserved low bit", false, false, base | en | 1},
      {"reserved bit 9", false, false, base | en | (1u << 9)},
      {"beyond the physical address width", false, false, (std::uint64_t{1} << 50) | en},
      {"x2APIC without global enable", false, false, base | extd},
      {"x2APIC back to xAPIC", true, false, base | en},
      {"disabled straight to x2APIC", false, true, base | en | extd},
  };
  for (const Row& r : rows) {
    const std::string case_name = r.what;
    INFO(case_name);
    EnabledApic t;
    if (r.start_x2apic) t.go_x2apic();
    if (r.start_disabled) t.apic.write_msr(msr::kApicBase, base);
    const auto before = t.apic.apic_base();
    CHECK(t.apic.write_msr(msr::kApicBase, r.value) == softsynic::MsrResult::gp);
    CHECK(t.apic.apic_base() == before);
  }
}

TEST_CASE("apic base: x2APIC needs support") {
  LocalApic a(LocalApicConfig{0, true, false, 48});
  CHECK(a.write_msr(msr::kApicBase, kDefaultBase | 0xC00) == softsynic::MsrResult::gp);
}

TEST_CASE("x2apic: MSRs #GP outside x2APIC mode; x2APIC hides the MMIO page") {
  EnabledApic t(5);
  std::uint64_t v = 0;
  CHECK(t.apic.read_msr(x2msr(reg::kId), v) == softsynic::MsrResult::gp);
  t.go_x2apic();
  CHECK(t.apic.x2apic_mode());
  CHECK_FALSE(t.apic.mmio_claims(kDefaultBase));
  REQUIRE(t.apic.read_msr(x2msr(reg::kId), v) == softsynic::MsrResult::ok);
  CHECK(v == 5);
  REQUIRE(t.apic.read_msr(x2msr(reg::kLdr), v) == softsynic::MsrResult::ok);
  CHECK(v == 0x20);  // cluster 0, bit 5
  REQUIRE(t.apic.read_msr(x2msr(reg::kSvr), v) == softsynic::MsrResult::ok);
  CHECK(v == test::kSvrEnabled);  // state kept across the switch
}

TEST_CASE("x2apic: the architected #GP rules") {
  struct Row {
    const char* what;
    std::uint32_t msr;
    bool write;
    std::uint64_t value;
  };
  const Row rows[] = {
      {"read EOI (write-only)", x2msr(reg::kEoi), false, 0},
      {"read SELF_IPI (write-only)", x2msr(reg::kSelfIpi), false, 0},
      {"write ID (read-only)", x2msr(reg::kId), true, 0},
      {"write version", x2msr(reg::kVersion), true, 0},
      {"write PPR", x2msr(reg::kPpr), true, 0},
      {"write LDR", x2msr(reg::kLdr), true, 0},
      {"write ISR0", x2msr(reg::kIsr0), true, 0},
      {"write IRR7", x2msr(reg::kIrr0 + 0x70), true, 0},
      {"write current count", x2msr(reg::kTimerCurrentCount), true, 0},
      {"read DFR (xAPIC only)", x2msr(reg::kDfr), false, 0},
      {"read ICR2 (xAPIC only)", x2msr(reg::kIcrHigh), false, 0},
      {"read APR", x2msr(reg::kApr), false, 0},
      {"read a reserved MSR", 0x804, false, 0},
      {"read the last reserved MSR", 0x8FF, false, 0},
      {"EOI with a non-zero value", x2msr(reg::kEoi), true, 1},
      {"ESR with a non-zero value", x2msr(reg::kEsr), true, 1},
      {"TPR reserved bits", x2msr(reg::kTpr), true, 0x100},
      {"upper half set", x2msr(reg::kTpr), true, std::uint64_t{1} << 32},
      {"SVR reserved bits", x2msr(reg::kSvr), true, 0x8FF},
      {"LVT reserved bits", x2msr(reg::kLvtError), true, 0x700},
      {"ICR reserved bit 13", x2msr(reg::kIcrLow), true, 0x2040},
      {"ICR reserved bits 20-31", x2msr(reg::kIcrLow), true, 0x100040},
      {"SELF_IPI reserved bits", x2msr(reg::kSelfIpi), true, 0x140},
      {"divide reserved bits", x2msr(reg::kTimerDivide), true, 0x4},
  };
  for (const Row& r : rows) {
    const std::string case_name = r.what;
    INFO(case_name);
    EnabledApic t;
    t.go_x2apic();
    std::uint64_t v = 0;
    const auto result = r.write ? t.apic.write_msr(r.msr, r.value) : t.apic.read_msr(r.msr, v);
    CHECK(result == softsynic::MsrResult::gp);
  }
}

TEST_CASE("x2apic: readable and writable registers") {
  EnabledApic t;
  t.go_x2apic();
  std::uint64_t v = 0;
  CHECK(t.apic.write_msr(x2msr(reg::kTpr), 0x20) == softsynic::MsrResult::ok);
  CHECK(t.apic.tpr() == 0x20);
  CHECK(t.apic.write_msr(x2msr(reg::kLvtLint1), 0x10400) == softsynic::MsrResult::ok);  // NMI, masked
  CHECK(t.apic.read_msr(x2msr(reg::kLvtLint1), v) == softsynic::MsrResult::ok);
  CHECK(v == 0x10400);
  CHECK(t.apic.write_msr(x2msr(reg::kTimerInitialCount), 0xFFFFFFFF) == softsynic::MsrResult::ok);
  CHECK(t.apic.read_msr(x2msr(reg::kTimerCurrentCount), v) == softsynic::MsrResult::ok);
  CHECK(v == 0);  // the timer does not count
  CHECK(t.apic.read_msr(0x1234, v) == softsynic::MsrResult::not_mine);
  CHECK(t.apic.write_msr(0x40000080, 1) == softsynic::MsrResult::not_mine);
}

TEST_CASE("x2apic: EOI MSR retires the highest in-service vector") {
  EnabledApic t;
  t.go_x2apic();
  t.apic.request_interrupt(0x80, false);
  REQUIRE(t.apic.accept() == 0x80);
  CHECK(t.apic.write_msr(x2msr(reg::kEoi), 0) == softsynic::MsrResult::ok);
  CHECK(t.apic.isr().empty());
}

TEST_CASE("hyper-v synthetic APIC MSRs: EOI, TPR and ICR in both modes") {
  for (bool x2 : {false, true}) {
    CAPTURE(x2);
    EnabledApic t;
    if (x2) t.go_x2apic();
    std::uint64_t v = 0;
    CHECK(t.apic.read_msr(msr::kHvEoi, v) == softsynic::MsrResult::gp);  // write-only
    CHECK(t.apic.write_msr(msr::kHvTpr, 0x50) == softsynic::MsrResult::ok);
    CHECK(t.apic.tpr() == 0x50);
    CHECK(t.apic.read_msr(msr::kHvTpr, v) == softsynic::MsrResult::ok);
    CHECK(v == 0x50);
    CHECK(t.apic.write_msr(msr::kHvTpr, 0x150) == softsynic::MsrResult::gp);
    t.apic.write_msr(msr::kHvTpr, 0);

    t.apic.request_interrupt(0x90, false);
    REQUIRE(t.apic.accept() == 0x90);
    CHECK(t.apic.write_msr(msr::kHvEoi, 0x1234) == softsynic::MsrResult::ok);
    CHECK(t.apic.isr().empty());

    // A self-addressed fixed IPI through the synthetic ICR.
    const auto icr = x2 ? IcrReg().with_vector(0x66).with_x2apic_destination(0)
                        : IcrReg().with_vector(0x66).with_xapic_destination(0);
    CHECK(t.apic.write_msr(msr::kHvIcr, icr.raw()) == softsynic::MsrResult::ok);
    CHECK(t.apic.read_msr(msr::kHvIcr, v) == softsynic::MsrResult::ok);
    CHECK(v == icr.raw());
    CHECK(t.apic.pending_vector() == 0x66);
  }
}

TEST_CASE("apic: INIT and SIPI are recorded for the emulator") {
  EnabledApic t;
  CHECK_FALSE(t.apic.take_startup_events());
  t.apic.deliver_init();
  t.apic.deliver_startup(0x9A);
  CHECK(t.kicks == 2);
  const auto e = t.apic.take_startup_events();
  CHECK(e.init);
  CHECK(e.sipi_vector == 0x9A);
  CHECK_FALSE(t.apic.take_startup_events());
}

TEST_CASE("apic msr handler: the calling VP's APIC answers in the MSR chain, others fall through") {
  EnabledApic a(0), b(1);
  b.go_x2apic();
  ApicMsrHandler handler([&](std::uint32_t vp, softsynic::Vtl vtl) -> LocalApic* {
    if (vtl != 0) return nullptr;
    return vp == 0 ? &a.apic : vp == 1 ? &b.apic : nullptr;
  });
  softsynic::MsrChain chain;
  chain.append(handler);
  std::uint64_t v = 0;
  CHECK(chain.read(1, 0, x2msr(reg::kId), v) == softsynic::MsrResult::ok);
  CHECK(v == 1);
  CHECK(chain.read(0, 0, x2msr(reg::kId), v) == softsynic::MsrResult::gp);  // VP 0 is in xAPIC mode
  CHECK(chain.read(2, 0, msr::kApicBase, v) == softsynic::MsrResult::not_mine);
  CHECK(chain.read(0, 1, msr::kApicBase, v) == softsynic::MsrResult::not_mine);
  CHECK(chain.write(0, 0, msr::kHvTpr, 0x30) == softsynic::MsrResult::ok);
  CHECK(a.apic.tpr() == 0x30);
}
