// CrashMsrs: CRASH_P0..P4 and CRASH_CTL. See cpu_hooks/crash_msrs.h.
#include "cpu_hooks/crash_msrs.h"

#include <algorithm>
#include <vector>

#include "synic/defs/hypercall.h"
#include "synic/guest_memory.h"

namespace softsynic {

MsrResult CrashMsrs::read(std::uint32_t, Vtl, std::uint32_t msr, std::uint64_t& value) {
  if (!is_parameter(msr) && msr != msr::kCrashCtl) return MsrResult::not_mine;
  if (!config_.features.guest_crash_msrs) return MsrResult::gp;
  if (msr == msr::kCrashCtl) {
    value = kSupported.raw();
    return MsrResult::ok;
  }
  std::lock_guard lock(mutex_);
  value = parameters_[msr - msr::kCrashP0];
  return MsrResult::ok;
}

MsrResult CrashMsrs::write(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) {
  if (!is_parameter(msr) && msr != msr::kCrashCtl) return MsrResult::not_mine;
  if (!config_.features.guest_crash_msrs) return MsrResult::gp;
  if (is_parameter(msr)) {
    std::lock_guard lock(mutex_);
    parameters_[msr - msr::kCrashP0] = value;
    return MsrResult::ok;
  }
  const CrashCtlReg control(value);
  if ((value & ~CrashCtlReg::kDefinedBits) != 0) return MsrResult::gp;
  if (!control.notify()) return MsrResult::ok;  // nothing to report yet
  GuestCrashReport report;
  report.vp = vp;
  report.vtl = vtl;
  report.control = control;
  {
    std::lock_guard lock(mutex_);
    report.parameters = parameters_;
  }
  if (control.message()) report.message = read_message(report.parameters[3], report.parameters[4]);
  if (listener_) listener_(report);
  return MsrResult::ok;
}

// The guest's text, cut at one page and at its first NUL; unreadable
// memory gives what could be read (nothing, for a GPA outside RAM).
std::string CrashMsrs::read_message(std::uint64_t gpa, std::uint64_t length) {
  std::vector<std::byte> bytes(static_cast<std::size_t>(std::min<std::uint64_t>(length, kHvPageSize)));
  if (bytes.empty() || !memory_.read(gpa, bytes)) return {};
  std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (auto nul = text.find('\0'); nul != std::string::npos) text.resize(nul);
  return text;
}

}  // namespace softsynic
