// The I/O APIC (Intel 82093AA datasheet): its registers through
// IOREGSEL/IOWIN, edge and level delivery to the local APICs of an ApicBus,
// remote IRR and the local APICs' EOI broadcast, masks, polarity, physical
// and logical destinations, and the register value types.
#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <optional>

#include "devices/apic/apic_bus.h"
#include "devices/apic/io_apic.h"
#include "tests/devices/apic_rig.h"

using namespace softsynic::devices;
using namespace softsynic::devices::ioapic;
using softsynic::devices::test::EnabledApic;

namespace {

// An I/O APIC on a bus with two enabled local APICs (IDs 0 and 1).
struct IoApicRig {
  IoApicRig() {
    for (std::uint32_t i = 0; i < 2; ++i) {
      apics[i] = std::make_unique<EnabledApic>(i);
      bus.attach(apics[i]->apic);
    }
  }
  LocalApic& apic(unsigned i) { return apics[i]->apic; }
  std::uint32_t read(std::uint8_t index) {
    io.mmio_write(kRegSelOffset, index);
    return io.mmio_read(kWindowOffset);
  }
  void write(std::uint8_t index, std::uint32_t value) {
    io.mmio_write(kRegSelOffset, index);
    io.mmio_write(kWindowOffset, value);
  }
  void program(unsigned pin, RedirectionEntry e) {
    write(static_cast<std::uint8_t>(reg::kRedirectionFirst + 2 * pin + 1), e.high());
    write(static_cast<std::uint8_t>(reg::kRedirectionFirst + 2 * pin), e.low());
  }
  // The CPU takes the interrupt and, later, writes EOI.
  std::optional<std::uint8_t> take(unsigned i) { return apic(i).accept(); }
  void eoi(unsigned i) { apic(i).mmio_write(softsynic::devices::apic::reg::kEoi, 0); }

  ApicBus bus;
  std::array<std::unique_ptr<EnabledApic>, 2> apics;
  IoApic io{bus, 2};
};

constexpr RedirectionEntry fixed_to(std::uint8_t vector, std::uint8_t apic_id) {
  return RedirectionEntry().with_masked(false).with_vector(vector).with_destination(apic_id);
}

}  // namespace

TEST_CASE("ioapic registers: ID, version 0x11 with 24 entries, arbitration follows the ID") {
  IoApicRig rig;
  CHECK(rig.read(reg::kId) == 0x0200'0000);
  CHECK(rig.read(reg::kVersion) == 0x0017'0011);
  CHECK(rig.read(reg::kArbitration) == 0x0200'0000);
  rig.write(reg::kId, 0xFFFF'FFFF);  // only bits 24-27 are writable
  CHECK(rig.read(reg::kId) == 0x0F00'0000);
  CHECK(rig.read(reg::kArbitration) == 0x0F00'0000);
  rig.write(reg::kVersion, 0);  // read-only
  CHECK(rig.read(reg::kVersion) == 0x0017'0011);
  CHECK(rig.io.mmio_read(kRegSelOffset) == reg::kVersion);
  CHECK(rig.read(0x03) == 0);  // reserved
  CHECK(rig.read(0x40) == 0);  // past entry 23
  CHECK(rig.io.mmio_read(0x20) == 0);
}

TEST_CASE("ioapic redirection entries: reset masked, read-only and reserved bits kept, both halves writable") {
  IoApicRig rig;
  for (unsigned pin = 0; pin < kPinCount; ++pin) {
    CHECK(rig.read(static_cast<std::uint8_t>(0x10 + 2 * pin)) == 0x0001'0000);
    CHECK(rig.read(static_cast<std::uint8_t>(0x11 + 2 * pin)) == 0);
  }
  rig.write(0x10 + 2 * 5, 0xFFFF'FFFF);
  rig.write(0x11 + 2 * 5, 0xFFFF'FFFF);
  // Delivery status (12), remote IRR (14) and bits 17-55 stay 0.
  CHECK(rig.read(0x10 + 2 * 5) == 0x0001'AFFF);
  CHECK(rig.read(0x11 + 2 * 5) == 0xFF00'0000);
  const RedirectionEntry e = rig.io.entry(5);
  CHECK(e.vector() == 0xFF);
  CHECK(e.delivery_mode() == softsynic::devices::apic::DeliveryMode::ext_int);
  CHECK(e.logical());
  CHECK(e.polarity() == Polarity::active_low);
  CHECK(e.trigger_mode() == TriggerMode::level);
  CHECK(e.masked());
  CHECK(e.destination() == 0xFF);
  CHECK_FALSE(e.delivery_pending());
  CHECK_FALSE(e.remote_irr());
}

TEST_CASE("ioapic value types: builders and accessors agree, and the message carries the entry") {
  constexpr RedirectionEntry e = RedirectionEntry()
                                     .with_vector(0x31)
                                     .with_delivery_mode(softsynic::devices::apic::DeliveryMode::lowest_priority)
                                     .with_logical(true)
                                     .with_polarity(Polarity::active_low)
                                     .with_trigger_mode(TriggerMode::level)
                                     .with_masked(false)
                                     .with_destination(0x0C);
  static_assert(e.raw() == 0x0C00'0000'0000'A931);
  static_assert(e.message().vector() == 0x31);
  static_assert(e.message().logical());
  static_assert(e.message().level_triggered());
  static_assert(e.message().level_assert());
  static_assert(e.message().xapic_destination() == 0x0C);
  static_assert(IdReg().with_id(9).raw() == 0x0900'0000);
  static_assert(VersionReg().with_version(0x11).with_max_redirection_entry(23).raw() == 0x0017'0011);
  static_assert(ArbitrationReg().with_id(3).id() == 3);
  CHECK(RedirectionEntry().masked());
}

TEST_CASE("ioapic edge-triggered: a rising edge on an unmasked pin sends its vector once; holding the line sends nothing more") {
  IoApicRig rig;
  rig.program(4, fixed_to(0x24, 1));
  rig.io.set_line(4, true);
  CHECK(rig.apic(1).irr().test(0x24));
  CHECK_FALSE(rig.apic(0).irr().test(0x24));
  CHECK(rig.take(1) == 0x24);
  rig.io.set_line(4, true);  // no change: no edge
  CHECK(rig.apic(1).irr().empty());
  rig.io.set_line(4, false);
  CHECK(rig.apic(1).irr().empty());
  rig.io.set_line(4, true);  // a second edge
  CHECK(rig.apic(1).irr().test(0x24));
  CHECK(rig.io.messages_sent() == 2);
  CHECK_FALSE(rig.io.entry(4).remote_irr());  // edge entries never set remote IRR
}

TEST_CASE("ioapic edge-triggered: an edge while masked is lost, and unmasking a held line sends nothing") {
  IoApicRig rig;
  rig.program(4, fixed_to(0x24, 0).with_masked(true));
  rig.io.set_line(4, true);
  rig.program(4, fixed_to(0x24, 0));
  CHECK(rig.apic(0).irr().empty());
  CHECK(rig.io.messages_sent() == 0);
}

TEST_CASE("ioapic level-triggered: delivers while asserted and remote IRR is clear; EOI of the vector clears remote IRR and re-sends while still asserted") {
  IoApicRig rig;
  rig.program(9, fixed_to(0x39, 0).with_trigger_mode(TriggerMode::level));
  rig.io.set_line(9, true);
  CHECK(rig.io.entry(9).remote_irr());
  CHECK(rig.take(0) == 0x39);
  CHECK(rig.apic(0).tmr().test(0x39));  // accepted as level-triggered
  rig.io.set_line(9, true);  // still asserted, remote IRR set: nothing new
  CHECK(rig.apic(0).irr().empty());
  rig.eoi(0);  // the local APIC broadcasts the EOI
  CHECK(rig.apic(0).irr().test(0x39));  // the line is still up: sent again
  CHECK(rig.io.entry(9).remote_irr());
  CHECK(rig.take(0) == 0x39);
  rig.io.set_line(9, false);  // the device is serviced
  rig.eoi(0);
  CHECK_FALSE(rig.io.entry(9).remote_irr());
  CHECK(rig.apic(0).irr().empty());
  CHECK(rig.io.messages_sent() == 2);
}

TEST_CASE("ioapic level-triggered: an EOI of another vector or of an edge vector leaves remote IRR set") {
  IoApicRig rig;
  rig.program(9, fixed_to(0x39, 0).with_trigger_mode(TriggerMode::level));
  rig.program(4, fixed_to(0x44, 0));
  rig.io.set_line(9, true);
  rig.io.set_line(4, true);
  CHECK(rig.take(0) == 0x44);  // the higher vector first
  rig.eoi(0);                 // edge: no broadcast
  CHECK(rig.io.entry(9).remote_irr());
  rig.io.end_of_interrupt(0x40);  // another vector
  CHECK(rig.io.entry(9).remote_irr());
  rig.io.end_of_interrupt(0x39);
  CHECK(rig.apic(0).irr().test(0x39));  // pending since; now sent again too (one IRR bit)
}

TEST_CASE("ioapic level-triggered: a masked asserted entry delivers when unmasked; rewriting it as edge clears a stuck remote IRR") {
  IoApicRig rig;
  rig.program(10, fixed_to(0x3A, 0).with_trigger_mode(TriggerMode::level).with_masked(true));
  rig.io.set_line(10, true);
  CHECK(rig.apic(0).irr().empty());
  rig.program(10, fixed_to(0x3A, 0).with_trigger_mode(TriggerMode::level));
  CHECK(rig.take(0) == 0x3A);
  CHECK(rig.io.entry(10).remote_irr());
  // Linux's way to clear remote IRR on a version 0x11 I/O APIC: mask, edge, back to level.
  rig.program(10, fixed_to(0x3A, 0).with_masked(true));
  CHECK_FALSE(rig.io.entry(10).remote_irr());
  rig.program(10, fixed_to(0x3A, 0).with_trigger_mode(TriggerMode::level));
  CHECK(rig.apic(0).irr().test(0x3A));  // still asserted: sent again
}

TEST_CASE("ioapic polarity: an active-low pin is asserted at electrical low") {
  IoApicRig rig;
  rig.io.set_line(7, true);  // idle high
  rig.program(7, fixed_to(0x37, 0).with_polarity(Polarity::active_low));
  CHECK(rig.apic(0).irr().empty());
  rig.io.set_line(7, false);  // falling level = rising assertion
  CHECK(rig.apic(0).irr().test(0x37));
  rig.take(0);
  rig.io.set_line(7, true);
  CHECK(rig.apic(0).irr().empty());
}

TEST_CASE("ioapic destinations: physical by APIC ID, logical flat by LDR bits, broadcast 0xFF") {
  IoApicRig rig;
  rig.apic(0).mmio_write(softsynic::devices::apic::reg::kLdr, 0x0100'0000);
  rig.apic(1).mmio_write(softsynic::devices::apic::reg::kLdr, 0x0200'0000);
  rig.program(1, fixed_to(0x41, 0x02).with_logical(true));  // logical: APIC 1's bit
  rig.io.set_line(1, true);
  CHECK(rig.apic(1).irr().test(0x41));
  CHECK_FALSE(rig.apic(0).irr().test(0x41));
  rig.program(2, fixed_to(0x42, 0xFF));  // physical broadcast
  rig.io.set_line(2, true);
  CHECK(rig.apic(0).irr().test(0x42));
  CHECK(rig.apic(1).irr().test(0x42));
  rig.program(3, fixed_to(0x43, 0x03).with_logical(true).with_delivery_mode(softsynic::devices::apic::DeliveryMode::lowest_priority));
  rig.io.set_line(3, true);  // lowest priority: one of the two
  CHECK(rig.apic(0).irr().test(0x43) != rig.apic(1).irr().test(0x43));
  rig.program(5, fixed_to(0x45, 0x07));  // nobody has ID 7
  rig.io.set_line(5, true);
  CHECK_FALSE(rig.apic(0).irr().test(0x45));
  CHECK_FALSE(rig.apic(1).irr().test(0x45));
}

TEST_CASE("ioapic level-triggered: a message nobody accepts leaves remote IRR clear") {
  IoApicRig rig;
  rig.program(6, fixed_to(0x46, 0x07).with_trigger_mode(TriggerMode::level));
  rig.io.set_line(6, true);
  CHECK(rig.io.messages_sent() == 1);
  CHECK_FALSE(rig.io.entry(6).remote_irr());
}

TEST_CASE("ioapic inputs: pins past 23 are ignored") {
  IoApicRig rig;
  rig.io.set_line(24, true);
  CHECK_FALSE(rig.io.line(24));
  CHECK(rig.io.messages_sent() == 0);
}
