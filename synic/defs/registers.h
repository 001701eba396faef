// Synthetic MSR numbers (x86-64) and synthetic register names (HvGet/Set
// VpRegisters, both architectures), TLFS "Synthetic MSRs" and "Virtual
// Processor Register Names".
//
// One table ties each register to its MSR number (if any), its
// HvRegisterName and the name traces use. HvRegisterName is an open enum:
// a guest may pass any 32-bit name.
// Not supported: APIC-related, VP-assist and reenlightenment registers
// other than the synthetic EOI/ICR/TPR MSR numbers listed here; the crash
// registers' names (ARM64's form of them).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace softsynic {

namespace msr {
inline constexpr std::uint32_t kGuestOsId = 0x40000000;
inline constexpr std::uint32_t kHypercall = 0x40000001;
inline constexpr std::uint32_t kVpIndex = 0x40000002;
inline constexpr std::uint32_t kTimeRefCount = 0x40000020;
inline constexpr std::uint32_t kReferenceTsc = 0x40000021;
inline constexpr std::uint32_t kTscFrequency = 0x40000022;   // read-only, Hz
inline constexpr std::uint32_t kApicFrequency = 0x40000023;  // read-only, Hz
inline constexpr std::uint32_t kApicEoi = 0x40000070;
inline constexpr std::uint32_t kApicIcr = 0x40000071;
inline constexpr std::uint32_t kApicTpr = 0x40000072;
inline constexpr std::uint32_t kVpAssistPage = 0x40000073;
inline constexpr std::uint32_t kScontrol = 0x40000080;
inline constexpr std::uint32_t kSversion = 0x40000081;
inline constexpr std::uint32_t kSiefp = 0x40000082;
inline constexpr std::uint32_t kSimp = 0x40000083;
inline constexpr std::uint32_t kEom = 0x40000084;
inline constexpr std::uint32_t kSint0 = 0x40000090;    // .. kSint0 + 15
inline constexpr std::uint32_t kStimer0Config = 0x400000B0;  // + 2n
inline constexpr std::uint32_t kStimer0Count = 0x400000B1;   // + 2n
inline constexpr std::uint32_t kCrashP0 = 0x40000100;  // .. kCrashP0 + 4
inline constexpr std::uint32_t kCrashCtl = 0x40000105;
inline constexpr std::uint32_t kCrashParameterCount = 5;
inline constexpr std::uint32_t kSintCount = 16;
inline constexpr std::uint32_t kStimerCount = 4;
}  // namespace msr

enum class HvRegisterName : std::uint32_t {
  // Identification, 128-bit and read-only: the values of the x86 CPUID
  // leaves 0x40000002-0x40000004 (EAX, EBX, ECX, EDX from the low bits up),
  // how an ARM64 guest discovers the hypervisor's features.
  hypervisor_version = 0x00000100,
  features = 0x00000200,
  enlightenments = 0x00000201,
  // The crash registers under their names (ARM64's form of the x86 crash
  // MSRs 0x40000100-0x40000105).
  guest_crash_p0 = 0x00000210,  // .. guest_crash_p4 = 0x00000214
  guest_crash_ctl = 0x00000215,
  guest_os_id = 0x00090002,
  vp_index = 0x00090003,
  time_ref_count = 0x00090004,
  sint0 = 0x000A0000,  // .. sint15 = 0x000A000F
  sint15 = 0x000A000F,
  scontrol = 0x000A0010,
  sversion = 0x000A0011,
  siefp = 0x000A0012,
  simp = 0x000A0013,
  eom = 0x000A0014,
  stimer0_config = 0x000B0000,  // config/count pairs .. stimer3_count
  stimer0_count = 0x000B0001,
  stimer3_count = 0x000B0007,
};

constexpr HvRegisterName sint_register(unsigned n) {
  return HvRegisterName(static_cast<std::uint32_t>(HvRegisterName::sint0) + n);
}
constexpr HvRegisterName stimer_config_register(unsigned n) {
  return HvRegisterName(static_cast<std::uint32_t>(HvRegisterName::stimer0_config) + 2 * n);
}
constexpr HvRegisterName stimer_count_register(unsigned n) {
  return HvRegisterName(static_cast<std::uint32_t>(HvRegisterName::stimer0_count) + 2 * n);
}

struct SyntheticRegister {
  std::string_view name;       // trace spelling
  HvRegisterName reg;
  std::optional<std::uint32_t> msr;  // x86-64 MSR, if the register has one
};

inline constexpr SyntheticRegister kSyntheticRegisters[] = {
    {"GUEST_OS_ID", HvRegisterName::guest_os_id, msr::kGuestOsId},
    {"VP_INDEX", HvRegisterName::vp_index, msr::kVpIndex},
    {"TIME_REF_COUNT", HvRegisterName::time_ref_count, msr::kTimeRefCount},
    {"SCONTROL", HvRegisterName::scontrol, msr::kScontrol},
    {"SVERSION", HvRegisterName::sversion, msr::kSversion},
    {"SIEFP", HvRegisterName::siefp, msr::kSiefp},
    {"SIMP", HvRegisterName::simp, msr::kSimp},
    {"EOM", HvRegisterName::eom, msr::kEom},
    {"SINT0", sint_register(0), msr::kSint0 + 0},
    {"SINT1", sint_register(1), msr::kSint0 + 1},
    {"SINT2", sint_register(2), msr::kSint0 + 2},
    {"SINT3", sint_register(3), msr::kSint0 + 3},
    {"SINT4", sint_register(4), msr::kSint0 + 4},
    {"SINT5", sint_register(5), msr::kSint0 + 5},
    {"SINT6", sint_register(6), msr::kSint0 + 6},
    {"SINT7", sint_register(7), msr::kSint0 + 7},
    {"SINT8", sint_register(8), msr::kSint0 + 8},
    {"SINT9", sint_register(9), msr::kSint0 + 9},
    {"SINT10", sint_register(10), msr::kSint0 + 10},
    {"SINT11", sint_register(11), msr::kSint0 + 11},
    {"SINT12", sint_register(12), msr::kSint0 + 12},
    {"SINT13", sint_register(13), msr::kSint0 + 13},
    {"SINT14", sint_register(14), msr::kSint0 + 14},
    {"SINT15", sint_register(15), msr::kSint0 + 15},
    {"STIMER0_CONFIG", stimer_config_register(0), msr::kStimer0Config + 0},
    {"STIMER0_COUNT", stimer_count_register(0), msr::kStimer0Count + 0},
    {"STIMER1_CONFIG", stimer_config_register(1), msr::kStimer0Config + 2},
    {"STIMER1_COUNT", stimer_count_register(1), msr::kStimer0Count + 2},
    {"STIMER2_CONFIG", stimer_config_register(2), msr::kStimer0Config + 4},
    {"STIMER2_COUNT", stimer_count_register(2), msr::kStimer0Count + 4},
    {"STIMER3_CONFIG", stimer_config_register(3), msr::kStimer0Config + 6},
    {"STIMER3_COUNT", stimer_count_register(3), msr::kStimer0Count + 6},
};

// Hypervisor MSRs that have no synthetic register name here.
struct NamedMsr {
  std::string_view name;
  std::uint32_t msr;
};
inline constexpr NamedMsr kOtherNamedMsrs[] = {
    {"HYPERCALL", msr::kHypercall},
    {"REFERENCE_TSC", msr::kReferenceTsc},
    {"TSC_FREQUENCY", msr::kTscFrequency},
    {"APIC_FREQUENCY", msr::kApicFrequency},
    {"APIC_EOI", msr::kApicEoi},
    {"APIC_ICR", msr::kApicIcr},
    {"APIC_TPR", msr::kApicTpr},
    {"VP_ASSIST_PAGE", msr::kVpAssistPage},
    {"CRASH_P0", msr::kCrashP0},
    {"CRASH_P1", msr::kCrashP0 + 1},
    {"CRASH_P2", msr::kCrashP0 + 2},
    {"CRASH_P3", msr::kCrashP0 + 3},
    {"CRASH_P4", msr::kCrashP0 + 4},
    {"CRASH_CTL", msr::kCrashCtl},
};

constexpr std::optional<HvRegisterName> register_for_msr(std::uint32_t m) {
  for (const auto& r : kSyntheticRegisters)
    if (r.msr == m) return r.reg;
  return std::nullopt;
}

constexpr std::optional<std::uint32_t> msr_for_register(HvRegisterName reg) {
  for (const auto& r : kSyntheticRegisters)
    if (r.reg == reg) return r.msr;
  return std::nullopt;
}

constexpr std::string_view register_name(HvRegisterName reg) {
  for (const auto& r : kSyntheticRegisters)
    if (r.reg == reg) return r.name;
  return {};
}

constexpr std::optional<std::uint32_t> msr_from_name(std::string_view name) {
  for (const auto& r : kSyntheticRegisters)
    if (r.name == name) return r.msr;
  for (const auto& r : kOtherNamedMsrs)
    if (r.name == name) return r.msr;
  return std::nullopt;
}

constexpr std::string_view msr_name(std::uint32_t m) {
  for (const auto& r : kSyntheticRegisters)
    if (r.msr == m) return r.name;
  for (const auto& r : kOtherNamedMsrs)
    if (r.msr == m) return r.name;
  return {};
}

}  // namespace softsynic
