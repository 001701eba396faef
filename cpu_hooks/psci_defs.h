// PSCI 0.2 definitions (Arm Power State Coordination Interface, DEN0022:
// "Function prototypes", "Return error codes"; SMC Calling Convention,
// DEN0028: "Function Identifier"). Definitions only; behaviour in
// PsciService (psci.h).
// Not covered: PSCI 1.x functions (PSCI_FEATURES, SYSTEM_SUSPEND, ...),
// CPU_SUSPEND power-state encodings.
#pragma once

#include <cstdint>

namespace softsynic::psci {

// SMCCC function identifier fields: bit 31 fast call, bit 30 SMC64, bits
// 29:24 the owning service.
inline constexpr unsigned kOwnerShift = 24;
inline constexpr std::uint32_t kOwnerMask = 0x3F;
inline constexpr std::uint32_t kOwnerStandardSecure = 4;  // PSCI lives here
inline constexpr std::uint32_t kOwnerVendorHypervisor = 6;
constexpr std::uint32_t owner(std::uint64_t function_id) {
  return static_cast<std::uint32_t>(function_id >> kOwnerShift) & kOwnerMask;
}

namespace fn {
inline constexpr std::uint32_t kVersion = 0x8400'0000;
inline constexpr std::uint32_t kCpuSuspend32 = 0x8400'0001;
inline constexpr std::uint32_t kCpuOff = 0x8400'0002;
inline constexpr std::uint32_t kCpuOn32 = 0x8400'0003;
inline constexpr std::uint32_t kAffinityInfo32 = 0x8400'0004;
inline constexpr std::uint32_t kMigrateInfoType = 0x8400'0006;
inline constexpr std::uint32_t kSystemOff = 0x8400'0008;
inline constexpr std::uint32_t kSystemReset = 0x8400'0009;
inline constexpr std::uint32_t kCpuOn64 = 0xC400'0003;
inline constexpr std::uint32_t kAffinityInfo64 = 0xC400'0004;
}  // namespace fn

// Return codes, as the signed value in X0/W0.
namespace ret {
inline constexpr std::int32_t kSuccess = 0;
inline constexpr std::int32_t kNotSupported = -1;
inline constexpr std::int32_t kInvalidParameters = -2;
inline constexpr std::int32_t kDenied = -3;
inline constexpr std::int32_t kAlreadyOn = -4;
inline constexpr std::int32_t kOnPending = -5;
inline constexpr std::int32_t kInternalFailure = -6;
inline constexpr std::int32_t kNotPresent = -7;
inline constexpr std::int32_t kDisabled = -8;
inline constexpr std::int32_t kInvalidAddress = -9;
}  // namespace ret

// PSCI_VERSION: major in bits 31:16, minor in 15:0.
inline constexpr std::uint32_t kVersion02 = 0x0000'0002;
// MIGRATE_INFO_TYPE 2: no Trusted OS that needs migrating.
inline constexpr std::uint32_t kMigrateNotRequired = 2;

// AFFINITY_INFO answers.
enum class AffinityState : std::int32_t {
  on = 0,
  off = 1,
  on_pending = 2,
};

// MPIDR affinity fields as CPU_ON and AFFINITY_INFO name a PE: Aff0 7:0,
// Aff1 15:8, Aff2 23:16, Aff3 39:32.
inline constexpr std::uint64_t kMpidrAffinityMask = 0xFF'00FF'FFFF;

}  // namespace softsynic::psci
