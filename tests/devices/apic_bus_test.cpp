// IPIs through the ApicBus: self, one VP (physical), logical flat and
// cluster, x2APIC cluster, all-including-self, all-but-self, INIT/SIPI, and
// illegal vectors.
#include <doctest/doctest.h>

#include <string>

#include <array>
#include <memory>

#include "devices/apic/apic_bus.h"
#include "tests/devices/apic_rig.h"

using namespace softsynic::devices;
using namespace softsynic::devices::apic;
using softsynic::devices::test::EnabledApic;
using softsynic::devices::test::x2msr;

namespace {

struct FourApics {
  FourApics() {
    for (std::uint32_t i = 0; i < 4; ++i) {
      apics[i] = std::make_unique<EnabledApic>(i);
      bus.attach(apics[i]->apic);
    }
  }
  LocalApic& operator[](unsigned i) { return apics[i]->apic; }
  // Which APICs have `vector` pending.
  std::array<bool, 4> pending(std::uint8_t vector) {
    std::array<bool, 4> out{};
    for (unsigned i = 0; i < 4; ++i) out[i] = apics[i]->apic.irr().test(vector);
    return out;
  }
  // ICR low then high as an xAPIC guest writes them (high first).
  void xapic_send(unsigned from, IcrReg icr) {
    (*this)[from].mmio_write(reg::kIcrHigh, icr.high());
    (*this)[from].mmio_write(reg::kIcrLow, icr.low());
  }
  ApicBus bus;
  std::array<std::unique_ptr<EnabledApic>, 4> apics;
};

using P = std::array<bool, 4>;

}  // namespace

TEST_CASE("ipi: xAPIC fixed IPIs reach the right APICs") {
  struct Row {
    const char* what;
    IcrReg icr;
    P expected;
  };
  const IcrReg fixed = IcrReg().with_vector(0x77);
  const Row rows[] = {
      {"self shorthand", fixed.with_shorthand(DestinationShorthand::self), {false, true, false, false}},
      {"physical VP 2", fixed.with_xapic_destination(2), {false, false, true, false}},
      {"physical broadcast", fixed.with_xapic_destination(0xFF), {true, true, true, true}},
      {"physical nobody", fixed.with_xapic_destination(9), {false, false, false, false}},
      {"all including self", fixed.with_shorthand(DestinationShorthand::all_including_self), {true, true, true, true}},
      {"all but self", fixed.with_shorthand(DestinationShorthand::all_excluding_self), {true, false, true, true}},
      {"logical flat 0b1010", fixed.with_logical(true).with_xapic_destination(0x0A), {false, true, false, true}},
      {"lowest priority: the first match", fixed.with_delivery_mode(DeliveryMode::lowest_priority)
                                              .with_logical(true).with_xapic_destination(0x0C),
       {false, false, true, false}},
      {"NMI is not modelled", fixed.with_delivery_mode(DeliveryMode::nmi).with_xapic_destination(0xFF),
       {false, false, false, false}},
  };
  for (const Row& r : rows) {
    const std::string case_name = r.what;
    INFO(case_name);
    FourApics a;
    for (unsigned i = 0; i < 4; ++i) a[i].mmio_write(reg::kLdr, (1u << i) << 24);  // flat: bit i
    a.xapic_send(1, r.icr);
    CHECK(a.pending(0x77) == r.expected);
  }
}

TEST_CASE("ipi: xAPIC logical cluster model") {
  FourApics a;
  for (unsigned i = 0; i < 4; ++i) {
    a[i].mmio_write(reg::kDfr, 0x0FFFFFFF);                            // cluster model
    a[i].mmio_write(reg::kLdr, (((i / 2) << 4) | (1u << (i % 2))) << 24);  // cluster i/2, bit i%2
  }
  a.xapic_send(0, IcrReg().with_vector(0x78).with_logical(true).with_xapic_destination(0x13));  // cluster 1, bits 0-1
  CHECK(a.pending(0x78) == P{false, false, true, true});
}

TEST_CASE("ipi: x2APIC physical, cluster and SELF_IPI") {
  FourApics a;
  for (auto& t : a.apics) t->go_x2apic();
  CHECK(a[0].write_msr(x2msr(reg::kIcrLow), IcrReg().with_vector(0x79).with_x2apic_destination(3).raw()) ==
        softsynic::MsrResult::ok);
  CHECK(a.pending(0x79) == P{false, false, false, true});
  // x2APIC logical: cluster 0, bits 1 and 2.
  CHECK(a[0].write_msr(x2msr(reg::kIcrLow),
                       IcrReg().with_vector(0x7A).with_logical(true).with_x2apic_destination(0x6).raw()) ==
        softsynic::MsrResult::ok);
  CHECK(a.pending(0x7A) == P{false, true, true, false});
  CHECK(a[2].write_msr(x2msr(reg::kSelfIpi), 0x7B) == softsynic::MsrResult::ok);
  CHECK(a.pending(0x7B) == P{false, false, true, false});
  CHECK(a[2].write_msr(x2msr(reg::kIcrLow),
                       IcrReg().with_vector(0x7C).with_x2apic_destination(0xFFFFFFFF).raw()) ==
        softsynic::MsrResult::ok);
  CHECK(a.pending(0x7C) == P{true, true, true, true});
}

TEST_CASE("ipi: the receiver gets a kick and takes the vector") {
  FourApics a;
  a.xapic_send(0, IcrReg().with_vector(0x90).with_xapic_destination(3));
  CHECK(a.apics[3]->kicks == 1);
  CHECK(a.apics[0]->kicks == 0);
  CHECK(a[3].accept() == 0x90);
}

TEST_CASE("ipi: level-triggered fixed IPIs set TMR on acceptance") {
  FourApics a;
  a.xapic_send(0, IcrReg().with_vector(0x91).with_level_triggered(true).with_level_assert(true).with_xapic_destination(1));
  REQUIRE(a[1].accept() == 0x91);
  CHECK(a[1].tmr().test(0x91));
  CHECK(a[1].mmio_read(reg::kTmr0 + 0x40) == 1u << 17);
}

TEST_CASE("ipi: a fixed IPI with a vector below 16 is not sent and sets ESR") {
  FourApics a;
  a.xapic_send(0, IcrReg().with_vector(0x0E).with_shorthand(DestinationShorthand::all_including_self));
  CHECK(a.pending(0x0E) == P{false, false, false, false});
  a[0].mmio_write(reg::kEsr, 0);
  CHECK(a[0].esr() == esr::kSendIllegalVector);
}

TEST_CASE("ipi: INIT and SIPI reach the target for the emulator; INIT de-assert does not") {
  FourApics a;
  a.xapic_send(0, IcrReg().with_delivery_mode(DeliveryMode::init).with_level_triggered(true).with_xapic_destination(2));
  CHECK_FALSE(a[2].take_startup_events());
  a.xapic_send(0, IcrReg().with_delivery_mode(DeliveryMode::init).with_level_assert(true).with_xapic_destination(2));
  a.xapic_send(0, IcrReg().with_delivery_mode(DeliveryMode::startup).with_vector(0x10).with_xapic_destination(2));
  const auto e = a[2].take_startup_events();
  CHECK(e.init);
  CHECK(e.sipi_vector == 0x10);
  CHECK_FALSE(a[1].take_startup_events());
}

TEST_CASE("ipi: find_by_id follows the current mode's ID") {
  FourApics a;
  CHECK(a.bus.find_by_id(2) == &a[2]);
  a[2].mmio_write(reg::kId, 0x40u << 24);
  CHECK(a.bus.find_by_id(0x40) == &a[2]);
  CHECK(a.bus.find_by_id(2) == nullptr);
}
