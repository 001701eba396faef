// Register layouts as value types (TLFS "SynIC MSRs", "Synthetic Timer
// MSRs", "Hypercall MSR"). Each type wraps the raw 64-bit value and offers
// constexpr accessors and with_* builders; no C++ bitfields, so the layout is
// exactly what the guest wrote. Validation (reserved bits, vector rules) is
// behaviour and lives in synic/, not here.
// Not supported: the SINT "as-intercept" and "proxy" bits are named but have
// no behaviour in softsynic.
#pragma once

#include <cstdint>

namespace softsynic {

namespace bits {
constexpr std::uint64_t mask(unsigned width) {
  return width >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << width) - 1);
}
constexpr std::uint64_t get(std::uint64_t v, unsigned lo, unsigned width) {
  return (v >> lo) & mask(width);
}
constexpr std::uint64_t set(std::uint64_t v, unsigned lo, unsigned width, std::uint64_t f) {
  return (v & ~(mask(width) << lo)) | ((f & mask(width)) << lo);
}
}  // namespace bits

// SINTn: vector 0-7, masked 16, auto-EOI 17, polling 18, as-intercept 19,
// proxy 20. On ARM64 the vector is a GIC PPI INTID.
class SintReg {
 public:
  static constexpr std::uint64_t kReset = 0x10000;  // masked
  static constexpr std::uint8_t kArm64FirstPpi = 16;
  static constexpr std::uint8_t kArm64LastPpi = 31;
  static constexpr std::uint64_t kDefinedBits = 0x1F00FF;
  constexpr SintReg() = default;
  constexpr explicit SintReg(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr std::uint8_t vector() const { return static_cast<std::uint8_t>(bits::get(raw_, 0, 8)); }
  constexpr bool masked() const { return bits::get(raw_, 16, 1); }
  constexpr bool auto_eoi() const { return bits::get(raw_, 17, 1); }
  constexpr bool polling() const { return bits::get(raw_, 18, 1); }
  constexpr bool as_intercept() const { return bits::get(raw_, 19, 1); }
  constexpr bool proxy() const { return bits::get(raw_, 20, 1); }
  constexpr SintReg with_vector(std::uint8_t v) const { return SintReg(bits::set(raw_, 0, 8, v)); }
  constexpr SintReg with_masked(bool b) const { return SintReg(bits::set(raw_, 16, 1, b)); }
  constexpr SintReg with_auto_eoi(bool b) const { return SintReg(bits::set(raw_, 17, 1, b)); }
  constexpr SintReg with_polling(bool b) const { return SintReg(bits::set(raw_, 18, 1, b)); }
  constexpr SintReg with_as_intercept(bool b) const { return SintReg(bits::set(raw_, 19, 1, b)); }
  constexpr SintReg with_proxy(bool b) const { return SintReg(bits::set(raw_, 20, 1, b)); }
  friend constexpr bool operator==(SintReg, SintReg) = default;

 private:
  std::uint64_t raw_ = kReset;
};

// SCONTROL: bit 0 enable.
class ScontrolReg {
 public:
  static constexpr std::uint64_t kDefinedBits = 0x1;
  constexpr ScontrolReg() = default;
  constexpr explicit ScontrolReg(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool enabled() const { return bits::get(raw_, 0, 1); }
  constexpr ScontrolReg with_enabled(bool b) const { return ScontrolReg(bits::set(raw_, 0, 1, b)); }
  friend constexpr bool operator==(ScontrolReg, ScontrolReg) = default;

 private:
  std::uint64_t raw_ = 0;
};

// SIMP, SIEFP, the hypercall page and other "enable + GPN" registers:
// bit 0 enable, bits 12-63 guest page number.
class PageReg {
 public:
  static constexpr std::uint64_t kDefinedBits = 0xFFFF'FFFF'FFFF'F001;
  constexpr PageReg() = default;
  constexpr explicit PageReg(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool enabled() const { return bits::get(raw_, 0, 1); }
  constexpr std::uint64_t gpn() const { return bits::get(raw_, 12, 52); }
  constexpr std::uint64_t gpa() const { return gpn() << 12; }
  constexpr PageReg with_enabled(bool b) const { return PageReg(bits::set(raw_, 0, 1, b)); }
  constexpr PageReg with_gpn(std::uint64_t gpn) const { return PageReg(bits::set(raw_, 12, 52, gpn)); }
  friend constexpr bool operator==(PageReg, PageReg) = default;

 private:
  std::uint64_t raw_ = 0;
};

// CRASH_CTL (TLFS "Partition Crash Enlightenment"): bit 63 notify (the
// host logs P0-P4), bit 62 message (P3 is the message's GPA, P4 its length
// in bytes), bit 61 no crash dump, bits 58-60 the pre-OS environment's id.
class CrashCtlReg {
 public:
  static constexpr std::uint64_t kDefinedBits = 0xFC00'0000'0000'0000;
  constexpr CrashCtlReg() = default;
  constexpr explicit CrashCtlReg(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool notify() const { return bits::get(raw_, 63, 1); }
  constexpr bool message() const { return bits::get(raw_, 62, 1); }
  constexpr bool no_crash_dump() const { return bits::get(raw_, 61, 1); }
  constexpr std::uint64_t pre_os_id() const { return bits::get(raw_, 58, 3); }
  constexpr CrashCtlReg with_notify(bool b) const { return CrashCtlReg(bits::set(raw_, 63, 1, b)); }
  constexpr CrashCtlReg with_message(bool b) const { return CrashCtlReg(bits::set(raw_, 62, 1, b)); }
  friend constexpr bool operator==(CrashCtlReg, CrashCtlReg) = default;

 private:
  std::uint64_t raw_ = 0;
};

// HYPERCALL MSR: bit 0 enable, bit 1 locked, bits 2-11 reserved, 12-63 GPN.
class HypercallReg {
 public:
  static constexpr std::uint64_t kDefinedBits = 0xFFFF'FFFF'FFFF'F003;
  constexpr HypercallReg() = default;
  constexpr explicit HypercallReg(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool enabled() const { return bits::get(raw_, 0, 1); }
  constexpr bool locked() const { return bits::get(raw_, 1, 1); }
  constexpr std::uint64_t gpn() const { return bits::get(raw_, 12, 52); }
  constexpr std::uint64_t gpa() const { return gpn() << 12; }
  constexpr HypercallReg with_enabled(bool b) const { return HypercallReg(bits::set(raw_, 0, 1, b)); }
  constexpr HypercallReg with_locked(bool b) const { return HypercallReg(bits::set(raw_, 1, 1, b)); }
  constexpr HypercallReg with_gpn(std::uint64_t gpn) const { return HypercallReg(bits::set(raw_, 12, 52, gpn)); }
  friend constexpr bool operator==(HypercallReg, HypercallReg) = default;

 private:
  std::uint64_t raw_ = 0;
};

// STIMERn_CONFIG: enable 0, periodic 1, lazy 2, auto-enable 3, APIC vector
// 4-11 (direct mode), direct mode 12 (x86-64), SINT 16-19.
class StimerConfigReg {
 public:
  static constexpr std::uint64_t kDefinedBits = 0xF1FFF;
  constexpr StimerConfigReg() = default;
  constexpr explicit StimerConfigReg(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool enabled() const { return bits::get(raw_, 0, 1); }
  constexpr bool periodic() const { return bits::get(raw_, 1, 1); }
  constexpr bool lazy() const { return bits::get(raw_, 2, 1); }
  constexpr bool auto_enable() const { return bits::get(raw_, 3, 1); }
  constexpr std::uint8_t apic_vector() const { return static_cast<std::uint8_t>(bits::get(raw_, 4, 8)); }
  constexpr bool direct_mode() const { return bits::get(raw_, 12, 1); }
  constexpr std::uint8_t sint() const { return static_cast<std::uint8_t>(bits::get(raw_, 16, 4)); }
  constexpr StimerConfigReg with_enabled(bool b) const { return StimerConfigReg(bits::set(raw_, 0, 1, b)); }
  constexpr StimerConfigReg with_periodic(bool b) const { return StimerConfigReg(bits::set(raw_, 1, 1, b)); }
  constexpr StimerConfigReg with_lazy(bool b) const { return StimerConfigReg(bits::set(raw_, 2, 1, b)); }
  constexpr StimerConfigReg with_auto_enable(bool b) const { return StimerConfigReg(bits::set(raw_, 3, 1, b)); }
  constexpr StimerConfigReg with_apic_vector(std::uint8_t v) const { return StimerConfigReg(bits::set(raw_, 4, 8, v)); }
  constexpr StimerConfigReg with_direct_mode(bool b) const { return StimerConfigReg(bits::set(raw_, 12, 1, b)); }
  constexpr StimerConfigReg with_sint(std::uint8_t s) const { return StimerConfigReg(bits::set(raw_, 16, 4, s)); }
  friend constexpr bool operator==(StimerConfigReg, StimerConfigReg) = default;

 private:
  std::uint64_t raw_ = 0;
};

inline constexpr std::uint64_t kSversionValue = 1;

}  // namespace softsynic
