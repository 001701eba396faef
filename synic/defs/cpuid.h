// Hyper-V CPUID leaves and feature bits (TLFS "Feature and Interface
// Discovery"). Definitions only; cpu_hooks/ builds the leaves from the
// configured features.
// Not supported: leaves above 0x40000006 and the nested-virtualization bits.
#pragma once

#include <cstdint>

namespace softsynic::cpuid {

inline constexpr std::uint32_t kVendorLeaf = 0x40000000;      // max leaf, "Microsoft Hv"
inline constexpr std::uint32_t kInterfaceLeaf = 0x40000001;   // "Hv#1"
inline constexpr std::uint32_t kVersionLeaf = 0x40000002;
inline constexpr std::uint32_t kFeaturesLeaf = 0x40000003;
inline constexpr std::uint32_t kEnlightenmentLeaf = 0x40000004;
inline constexpr std::uint32_t kLimitsLeaf = 0x40000005;
inline constexpr std::uint32_t kHardwareFeaturesLeaf = 0x40000006;
inline constexpr std::uint32_t kMaxLeaf = kHardwareFeaturesLeaf;

// "Microsoft Hv" in EBX, ECX, EDX.
inline constexpr std::uint32_t kVendorEbx = 0x7263694D;  // "Micr"
inline constexpr std::uint32_t kVendorEcx = 0x666F736F;  // "osof"
inline constexpr std::uint32_t kVendorEdx = 0x76482074;  // "t Hv"
inline constexpr std::uint32_t kInterfaceHv1 = 0x31237648;  // "Hv#1"

// 0x40000003 EAX: partition privileges (low half).
inline constexpr std::uint32_t kAccessVpRuntime = 1u << 0;
inline constexpr std::uint32_t kAccessPartitionReferenceCounter = 1u << 1;
inline constexpr std::uint32_t kAccessSynicRegs = 1u << 2;
inline constexpr std::uint32_t kAccessSyntheticTimerRegs = 1u << 3;
inline constexpr std::uint32_t kAccessIntrCtrlRegs = 1u << 4;
inline constexpr std::uint32_t kAccessHypercallMsrs = 1u << 5;
inline constexpr std::uint32_t kAccessVpIndex = 1u << 6;
inline constexpr std::uint32_t kAccessPartitionReferenceTsc = 1u << 9;
inline constexpr std::uint32_t kAccessFrequencyMsrs = 1u << 11;  // TSC_FREQUENCY, APIC_FREQUENCY

// 0x40000003 EBX: partition privileges (high half).
inline constexpr std::uint32_t kPostMessages = 1u << 4;
inline constexpr std::uint32_t kSignalEvents = 1u << 5;

// 0x40000003 EDX: features.
inline constexpr std::uint32_t kXmmHypercallInput = 1u << 4;
inline constexpr std::uint32_t kFrequencyMsrsAvailable = 1u << 8;
inline constexpr std::uint32_t kGuestCrashMsrs = 1u << 10;  // CRASH_P0..P4, CRASH_CTL
inline constexpr std::uint32_t kSintPolling = 1u << 17;
inline constexpr std::uint32_t kDirectSyntheticTimers = 1u << 19;

// ARM64's HvRegisterFeatures, third word ("group C", its own numbering).
inline constexpr std::uint32_t kArm64GuestCrashRegisters = 1u << 8;
inline constexpr std::uint32_t kArm64DirectSyntheticTimers = 1u << 13;

// 0x40000004 EAX: recommendations.
inline constexpr std::uint32_t kDeprecateAutoEoi = 1u << 9;

}  // namespace softsynic::cpuid
