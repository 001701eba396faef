// X86Guest: enables the hypercall interface the way a guest's start-up code
// does (GUEST_OS_ID, then the HYPERCALL MSR), through the MSR entry point.
#include "bench/x86_guest.h"

#include <stdexcept>

#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"

namespace softsynic::bench {

X86Guest::X86Guest(SynicRig& rig) : hv_(rig.partition(), HvConfig{}, clock_) {
  bool ok = true;
  rig.on_strand(0, [&] {
    ok = ok && hv_.wrmsr(0, 0, msr::kGuestOsId, 0x8100'0000'0000'0001ull) == MsrResult::ok;
    ok = ok && hv_.wrmsr(0, 0, msr::kHypercall,
                         HypercallReg().with_enabled(true).with_gpn(kHypercallPageGpa >> 12).raw()) == MsrResult::ok;
  });
  if (!ok || !hv_.hypercall_page_gpa(0)) throw std::runtime_error("bench: hypercall interface not enabled");
}

X86RegisterFile X86Guest::fast_signal_event(std::uint32_t connection_id, std::uint16_t flag) {
  X86RegisterFile regs;
  regs.gpr[static_cast<unsigned>(X86Reg::rcx)] =
      HypercallControl().with_code(HvCallCode::signal_event).with_fast(true).raw();
  regs.gpr[static_cast<unsigned>(X86Reg::rdx)] = connection_id | (std::uint64_t{flag} << 32);
  return regs;
}

X86RegisterFile X86Guest::slow_post_message(std::uint64_t input_gpa) {
  X86RegisterFile regs;
  regs.gpr[static_cast<unsigned>(X86Reg::rcx)] = HypercallControl().with_code(HvCallCode::post_message).raw();
  regs.gpr[static_cast<unsigned>(X86Reg::rdx)] = input_gpa;
  return regs;
}

bool X86Guest::succeeded(const X86RegisterFile& regs) {
  return HypercallResult(regs.gpr[static_cast<unsigned>(X86Reg::rax)]).status() == HvStatus::success;
}

}  // namespace softsynic::bench
