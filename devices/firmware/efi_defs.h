// UEFI definitions for the minimal firmware tables handed to a kernel that
// runs no UEFI firmware: the system table, configuration table entries,
// the runtime properties table and memory map descriptors. Definitions
// only; the tables are built in devices/firmware/efi_tables.h.
//
// Sources: UEFI specification 2.9, sections 4.2 (EFI_TABLE_HEADER), 4.3
// (EFI_SYSTEM_TABLE), 4.6 (EFI_CONFIGURATION_TABLE, with the ACPI 2.0
// table GUID and EFI_RT_PROPERTIES_TABLE), 7.2 (EFI_MEMORY_DESCRIPTOR,
// memory types and attributes, in GetMemoryMap()).
// Not covered: boot and runtime services tables, protocols, 32-bit
// layouts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace softsynic::devices::efi {

// --- EFI_TABLE_HEADER and EFI_SYSTEM_TABLE (64-bit) ---------------------------
inline constexpr std::uint64_t kSystemTableSignature = 0x5453'5953'2049'4249ull;  // "IBI SYST"
inline constexpr std::uint32_t kSystemTableRevision = (2u << 16) | 70;           // 2.70
inline constexpr std::size_t kSystemTableSize = 120;
namespace systab {
inline constexpr std::size_t kSignature = 0, kRevision = 8, kHeaderSize = 12, kCrc32 = 16, kFirmwareVendor = 24,
                             kFirmwareRevision = 32, kConsoleInHandle = 40, kConIn = 48, kConsoleOutHandle = 56,
                             kConOut = 64, kStandardErrorHandle = 72, kStdErr = 80, kRuntimeServices = 88,
                             kBootServices = 96, kNumberOfTableEntries = 104, kConfigurationTable = 112;
}

// --- EFI_CONFIGURATION_TABLE: a GUID, then a pointer ------------------------------
inline constexpr std::size_t kConfigTableEntrySize = 24;
using Guid = std::array<std::uint8_t, 16>;  // in memory order
// The GUID's text form a-b-c-d: a, b and c little-endian, d as written.
constexpr Guid make_guid(std::uint32_t a, std::uint16_t b, std::uint16_t c, std::array<std::uint8_t, 8> d) {
  return {static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a >> 16),
          static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(b >> 8),
          static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(c >> 8), d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]};
}
// 8868e871-e4f1-11d3-bc22-0080c73c8881: the ACPI 2.0+ RSDP.
inline constexpr Guid kAcpi20TableGuid = make_guid(0x8868'e871, 0xe4f1, 0x11d3, {0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81});
// eb66918a-7eef-402a-842e-931d21c38ae9: which runtime services the
// firmware still provides after ExitBootServices().
inline constexpr Guid kRtPropertiesTableGuid = make_guid(0xeb66'918a, 0x7eef, 0x402a, {0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3, 0x8a, 0xe9});
// EFI_RT_PROPERTIES_TABLE: version (2), length (2), RuntimeServicesSupported (4).
inline constexpr std::size_t kRtPropertiesSize = 8;
inline constexpr std::uint16_t kRtPropertiesVersion = 1;

// --- EFI_MEMORY_DESCRIPTOR, version 1 ---------------------------------------------
inline constexpr std::uint32_t kMemoryDescriptorVersion = 1;
inline constexpr std::size_t kMemoryDescriptorSize = 48;  // 40 used; the stride UEFI firmware commonly reports
namespace memdesc {
inline constexpr std::size_t kType = 0, kPhysicalStart = 8, kVirtualStart = 16, kNumberOfPages = 24, kAttribute = 32;
}
inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr std::uint32_t kConventionalMemory = 7;
inline constexpr std::uint32_t kAcpiReclaimMemory = 9;
inline constexpr std::uint64_t kMemoryWb = 0x8;  // EFI_MEMORY_WB: write-back cacheable

}  // namespace softsynic::devices::efi
