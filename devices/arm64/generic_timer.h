// GenericTimer: one VP's Arm generic timer, the virtual timer only (Arm
// ARM, "The Generic Timer in AArch64 state", "Operation of the
// CompareValue views of the timers"). Time is injected: every method takes
// the reference time (100 ns units, as the SynIC's reference counter), and
// the counter is derived from it, so a run under a virtual clock counts the
// same every time.
//
// Modelled: CNTFRQ_EL0 (reads kCounterHz; writes UNDEFINED, they belong to
// the highest EL), CNTVCT_EL0 (the reference time at kCounterHz; read-
// only), CNTV_CTL_EL0 (ENABLE, IMASK; ISTATUS = ENABLE && CNTVCT >= CVAL,
// read-only), CNTV_CVAL_EL0, CNTV_TVAL_EL0 (signed 32 bits: reads CVAL -
// CNTVCT, writes set CVAL = CNTVCT + value), and the output: PPI 27's
// level, asserted while ISTATUS && !IMASK.
// The frequency: 62.5 MHz, what Unicorn's own CNTFRQ_EL0 reads, so a guest
// read the engine does not trap agrees with this counter; it is exactly 25
// counts per 4 reference ticks (400 ns), so counts and deadlines convert
// without drift (counts round down, deadlines round up).
// Not supported: the physical and EL2 timers, CNTKCTL_EL1 (EL0 access is
// always allowed), CNTVOFF_EL2 (0), event stream, the counter's behaviour
// when the reference time goes backwards (it follows it).
//
// Threading: strand-affine (the VP's own thread) except set_output
// (set-up); the output callback runs on the calling thread and must be
// thread-safe itself (InterruptLine::set_level is).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "devices/arm64/generic_timer_defs.h"
#include "devices/arm64/sysreg_result.h"

namespace softsynic::devices {

class GenericTimer {
 public:
  static constexpr std::uint64_t kCounterHz = 62'500'000;
  static constexpr std::uint64_t kReferenceHz = 10'000'000;  // 100 ns ticks
  // Counts per ticks, in lowest terms: 62.5 MHz / 10 MHz = 25 / 4.
  static constexpr std::uint64_t kCountsPerStep = 25;
  static constexpr std::uint64_t kTicksPerStep = 4;

  // CNTVCT at reference time `ticks` (rounded down).
  static constexpr std::uint64_t count_at(std::uint64_t ticks) {
    return ticks / kTicksPerStep * kCountsPerStep + ticks % kTicksPerStep * kCountsPerStep / kTicksPerStep;
  }
  // The first reference time at which CNTVCT >= count.
  static constexpr std::uint64_t ticks_for(std::uint64_t count) {
    return count / kCountsPerStep * kTicksPerStep +
           (count % kCountsPerStep * kTicksPerStep + kCountsPerStep - 1) / kCountsPerStep;
  }

  // Set-up: hears every change of the output level (PPI 27).
  void set_output(std::function<void(bool asserted)> output);

  // Trapped MRS/MSR by encoding at reference time `now`. Writes re-evaluate
  // the output.
  SysRegResult read_sysreg(gic::SysRegEncoding reg, std::uint64_t now, std::uint64_t& value) const;
  SysRegResult write_sysreg(gic::SysRegEncoding reg, std::uint64_t now, std::uint64_t value);

  // Re-evaluates the output at `now` (the engine calls it when a deadline
  // passes and before it weighs interrupts); calls the output on a change.
  void update(std::uint64_t now);
  // When the output will assert: the reference time at which CNTVCT
  // reaches CVAL (at or before `now` when it already has), or nothing while
  // the timer is disabled or masked (only a register write changes that).
  std::optional<std::uint64_t> next_deadline() const;

  std::uint64_t counter(std::uint64_t now) const { return count_at(now); }
  bool istatus(std::uint64_t now) const;
  bool output_level() const { return output_level_; }
  timer::CntvCtlReg control() const { return ctl_; }
  std::uint64_t compare_value() const { return cval_; }

 private:
  std::function<void(bool)> output_;
  timer::CntvCtlReg ctl_;
  std::uint64_t cval_ = 0;
  bool output_level_ = false;
};

}  // namespace softsynic::devices
