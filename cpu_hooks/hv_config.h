// HvConfig: what the emulated hypervisor offers a partition (TLFS "Feature
// and Interface Discovery", "Partition Privilege Flags"): the architecture,
// the x86 vendor (which hypercall instruction the hypercall page holds) and
// feature switches. A switched-off feature is hidden from CPUID and its
// MSRs raise #GP, its register names answer HV_STATUS_UNKNOWN_REGISTER_NAME
// and its hypercalls HV_STATUS_ACCESS_DENIED, as with KVM's enforced CPUID.
// The x86-64 frequency MSRs report tsc_frequency_hz (unless the emulator
// gives a TscSource, whose rate wins) and apic_frequency_hz.
// Not supported: the contents of the VP assist page (its MSR is only
// stored), the synthetic APIC MSRs and nested-virtualization features
// (never advertised).
//
// Threading: a value type; copy it into the hypervisor objects.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace softsynic {

enum class HvArch { x86_64, aarch64 };
enum class X86Vendor { intel, amd };

struct HvFeatures {
  bool synic = true;            // SCONTROL..SINT15 (CPUID 0x40000003 EAX bit 2)
  bool stimers = false;         // STIMERn_* (EAX bit 3); off until timers exist
  bool direct_timers = false;   // direct-mode stimers (EDX bit 19)
  // x86-64 only: GUEST_OS_ID and HYPERCALL MSRs and the hypercall
  // instruction (EAX bit 5). ARM64 always has HVC and GUEST_OS_ID.
  bool hypercall = true;
  bool vp_index = true;         // VP_INDEX (EAX bit 6)
  bool time_ref_count = true;   // TIME_REF_COUNT (EAX bit 1)
  bool post_messages = true;    // HvPostMessage (EBX bit 4)
  bool signal_events = true;    // HvSignalEvent (EBX bit 5)
  bool xmm_fast_hypercalls = true;  // XMM fast input and output (EDX bits 4, 15)
  bool sint_polling = true;     // SINT polling bit (EDX bit 17)
  bool deprecate_auto_eoi = false;  // hint only (0x40000004 EAX bit 9)
  // x86-64: TSC_FREQUENCY and APIC_FREQUENCY MSRs (EAX bit 11, EDX bit 8).
  bool frequency_msrs = true;
  // x86-64: REFERENCE_TSC and its page (EAX bit 9). Off by default; an
  // emulator whose RDTSC follows a TscSource turns it on and gives the
  // source (X86Hypervisor::set_tsc_source): without one it stays hidden.
  bool reference_tsc = false;
  // x86-64: CRASH_P0..P4 and CRASH_CTL, the guest's crash report
  // (EDX bit 10; cpu_hooks/crash_msrs.h).
  bool guest_crash_msrs = true;
  friend constexpr bool operator==(const HvFeatures&, const HvFeatures&) = default;
};

struct HvConfig {
  HvArch arch = HvArch::x86_64;
  X86Vendor vendor = X86Vendor::intel;
  HvFeatures features{};
  // The partition id HvGet/SetVpRegisters accept besides "self" (~0).
  std::uint64_t partition_id = 1;
  // x86-64 frequency MSRs, in Hz. 1 GHz: a TSC derived from reference time
  // at 100 ticks per 100 ns unit (exact in the TSC page). 200 MHz: the
  // local APIC timer's input clock (5 ns per tick).
  std::uint64_t tsc_frequency_hz = 1'000'000'000;
  std::uint64_t apic_frequency_hz = 200'000'000;
  // x86-64: the hypercall page's first bytes when the emulator traps some
  // other instruction more cheaply than VMCALL/VMMCALL (the reference
  // emulator uses `out imm8, eax; ret`); nullopt: the vendor's instruction
  // and `ret`. The rest of the page is INT3.
  std::optional<std::array<std::uint8_t, 4>> hypercall_code;
  friend constexpr bool operator==(const HvConfig&, const HvConfig&) = default;
};

// Feature switches by name, for command lines and configuration files:
// "synic", "stimers", "direct_timers", "hypercall", "vp_index",
// "time_ref_count", "post_messages", "signal_events",
// "xmm_fast_hypercalls", "sint_polling", "deprecate_auto_eoi",
// "frequency_msrs", "reference_tsc", "guest_crash_msrs".
struct HvFeatureName {
  std::string_view name;
  bool HvFeatures::*member;
};
std::span<const HvFeatureName> hv_feature_names();
// false (features unchanged) when the name is unknown.
bool set_hv_feature(HvFeatures& features, std::string_view name, bool on);
std::optional<bool> get_hv_feature(const HvFeatures& features, std::string_view name);

}  // namespace softsynic
