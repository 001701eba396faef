// Arm generic timer definitions: the EL0-accessible counter and virtual
// timer system registers (Arm ARM, "The Generic Timer in AArch64 state",
// CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTV_TVAL_EL0, CNTVCT_EL0, CNTFRQ_EL0) and
// the virtual timer's PPI. Definitions only; behaviour in GenericTimer
// (generic_timer.h).
// Not covered: the physical and EL2 timers, CNTKCTL_EL1, CNTVOFF_EL2, the
// self-synchronised counter views (CNTVCTSS_EL0).
#pragma once

#include <cstdint>

#include "devices/arm64/gic_registers.h"

namespace softsynic::devices::timer {

using gic::SysRegEncoding;

namespace reg {
inline constexpr SysRegEncoding kCntfrq{3, 3, 14, 0, 0};    // CNTFRQ_EL0
inline constexpr SysRegEncoding kCntvct{3, 3, 14, 0, 2};    // CNTVCT_EL0
inline constexpr SysRegEncoding kCntvTval{3, 3, 14, 3, 0};  // CNTV_TVAL_EL0
inline constexpr SysRegEncoding kCntvCtl{3, 3, 14, 3, 1};   // CNTV_CTL_EL0
inline constexpr SysRegEncoding kCntvCval{3, 3, 14, 3, 2};  // CNTV_CVAL_EL0
}  // namespace reg

// The EL1 virtual timer's interrupt (Linux's GTDT and DT use 27).
inline constexpr std::uint32_t kVirtualTimerPpi = 27;

// CNTV_CTL_EL0: ENABLE bit 0, IMASK bit 1, ISTATUS bit 2 (read-only).
class CntvCtlReg {
 public:
  static constexpr std::uint64_t kEnable = 1u << 0;
  static constexpr std::uint64_t kImask = 1u << 1;
  static constexpr std::uint64_t kIstatus = 1u << 2;
  static constexpr std::uint64_t kWritable = kEnable | kImask;
  constexpr CntvCtlReg() = default;
  constexpr explicit CntvCtlReg(std::uint64_t raw) : raw_(raw & (kWritable | kIstatus)) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool enable() const { return (raw_ & kEnable) != 0; }
  constexpr bool imask() const { return (raw_ & kImask) != 0; }
  constexpr bool istatus() const { return (raw_ & kIstatus) != 0; }
  constexpr CntvCtlReg with_enable(bool b) const { return CntvCtlReg(b ? raw_ | kEnable : raw_ & ~kEnable); }
  constexpr CntvCtlReg with_imask(bool b) const { return CntvCtlReg(b ? raw_ | kImask : raw_ & ~kImask); }
  constexpr CntvCtlReg with_istatus(bool b) const { return CntvCtlReg(b ? raw_ | kIstatus : raw_ & ~kIstatus); }
  friend constexpr bool operator==(CntvCtlReg, CntvCtlReg) = default;

 private:
  std::uint64_t raw_ = 0;
};

}  // namespace softsynic::devices::timer
