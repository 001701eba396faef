// I/O APIC register map and register layouts (Intel 82093AA I/O Advanced
// Programmable Interrupt Controller datasheet, 3.0 "Register Description":
// 3.1 memory-mapped registers IOREGSEL/IOWIN, 3.2 IOAPICID, IOAPICVER,
// IOAPICARB and IOREDTBL[0:23]). Definitions only: offsets, register
// indices and value types with constexpr accessors and with_* builders.
// Behaviour lives in IoApic (devices/apic/io_apic.h).
// Not covered: the EOI register of later I/O APICs (version 0x20 and up;
// this is a version 0x11 part, whose remote IRR clears on the local APICs'
// EOI broadcast), the PCI IRQ assertion register (IRQPA) of the PIIX3
// integration.
#pragma once

#include <cstdint>

#include "devices/apic/apic_registers.h"
#include "synic/defs/register_values.h"

namespace softsynic::devices::ioapic {

// ---- memory-mapped registers (3.1), 32-bit accesses ----
inline constexpr std::uint64_t kDefaultBase = 0xFEC0'0000;
inline constexpr std::uint32_t kRegSelOffset = 0x00;  // IOREGSEL: bits 0-7 select the register
inline constexpr std::uint32_t kWindowOffset = 0x10;  // IOWIN: the selected register
inline constexpr std::uint32_t kMmioSize = 0x1000;    // the page the platform maps

// ---- indirect registers (3.2), selected through IOREGSEL ----
namespace reg {
inline constexpr std::uint8_t kId = 0x00;            // IOAPICID
inline constexpr std::uint8_t kVersion = 0x01;       // IOAPICVER (read-only)
inline constexpr std::uint8_t kArbitration = 0x02;   // IOAPICARB (read-only)
inline constexpr std::uint8_t kRedirectionFirst = 0x10;  // IOREDTBL[n]: low at 0x10 + 2n, high at 0x11 + 2n
}  // namespace reg

inline constexpr unsigned kPinCount = 24;
inline constexpr std::uint8_t kVersionValue = 0x11;

// IOAPICID (and IOAPICARB): the 4-bit ID in bits 24-27; the rest is reserved.
class IdReg {
 public:
  static constexpr std::uint32_t kWritable = 0x0F00'0000;
  constexpr IdReg() = default;
  constexpr explicit IdReg(std::uint32_t raw) : raw_(raw & kWritable) {}
  constexpr std::uint32_t raw() const { return raw_; }
  constexpr std::uint8_t id() const { return static_cast<std::uint8_t>(bits::get(raw_, 24, 4)); }
  constexpr IdReg with_id(std::uint8_t id) const { return IdReg(static_cast<std::uint32_t>(bits::set(raw_, 24, 4, id))); }
  friend constexpr bool operator==(IdReg, IdReg) = default;

 private:
  std::uint32_t raw_ = 0;
};

// IOAPICVER: version in bits 0-7, the highest redirection entry index in
// bits 16-23 (entries - 1).
class VersionReg {
 public:
  constexpr VersionReg() = default;
  constexpr explicit VersionReg(std::uint32_t raw) : raw_(raw) {}
  constexpr std::uint32_t raw() const { return raw_; }
  constexpr std::uint8_t version() const { return static_cast<std::uint8_t>(bits::get(raw_, 0, 8)); }
  constexpr std::uint8_t max_redirection_entry() const { return static_cast<std::uint8_t>(bits::get(raw_, 16, 8)); }
  constexpr VersionReg with_version(std::uint8_t v) const { return VersionReg(static_cast<std::uint32_t>(bits::set(raw_, 0, 8, v))); }
  constexpr VersionReg with_max_redirection_entry(std::uint8_t n) const {
    return VersionReg(static_cast<std::uint32_t>(bits::set(raw_, 16, 8, n)));
  }
  friend constexpr bool operator==(VersionReg, VersionReg) = default;

 private:
  std::uint32_t raw_ = 0;
};

// IOAPICARB: the bus arbitration ID, in the same bits 24-27 as IOAPICID.
// It loads from IOAPICID when the ID is written (the APIC bus is gone on
// integrated APICs; the register only reads back).
using ArbitrationReg = IdReg;

enum class Polarity : std::uint8_t { active_high = 0, active_low = 1 };
enum class TriggerMode : std::uint8_t { edge = 0, level = 1 };

// IOREDTBL[n], 64 bits: vector 0-7, delivery mode 8-10 (apic::DeliveryMode:
// fixed, lowest priority, SMI, NMI, INIT, ExtINT), destination mode 11
// (1 = logical), delivery status 12 (read-only), pin polarity 13 (1 =
// active low), remote IRR 14 (read-only), trigger mode 15 (1 = level),
// mask 16, destination 56-63 (an APIC ID, or a set of logical APICs).
class RedirectionEntry {
 public:
  static constexpr std::uint64_t kReset = 0x10000;  // masked, everything else 0
  // Bits software writes: all but delivery status, remote IRR and the
  // reserved bits 17-55.
  static constexpr std::uint64_t kWritable = 0xFF00'0000'0001'AFFF;
  constexpr RedirectionEntry() = default;
  constexpr explicit RedirectionEntry(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr std::uint32_t low() const { return static_cast<std::uint32_t>(raw_); }
  constexpr std::uint32_t high() const { return static_cast<std::uint32_t>(raw_ >> 32); }
  constexpr std::uint8_t vector() const { return static_cast<std::uint8_t>(bits::get(raw_, 0, 8)); }
  constexpr apic::DeliveryMode delivery_mode() const { return static_cast<apic::DeliveryMode>(bits::get(raw_, 8, 3)); }
  constexpr bool logical() const { return bits::get(raw_, 11, 1); }
  constexpr bool delivery_pending() const { return bits::get(raw_, 12, 1); }
  constexpr Polarity polarity() const { return static_cast<Polarity>(bits::get(raw_, 13, 1)); }
  constexpr bool remote_irr() const { return bits::get(raw_, 14, 1); }
  constexpr TriggerMode trigger_mode() const { return static_cast<TriggerMode>(bits::get(raw_, 15, 1)); }
  constexpr bool masked() const { return bits::get(raw_, 16, 1); }
  constexpr std::uint8_t destination() const { return static_cast<std::uint8_t>(bits::get(raw_, 56, 8)); }
  constexpr RedirectionEntry with_vector(std::uint8_t v) const { return RedirectionEntry(bits::set(raw_, 0, 8, v)); }
  constexpr RedirectionEntry with_delivery_mode(apic::DeliveryMode m) const {
    return RedirectionEntry(bits::set(raw_, 8, 3, static_cast<std::uint64_t>(m)));
  }
  constexpr RedirectionEntry with_logical(bool b) const { return RedirectionEntry(bits::set(raw_, 11, 1, b)); }
  constexpr RedirectionEntry with_polarity(Polarity p) const {
    return RedirectionEntry(bits::set(raw_, 13, 1, static_cast<std::uint64_t>(p)));
  }
  constexpr RedirectionEntry with_remote_irr(bool b) const { return RedirectionEntry(bits::set(raw_, 14, 1, b)); }
  constexpr RedirectionEntry with_trigger_mode(TriggerMode t) const {
    return RedirectionEntry(bits::set(raw_, 15, 1, static_cast<std::uint64_t>(t)));
  }
  constexpr RedirectionEntry with_masked(bool b) const { return RedirectionEntry(bits::set(raw_, 16, 1, b)); }
  constexpr RedirectionEntry with_destination(std::uint8_t d) const { return RedirectionEntry(bits::set(raw_, 56, 8, d)); }
  constexpr RedirectionEntry with_low(std::uint32_t v) const { return RedirectionEntry(bits::set(raw_, 0, 32, v)); }
  constexpr RedirectionEntry with_high(std::uint32_t v) const { return RedirectionEntry(bits::set(raw_, 32, 32, v)); }
  // The interrupt message this entry sends, as an ICR value (the low 16
  // bits share the ICR's layout; level assert set, xAPIC destination).
  constexpr apic::IcrReg message() const {
    return apic::IcrReg()
        .with_vector(vector())
        .with_delivery_mode(delivery_mode())
        .with_logical(logical())
        .with_level_assert(true)
        .with_level_triggered(trigger_mode() == TriggerMode::level)
        .with_xapic_destination(destination());
  }
  friend constexpr bool operator==(RedirectionEntry, RedirectionEntry) = default;

 private:
  std::uint64_t raw_ = kReset;
};

}  // namespace softsynic::devices::ioapic
