// X86Hypervisor: the x86-64 face of the emulated hypervisor for one
// partition: the hypercall instruction, RDMSR/WRMSR and CPUID (TLFS
// "Hypercall Interface", "Synthetic MSRs", "Feature and Interface
// Discovery").
//
// Hypercalls: 64-bit convention control RCX, input GPA RDX, output GPA R8,
// result RAX; fast input RDX, R8 then XMM0-XMM5 (with the
// xmm_fast_hypercalls feature; fast output in the XMM registers after the
// input). 32-bit convention (long_mode() false): control EDX:EAX, input
// EBX:ECX, output EDI:ESI, result EDX:EAX, fast input EBX:ECX, EDI:ESI.
// Calls: HvCallGetVpRegisters, HvCallSetVpRegisters (rep), HvCallPostMessage
// (slow only), HvCallSignalEvent (slow and fast). Status choices are in
// docs/EMULATOR_GUIDE.md.
//
// MSRs: GUEST_OS_ID, HYPERCALL, VP_INDEX, TIME_REF_COUNT and the SynIC
// MSRs. HYPERCALL (one per VTL, partition-wide): bits 2-11 set -> #GP; any
// write once locked (bit 1) -> #GP; setting the enable bit while GUEST_OS_ID
// is 0 is accepted with the enable bit cleared (the guest reads it back to
// see); enabling fills the page with 0xCC and puts `vmcall; ret` (Intel) or
// `vmmcall; ret` (AMD) at its start; a page that is not RAM -> #GP. Writing
// GUEST_OS_ID = 0 clears the enable bit. STIMER MSRs: not_mine until timers
// exist (#GP when the stimers feature is off).
// REFERENCE_TSC (with a TscSource), TSC_FREQUENCY and APIC_FREQUENCY:
// cpu_hooks/reference_time_msrs.h; VP_ASSIST_PAGE, stored only:
// cpu_hooks/vp_assist_msr.h; CRASH_P0..P4 and CRASH_CTL, the guest's crash
// report: cpu_hooks/crash_msrs.h.
// Not supported: nested hypercalls, the hypercall page's VTL-call entries,
// the synthetic APIC MSRs (not_mine).
//
// Threading:
//  - thread-safe: cpuid(), config(), hypercall_page_gpa(), registers().visible().
//  - strand-affine (run on the calling VP's strand): hypercall(), rdmsr(),
//    wrmsr(), and the chain's handlers.
//  - before any VP runs: msr_chain().append(), set_hypercall_page_listener(),
//    set_crash_listener(), set_tsc_source().
//  - thread-safe: tsc_mapping_changed().
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "cpu_hooks/crash_msrs.h"
#include "cpu_hooks/hv_config.h"
#include "cpu_hooks/hv_cpuid.h"
#include "cpu_hooks/hypercall_outcome.h"
#include "cpu_hooks/msr_chain.h"
#include "cpu_hooks/synthetic_registers.h"
#include "cpu_hooks/x86_registers.h"
#include "synic/defs/vtl.h"

namespace softsynic {

class Partition;
class TimeSource;
class TscSource;

// The first bytes of an enabled hypercall page; the rest is 0xCC.
std::array<std::uint8_t, 4> hypercall_page_prologue(X86Vendor vendor);

class X86Hypervisor {
 public:
  // Partition and time source must outlive this object. config.arch must be
  // x86_64 (else std::invalid_argument: host misuse).
  X86Hypervisor(Partition& partition, HvConfig config, const TimeSource& time);
  ~X86Hypervisor();
  X86Hypervisor(const X86Hypervisor&) = delete;
  X86Hypervisor& operator=(const X86Hypervisor&) = delete;

  // The guest executed VMCALL/VMMCALL (CPL 0) on `vp` at `vtl`. An emulator
  // that traps the hypercall page's first byte calls this too, then
  // continues at the page's `ret`. vp/vtl out of range (host misuse):
  // completed with HV_STATUS_INVALID_VP_INDEX in the result register.
  HypercallOutcome hypercall(std::uint32_t vp, Vtl vtl, X86Registers& regs);

  // RDMSR/WRMSR through the chain. not_mine: apply the emulator's default.
  MsrResult rdmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value);
  MsrResult wrmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value);
  // The chain rdmsr/wrmsr run: the hypervisor's own handler first; append
  // the APIC and devices.
  MsrChain& msr_chain();

  // Leaves 0x40000000-0x40000006, nullopt for any other leaf.
  std::optional<CpuidResult> cpuid(std::uint32_t leaf, std::uint32_t subleaf = 0) const;

  // GPA of the enabled hypercall page of `vtl`, nullopt when disabled. An
  // emulator can trap execution of its first byte.
  std::optional<std::uint64_t> hypercall_page_gpa(Vtl vtl = 0) const;
  // Called on the writing VP's strand after every HYPERCALL MSR write that
  // changed the page (enabled, moved, disabled) with the new state. Code
  // caches covering the page must be dropped (the fill wrote guest code).
  void set_hypercall_page_listener(std::function<void(Vtl, std::optional<std::uint64_t> gpa)> listener);
  // The guest reported a crash (CRASH_CTL notify): called on the reporting
  // VP's strand.
  void set_crash_listener(std::function<void(const GuestCrashReport&)> listener);

  // The emulator's guest TSC as a function of reference time. With the
  // reference_tsc feature it offers the reference TSC page (CPUID
  // 0x40000003 EAX bit 9) and TSC_FREQUENCY reports its rate. nullptr: none.
  void set_tsc_source(const TscSource* source);
  // The source's mapping changed (rate or offset): an enabled reference TSC
  // page is rewritten, with sequence 0 while it changes.
  void tsc_mapping_changed();

  // Raw HYPERCALL MSR value of `vtl`.
  std::uint64_t hypercall_msr(Vtl vtl = 0) const;

  const HvConfig& config() const;
  SyntheticRegisters& registers();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace softsynic
