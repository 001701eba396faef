// CrashMsrs: the guest's crash report (TLFS "Partition Crash
// Enlightenment"): HV_X64_MSR_CRASH_P0..P4 (0x40000100-0x40000104) and
// HV_X64_MSR_CRASH_CTL (0x40000105), partition-wide.
//  - P0-P4 read back what was written (the guest's choice of contents:
//    Linux puts the panic code, GUEST_OS_ID, RIP, RAX and RSP there).
//  - CRASH_CTL reads as what the partition supports: notify (bit 63) and
//    message (bit 62, P3 = the message's GPA, P4 = its length), so Linux
//    also hands over its kernel log. Writing bits 0-57: #GP. Writing the
//    notify bit reports the crash: P0-P4, the control value and, with the
//    message bit, up to one page of message text read from guest memory,
//    go to the listener (the emulator ends or logs the run).
// With the guest_crash_msrs feature off, every one of them is #GP and
// CPUID 0x40000003 EDX bit 10 is clear.
// Not supported: ARM64's crash registers (HvSetVpRegisters names); a
// message longer than one page is cut there.
//
// Threading: read()/write() are strand-affine on the calling VP's strand;
// any VPs may call at once (the values have a mutex). The listener runs on
// the reporting VP's strand. set_listener() before VPs run.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "cpu_hooks/hv_config.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"
#include "synic/msr_handler.h"

namespace softsynic {

class GuestMemory;

struct GuestCrashReport {
  std::uint32_t vp = 0;
  Vtl vtl = 0;
  std::array<std::uint64_t, msr::kCrashParameterCount> parameters{};  // P0..P4
  CrashCtlReg control;
  std::string message;  // with control.message(): the text at P3, P4 bytes (one page at most)
};

class CrashMsrs final : public MsrHandler {
 public:
  // What CRASH_CTL reads as: the kinds of report the partition takes.
  static constexpr CrashCtlReg kSupported = CrashCtlReg{}.with_notify(true).with_message(true);

  CrashMsrs(GuestMemory& memory, const HvConfig& config) : memory_(memory), config_(config) {}

  void set_listener(std::function<void(const GuestCrashReport&)> listener) { listener_ = std::move(listener); }

  MsrResult read(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value) override;
  MsrResult write(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) override;

 private:
  static bool is_parameter(std::uint32_t msr) { return msr >= msr::kCrashP0 && msr < msr::kCrashP0 + msr::kCrashParameterCount; }
  std::string read_message(std::uint64_t gpa, std::uint64_t length);

  GuestMemory& memory_;
  const HvConfig& config_;
  std::mutex mutex_;
  std::array<std::uint64_t, msr::kCrashParameterCount> parameters_{};  // guarded by mutex_
  std::function<void(const GuestCrashReport&)> listener_;
};

}  // namespace softsynic
