// GenericTimer behaviour (Arm ARM, "The Generic Timer in AArch64 state").
// See devices/arm64/generic_timer.h.
#include "devices/arm64/generic_timer.h"

namespace softsynic::devices {

using namespace timer;

namespace {
constexpr std::uint64_t kLow32 = 0xFFFF'FFFF;
}  // namespace

void GenericTimer::set_output(std::function<void(bool)> output) { output_ = std::move(output); }

bool GenericTimer::istatus(std::uint64_t now) const { return ctl_.enable() && count_at(now) >= cval_; }

void GenericTimer::update(std::uint64_t now) {
  const bool level = istatus(now) && !ctl_.imask();
  if (level == output_level_) return;
  output_level_ = level;
  if (output_) output_(level);
}

std::optional<std::uint64_t> GenericTimer::next_deadline() const {
  if (!ctl_.enable() || ctl_.imask()) return std::nullopt;
  return ticks_for(cval_);
}

SysRegResult GenericTimer::read_sysreg(gic::SysRegEncoding r, std::uint64_t now, std::uint64_t& value) const {
  if (r == reg::kCntfrq) value = kCounterHz;
  else if (r == reg::kCntvct) value = count_at(now);
  else if (r == reg::kCntvCtl) value = ctl_.with_istatus(istatus(now)).raw();
  else if (r == reg::kCntvCval) value = cval_;
  else if (r == reg::kCntvTval) value = (cval_ - count_at(now)) & kLow32;  // bits 63:32 RES0
  else return SysRegResult::not_mine;
  return SysRegResult::ok;
}

SysRegResult GenericTimer::write_sysreg(gic::SysRegEncoding r, std::uint64_t now, std::uint64_t value) {
  if (r == reg::kCntvCtl) {
    ctl_ = CntvCtlReg(value & CntvCtlReg::kWritable);
  } else if (r == reg::kCntvCval) {
    cval_ = value;
  } else if (r == reg::kCntvTval) {
    // TimerValue is signed 32 bits: CVAL = CNTVCT + SignExtend(value<31:0>).
    const auto delta = static_cast<std::int64_t>(static_cast<std::int32_t>(static_cast<std::uint32_t>(value & kLow32)));
    cval_ = count_at(now) + static_cast<std::uint64_t>(delta);
  } else if (r == reg::kCntfrq || r == reg::kCntvct) {
    return SysRegResult::undefined;  // CNTFRQ: only the highest EL writes it; CNTVCT is read-only
  } else {
    return SysRegResult::not_mine;
  }
  update(now);
  return SysRegResult::ok;
}

}  // namespace softsynic::devices
