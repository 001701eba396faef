// X86Guest: the CPU-hooks side of a SynicRig, for benchmarks that enter
// through the x86-64 hypercall ABI (TLFS "Hypercall Interface") as an
// emulator does: GUEST_OS_ID and the hypercall page are enabled on every VP,
// then hypercall() decodes a register file.
// Not measured here: the emulator's own trap (see bench/emulator.cpp).
//
// Threading: as X86Hypervisor (hypercall() on the VP's strand).
#pragma once

#include <cstdint>

#include "bench/rig.h"
#include "cpu_hooks/x86_hypervisor.h"
#include "cpu_hooks/x86_registers.h"
#include "synic/defs/hypercall.h"
#include "synic/time_source.h"

namespace softsynic::bench {

class X86Guest {
 public:
  static constexpr std::uint64_t kHypercallPageGpa = 0x1000;

  explicit X86Guest(SynicRig& rig);
  X86Hypervisor& hypervisor() { return hv_; }

  // Register files for the two calls the benchmarks make.
  static X86RegisterFile fast_signal_event(std::uint32_t connection_id, std::uint16_t flag);
  static X86RegisterFile slow_post_message(std::uint64_t input_gpa);
  // HV_STATUS_SUCCESS in RAX.
  static bool succeeded(const X86RegisterFile& regs);

 private:
  VirtualClock clock_;
  X86Hypervisor hv_;
};

}  // namespace softsynic::bench
