// Local APIC register map and register layouts (Intel SDM vol. 3 "Advanced
// Programmable Interrupt Controller (APIC)" and "Extended xAPIC (x2APIC)";
// TLFS "Synthetic APIC MSRs"). Definitions only: offsets, MSR numbers and
// value types with constexpr accessors and with_* builders. Behaviour lives
// in LocalApic.
// Not modelled: the APIC timer's counting, thermal/perfmon/CMCI sources,
// SMI and NMI delivery, remote read (RRD), arbitration priority (APR reads 0).
#pragma once

#include <cstdint>

#include "synic/defs/register_values.h"

namespace softsynic::devices::apic {

// ---- xAPIC MMIO offsets within the 4 KiB APIC page ----
namespace reg {
inline constexpr std::uint32_t kId = 0x020;
inline constexpr std::uint32_t kVersion = 0x030;
inline constexpr std::uint32_t kTpr = 0x080;
inline constexpr std::uint32_t kApr = 0x090;
inline constexpr std::uint32_t kPpr = 0x0A0;
inline constexpr std::uint32_t kEoi = 0x0B0;
inline constexpr std::uint32_t kRrd = 0x0C0;
inline constexpr std::uint32_t kLdr = 0x0D0;
inline constexpr std::uint32_t kDfr = 0x0E0;
inline constexpr std::uint32_t kSvr = 0x0F0;
inline constexpr std::uint32_t kIsr0 = 0x100;  // ISR0..7 at 0x100 + 0x10*i
inline constexpr std::uint32_t kTmr0 = 0x180;
inline constexpr std::uint32_t kIrr0 = 0x200;
inline constexpr std::uint32_t kEsr = 0x280;
inline constexpr std::uint32_t kLvtCmci = 0x2F0;
inline constexpr std::uint32_t kIcrLow = 0x300;
inline constexpr std::uint32_t kIcrHigh = 0x310;
inline constexpr std::uint32_t kLvtTimer = 0x320;
inline constexpr std::uint32_t kLvtThermal = 0x330;
inline constexpr std::uint32_t kLvtPerf = 0x340;
inline constexpr std::uint32_t kLvtLint0 = 0x350;
inline constexpr std::uint32_t kLvtLint1 = 0x360;
inline constexpr std::uint32_t kLvtError = 0x370;
inline constexpr std::uint32_t kTimerInitialCount = 0x380;
inline constexpr std::uint32_t kTimerCurrentCount = 0x390;
inline constexpr std::uint32_t kTimerDivide = 0x3E0;
inline constexpr std::uint32_t kSelfIpi = 0x3F0;  // x2APIC only (MSR 0x83F)
inline constexpr std::uint32_t kPageSize = 0x1000;
}  // namespace reg

// ---- MSRs ----
namespace msr {
inline constexpr std::uint32_t kApicBase = 0x1B;     // IA32_APIC_BASE
inline constexpr std::uint32_t kX2apicFirst = 0x800;  // 0x800 + (offset >> 4)
inline constexpr std::uint32_t kX2apicLast = 0x8FF;
inline constexpr std::uint32_t kHvEoi = 0x40000070;  // HV_X64_MSR_EOI
inline constexpr std::uint32_t kHvIcr = 0x40000071;  // HV_X64_MSR_ICR
inline constexpr std::uint32_t kHvTpr = 0x40000072;  // HV_X64_MSR_TPR
constexpr std::uint32_t x2apic_msr(std::uint32_t mmio_offset) { return kX2apicFirst + (mmio_offset >> 4); }
constexpr std::uint32_t mmio_offset(std::uint32_t x2apic_msr) { return (x2apic_msr - kX2apicFirst) << 4; }
}  // namespace msr

inline constexpr std::uint64_t kDefaultBase = 0xFEE00000;
inline constexpr std::uint32_t kVersionValue = 0x14;  // integrated APIC
inline constexpr unsigned kLvtCount = 7;              // CMCI, timer, thermal, perf, LINT0, LINT1, error
inline constexpr std::uint8_t kFirstValidVector = 16;

// ESR bits (write-then-read latched).
namespace esr {
inline constexpr std::uint32_t kSendIllegalVector = 1u << 5;
inline constexpr std::uint32_t kReceiveIllegalVector = 1u << 6;
inline constexpr std::uint32_t kIllegalRegister = 1u << 7;
}  // namespace esr

// IA32_APIC_BASE: bit 8 BSP (read-only), bit 10 x2APIC enable (EXTD), bit 11
// global enable (EN), bits 12.. base physical address.
class ApicBaseReg {
 public:
  constexpr ApicBaseReg() = default;
  constexpr explicit ApicBaseReg(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool bsp() const { return bits::get(raw_, 8, 1); }
  constexpr bool x2apic() const { return bits::get(raw_, 10, 1); }
  constexpr bool enabled() const { return bits::get(raw_, 11, 1); }
  constexpr std::uint64_t base() const { return raw_ & ~std::uint64_t{0xFFF}; }
  constexpr ApicBaseReg with_bsp(bool b) const { return ApicBaseReg(bits::set(raw_, 8, 1, b)); }
  constexpr ApicBaseReg with_x2apic(bool b) const { return ApicBaseReg(bits::set(raw_, 10, 1, b)); }
  constexpr ApicBaseReg with_enabled(bool b) const { return ApicBaseReg(bits::set(raw_, 11, 1, b)); }
  constexpr ApicBaseReg with_base(std::uint64_t b) const { return ApicBaseReg((raw_ & 0xFFF) | (b & ~std::uint64_t{0xFFF})); }
  // Reserved: bits 0-7, 9 and those at or above the physical address width.
  static constexpr std::uint64_t reserved_mask(unsigned phys_addr_bits) {
    return 0x2FF | ~bits::mask(phys_addr_bits);
  }
  friend constexpr bool operator==(ApicBaseReg, ApicBaseReg) = default;

 private:
  std::uint64_t raw_ = 0;
};

// Spurious-interrupt vector register: vector 0-7, software enable 8, focus
// checking disabled 9 (accepted, no effect), EOI-broadcast suppression 12.
class SvrReg {
 public:
  static constexpr std::uint32_t kReset = 0xFF;
  static constexpr std::uint32_t kDefinedBits = 0x13FF;
  constexpr SvrReg() = default;
  constexpr explicit SvrReg(std::uint32_t raw) : raw_(raw) {}
  constexpr std::uint32_t raw() const { return raw_; }
  constexpr std::uint8_t vector() const { return static_cast<std::uint8_t>(raw_ & 0xFF); }
  constexpr bool software_enabled() const { return bits::get(raw_, 8, 1); }
  constexpr SvrReg with_vector(std::uint8_t v) const { return SvrReg(static_cast<std::uint32_t>(bits::set(raw_, 0, 8, v))); }
  constexpr SvrReg with_software_enabled(bool b) const { return SvrReg(static_cast<std::uint32_t>(bits::set(raw_, 8, 1, b))); }
  friend constexpr bool operator==(SvrReg, SvrReg) = default;

 private:
  std::uint32_t raw_ = kReset;
};

// LVT entry: vector 0-7, delivery mode 8-10, delivery status 12 (RO),
// polarity 13, remote IRR 14 (RO), trigger 15, mask 16, timer mode 17-18.
// Which bits exist depends on the entry (LocalApic applies the per-entry mask).
class LvtReg {
 public:
  static constexpr std::uint32_t kReset = 0x10000;  // masked
  constexpr LvtReg() = default;
  constexpr explicit LvtReg(std::uint32_t raw) : raw_(raw) {}
  constexpr std::uint32_t raw() const { return raw_; }
  constexpr std::uint8_t vector() const { return static_cast<std::uint8_t>(raw_ & 0xFF); }
  constexpr std::uint8_t delivery_mode() const { return static_cast<std::uint8_t>(bits::get(raw_, 8, 3)); }
  constexpr bool masked() const { return bits::get(raw_, 16, 1); }
  constexpr LvtReg with_vector(std::uint8_t v) const { return LvtReg(static_cast<std::uint32_t>(bits::set(raw_, 0, 8, v))); }
  constexpr LvtReg with_masked(bool b) const { return LvtReg(static_cast<std::uint32_t>(bits::set(raw_, 16, 1, b))); }
  friend constexpr bool operator==(LvtReg, LvtReg) = default;

 private:
  std::uint32_t raw_ = kReset;
};

enum class LvtIndex : unsigned { cmci = 0, timer, thermal, perf, lint0, lint1, error };

// Delivery modes (ICR and LVT). Open: guest-supplied, unknown ones are ignored.
enum class DeliveryMode : std::uint8_t {
  fixed = 0,
  lowest_priority = 1,
  smi = 2,
  nmi = 4,
  init = 5,
  startup = 6,
  ext_int = 7,
};

enum class DestinationShorthand : std::uint8_t { none = 0, self = 1, all_including_self = 2, all_excluding_self = 3 };

// Interrupt command register as one 64-bit value (the x2APIC layout): vector
// 0-7, delivery mode 8-10, destination mode 11 (1 = logical), delivery status
// 12 (RO, always 0 here), level 14, trigger 15, shorthand 18-19, destination
// 32-63. In xAPIC mode the destination is ICR high bits 24-31, i.e. bits
// 56-63 of this value.
class IcrReg {
 public:
  // x2APIC: bit 13, 16-17 and 20-31 are reserved (#GP when set).
  static constexpr std::uint64_t kX2apicReserved = 0xFFF3'2000;
  static constexpr std::uint32_t kLowWritable = 0x000C'CFFF;
  constexpr IcrReg() = default;
  constexpr explicit IcrReg(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr std::uint32_t low() const { return static_cast<std::uint32_t>(raw_); }
  constexpr std::uint32_t high() const { return static_cast<std::uint32_t>(raw_ >> 32); }
  constexpr std::uint8_t vector() const { return static_cast<std::uint8_t>(raw_ & 0xFF); }
  constexpr DeliveryMode delivery_mode() const { return static_cast<DeliveryMode>(bits::get(raw_, 8, 3)); }
  constexpr bool logical() const { return bits::get(raw_, 11, 1); }
  constexpr bool level_assert() const { return bits::get(raw_, 14, 1); }
  constexpr bool level_triggered() const { return bits::get(raw_, 15, 1); }
  constexpr DestinationShorthand shorthand() const { return static_cast<DestinationShorthand>(bits::get(raw_, 18, 2)); }
  constexpr std::uint32_t x2apic_destination() const { return high(); }
  constexpr std::uint32_t xapic_destination() const { return high() >> 24; }
  constexpr IcrReg with_vector(std::uint8_t v) const { return IcrReg(bits::set(raw_, 0, 8, v)); }
  constexpr IcrReg with_delivery_mode(DeliveryMode m) const { return IcrReg(bits::set(raw_, 8, 3, static_cast<std::uint64_t>(m))); }
  constexpr IcrReg with_logical(bool b) const { return IcrReg(bits::set(raw_, 11, 1, b)); }
  constexpr IcrReg with_level_assert(bool b) const { return IcrReg(bits::set(raw_, 14, 1, b)); }
  constexpr IcrReg with_level_triggered(bool b) const { return IcrReg(bits::set(raw_, 15, 1, b)); }
  constexpr IcrReg with_shorthand(DestinationShorthand s) const { return IcrReg(bits::set(raw_, 18, 2, static_cast<std::uint64_t>(s))); }
  constexpr IcrReg with_x2apic_destination(std::uint32_t d) const { return IcrReg(bits::set(raw_, 32, 32, d)); }
  constexpr IcrReg with_xapic_destination(std::uint8_t d) const { return IcrReg(bits::set(raw_, 56, 8, d)); }
  friend constexpr bool operator==(IcrReg, IcrReg) = default;

 private:
  std::uint64_t raw_ = 0;
};

}  // namespace softsynic::devices::apic
