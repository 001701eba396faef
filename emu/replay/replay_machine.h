// ReplayMachine: the partition a trace runs on, wired the way an emulator
// wires it, minus the CPU: a DeterministicExecutor, a VirtualClock, RAM
// guest memory, the Partition, the architecture's hypervisor front end
// (X86Hypervisor or Arm64Hypervisor: hypercalls go through the real ABI
// decoders) and one interrupt controller per (VP, VTL) (LocalApic or
// InterruptLine: interrupts are taken and EOIed through the real devices)
// and the synthetic timers (SyntheticTimers, message and direct mode; TLFS
// "Synthetic Timers"), owners of the STIMER MSRs and register names.
//
// Reset state the trace can rely on (docs/TRACE_FORMAT.md "Machine"):
// x86-64: every APIC is enabled (SVR 0x1FF), TPR 0, xAPIC mode; the
// hypercall page is off until the trace enables it. aarch64: every line has
// group 1 enabled, PMR 0xFF, all SGIs/PPIs enabled at priority 0x80.
// Every hypervisor feature is offered, synthetic timers and direct-mode
// timers included; a direct-mode timer raises its vector on the (VP, VTL)'s
// APIC or interrupt line.
// Every guest-side method runs its work on the VP's strand and returns once
// the executor is idle again (quiescence).
//
// Threading: not thread-safe; one driving thread (the replayer's).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cpu_hooks/arm64_registers.h"
#include "cpu_hooks/hypercall_outcome.h"
#include "cpu_hooks/msr_chain.h"
#include "cpu_hooks/x86_registers.h"
#include "emu/replay/guest_cpu_observer.h"
#include "emu/replay/trace.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"
#include "synic/time_source.h"
#include "synic/timers/synthetic_timers.h"

namespace softsynic::replay {

class ReplayMachine {
 public:
  // Throws std::invalid_argument when the machine cannot be built (a
  // loaded Machine always can).
  explicit ReplayMachine(const Machine& machine);
  ~ReplayMachine();
  ReplayMachine(const ReplayMachine&) = delete;
  ReplayMachine& operator=(const ReplayMachine&) = delete;

  const Machine& machine() const { return machine_; }
  Partition& partition() { return *partition_; }
  RamGuestMemory& memory() { return memory_; }
  VirtualClock& clock() { return clock_; }
  DeterministicExecutor& executor() { return executor_; }
  SyntheticTimers& timers() { return *timers_; }
  // Runs every ready handler (quiescence).
  void settle() { executor_.run_until_idle(); }

  // Optional: told about every guest-side boundary crossing below (the
  // recorder and the timeline use it). Must outlive the machine's use.
  void set_cpu_observer(GuestCpuObserver* observer) { cpu_observer_ = observer; }

  // Moves reference time by `ticks_100ns`, stopping at every timer deadline
  // on the way: each expiry fires at its own time and its strand work runs
  // to quiescence before time moves on (the `advance_time` step).
  void advance_time(std::uint64_t ticks_100ns);

  // ---- guest side (each runs on the VP's strand, then settles) ----
  MsrResult wrmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value);
  MsrResult rdmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value);
  HypercallOutcome x86_hypercall(std::uint32_t vp, Vtl vtl, X86RegisterFile& regs);
  HypercallOutcome arm64_hvc(std::uint32_t vp, Vtl vtl, std::uint16_t imm, Arm64RegisterFile& regs);
  // The vector the VP would take now, if any.
  std::optional<std::uint32_t> pending_interrupt(std::uint32_t vp, Vtl vtl);
  // Takes the pending interrupt (APIC: IRR -> ISR or auto-EOI straight
  // through; GIC: acknowledge). Returns what was taken.
  std::optional<std::uint32_t> take_interrupt(std::uint32_t vp, Vtl vtl);
  // The guest's end of interrupt (APIC EOI; GIC EOIR of the most recently
  // acknowledged INTID). false when nothing was in service.
  bool eoi(std::uint32_t vp, Vtl vtl);

 private:
  struct Controllers;
  template <typename F>
  auto on_strand(std::uint32_t vp, F&& f);
  void before(std::uint32_t vp, Vtl vtl) {
    if (cpu_observer_) cpu_observer_->before_crossing(vp, vtl);
  }

  Machine machine_;
  DeterministicExecutor executor_;
  VirtualClock clock_;
  RamGuestMemory memory_;
  std::unique_ptr<Partition> partition_;
  std::unique_ptr<Controllers> controllers_;
  // After the partition and the controllers (its direct-mode sinks), so it
  // is destroyed before both.
  std::unique_ptr<SyntheticTimers> timers_;
  GuestCpuObserver* cpu_observer_ = nullptr;
};

}  // namespace softsynic::replay
