// ACPI definitions every platform's firmware tables share: the identity
// written into each table, the RSDP, the system description table header,
// the XSDT, the FADT's field offsets and fixed feature flags, the Generic
// Address Structure, the MADT's fixed part and the DSDT. Definitions only;
// the tables are assembled with devices/acpi/acpi_image.h. Platform-only
// numbers: devices/pc/acpi_defs.h, devices/arm64/acpi_defs.h.
//
// Sources: ACPI 6.3 specification, sections 5.2.3.2 (Generic Address
// Structure), 5.2.5.3 (RSDP), 5.2.6 (system description table header),
// 5.2.8 (XSDT), 5.2.9 (FADT, with table 5-34 "Fixed ACPI Description Table
// Fixed Feature Flags" and 5.2.9.4 "ARM Architecture Boot Flags"), 5.2.11.1
// (DSDT), 5.2.12 (MADT).
// Not covered: the RSDT, the FADT fields no platform of ours fills in.
#pragma once

#include <cstddef>
#include <cstdint>

namespace softsynic::devices::acpi {

// --- identification written into every table -------------------------------
inline constexpr char kOemId[] = "SFTSYN";        // 6 characters
inline constexpr char kOemTableId[] = "SOFTSYNC";  // 8 characters
inline constexpr char kCreatorId[] = "SFSY";       // 4 characters
inline constexpr std::uint32_t kOemRevision = 1;
inline constexpr std::uint32_t kCreatorRevision = 1;

// --- RSDP (5.2.5.3) ----------------------------------------------------------
inline constexpr char kRsdpSignature[] = "RSD PTR ";  // 8 characters
inline constexpr std::uint8_t kRsdpRevision = 2;     // ACPI 2.0+: has the XSDT address
inline constexpr std::size_t kRsdpLength = 36;
inline constexpr std::size_t kRsdpV1ChecksumLength = 20;  // the checksum at 8 covers bytes 0..19
inline constexpr std::size_t kRsdpAlignment = 16;
namespace rsdp {
inline constexpr std::size_t kChecksum = 8, kOemId = 9, kRevision = 15, kRsdtAddress = 16, kLength = 20,
                             kXsdtAddress = 24, kExtendedChecksum = 32;
}

// --- system description table header (5.2.6) -------------------------------
inline constexpr std::size_t kHeaderLength = 36;
namespace header {
inline constexpr std::size_t kSignature = 0, kLength = 4, kRevision = 8, kChecksum = 9, kOemId = 10,
                             kOemTableId = 16, kOemRevision = 24, kCreatorId = 28, kCreatorRevision = 32;
}

inline constexpr char kXsdtSignature[] = "XSDT";
inline constexpr std::uint8_t kXsdtRevision = 1;

// --- FADT (5.2.9), signature "FACP", ACPI 6.3 layout ---------------------------
inline constexpr char kFadtSignature[] = "FACP";
inline constexpr std::uint8_t kFadtRevision = 6;
// Minor revision 3 (ACPI 6.3): Linux sizes a MADT GICC entry by the FADT's
// revision, 80 bytes from 6.0 on; 6.5 (minor 5) would mean 82.
inline constexpr std::uint8_t kFadtMinorRevision = 3;
inline constexpr std::size_t kFadtLength = 276;
namespace fadt {
inline constexpr std::size_t kFirmwareCtrl = 36, kDsdt = 40, kPreferredPmProfile = 45, kSciInt = 46,
                             kSmiCmd = 48, kPm1aEvtBlk = 56, kPm1aCntBlk = 64, kPm1EvtLen = 88,
                             kPm1CntLen = 89, kIapcBootArch = 109, kFlags = 112, kArmBootArch = 129,
                             kMinorVersion = 131, kXFirmwareCtrl = 132, kXDsdt = 140, kXPm1aEvtBlk = 148,
                             kXPm1aCntBlk = 172, kSleepControlReg = 244, kSleepStatusReg = 256,
                             kHypervisorVendor = 268;
}
inline constexpr std::size_t kFadtHypervisorVendorLength = 8;
// Fixed feature flags (table 5-34).
inline constexpr std::uint32_t kFadtFlagWbinvd = 1u << 0;
inline constexpr std::uint32_t kFadtFlagProcC1 = 1u << 2;
inline constexpr std::uint32_t kFadtFlagPwrButton = 1u << 4;  // set: no fixed-feature power button
inline constexpr std::uint32_t kFadtFlagSlpButton = 1u << 5;  // set: no fixed-feature sleep button
inline constexpr std::uint32_t kFadtFlagHwReducedAcpi = 1u << 20;

// --- Generic Address Structure (5.2.3.2) ---------------------------------------
inline constexpr std::size_t kGasLength = 12;
inline constexpr std::uint8_t kGasSystemMemory = 0;
inline constexpr std::uint8_t kGasSystemIo = 1;
inline constexpr std::uint8_t kGasAccessByte = 1;
inline constexpr std::uint8_t kGasAccessWord = 2;
inline constexpr std::uint8_t kGasAccessDword = 3;

// --- MADT (5.2.12), signature "APIC": the fixed part before the entries -------
inline constexpr char kMadtSignature[] = "APIC";
inline constexpr std::uint8_t kMadtRevision = 5;  // ACPI 6.3
namespace madt {
inline constexpr std::size_t kLocalApicAddress = 36, kFlags = 40, kEntries = 44;
}

// --- DSDT (5.2.11.1) ------------------------------------------------------------
inline constexpr char kDsdtSignature[] = "DSDT";
inline constexpr std::uint8_t kDsdtRevision = 2;  // 2: AML integers are 64 bits

}  // namespace softsynic::devices::acpi
