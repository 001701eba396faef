// GuestCpuObserver: what a guest CPU did at the SynIC boundary (RDMSR,
// WRMSR, the hypercall instruction, taking an interrupt, EOI), with the
// observed results. The trace recorder and the timeline implement it; the
// replay machine and an emulator's CPU loop call before_crossing() right
// before each crossing runs and the matching on_* right after it.
//
// Threading: called on the VP's strand (the VP's own thread); an
// implementation shared by several VPs must be thread-safe.
#pragma once

#include <cstdint>

#include "cpu_hooks/arm64_registers.h"
#include "cpu_hooks/hypercall_outcome.h"
#include "cpu_hooks/msr_chain.h"
#include "cpu_hooks/x86_registers.h"
#include "synic/defs/vtl.h"

namespace softsynic::replay {

class GuestCpuObserver {
 public:
  virtual ~GuestCpuObserver() = default;
  // The guest is about to cross (its memory is as its own code left it:
  // the recorder captures the guest's page changes here).
  virtual void before_crossing(std::uint32_t /*vp*/, Vtl /*vtl*/) {}
  virtual void on_wrmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) = 0;
  virtual void on_rdmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) = 0;
  // before: the registers as the guest set them; after: as the hooks left
  // them.
  virtual void on_x86_hypercall(std::uint32_t vp, Vtl vtl, const X86Registers& before, const X86Registers& after,
                                const HypercallOutcome& outcome) = 0;
  virtual void on_arm64_hvc(std::uint32_t vp, Vtl vtl, std::uint16_t imm, const Arm64Registers& before,
                            const Arm64Registers& after, const HypercallOutcome& outcome) = 0;
  virtual void on_interrupt_taken(std::uint32_t vp, Vtl vtl, std::uint32_t vector) = 0;
  virtual void on_eoi(std::uint32_t vp, Vtl vtl) = 0;
};

}  // namespace softsynic::replay
