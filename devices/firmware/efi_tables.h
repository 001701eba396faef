// The minimal EFI a Linux kernel proper needs to take ACPI from EFI without
// any UEFI firmware running (devices/firmware/efi_defs.h for the layouts):
//  - a 64-bit system table ("IBI SYST", revision 2.70, header CRC32) with a
//    UTF-16 firmware vendor, no console, boot services or runtime services
//    (all 0), and two configuration table entries: the ACPI 2.0 RSDP and
//    an EFI_RT_PROPERTIES_TABLE saying no runtime service is supported.
//    Why the second: Linux (6.1 drivers/firmware/efi/efi-init.c, efi.c,
//    arm-runtime.c) never looks at RuntimeServices being 0, it still
//    enables "runtime services" when the memory map is usable, and then
//    calls e.g. GetTime or ResetSystem through the null pointer unless
//    efi=noruntime is given; every one of those calls is gated by
//    efi.runtime_supported_mask, which the RT properties table's 0 clears.
//    So a plain command line works.
//  - a memory map of version-1 descriptors (48-byte stride).
// Not supported: boot or runtime services, a console, more configuration
// tables, memory attribute tables.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "devices/firmware/efi_defs.h"

namespace softsynic::devices {

struct EfiTables {
  std::uint64_t base_gpa = 0;
  std::uint64_t system_table_gpa = 0;  // == base_gpa
  std::vector<std::uint8_t> bytes;     // to be written at base_gpa
};

// The system table and what it points to, laid out from `base_gpa` (8-byte
// aligned; throws std::invalid_argument otherwise).
EfiTables build_efi_system_table(std::uint64_t base_gpa, std::uint64_t acpi20_rsdp_gpa,
                                 std::u16string_view firmware_vendor = u"softsynic");

struct EfiMemoryRange {
  std::uint32_t type = efi::kConventionalMemory;
  std::uint64_t base = 0;   // 4 KiB aligned
  std::uint64_t size = 0;   // a multiple of 4 KiB
  std::uint64_t attribute = efi::kMemoryWb;
};

// Version-1 descriptors of efi::kMemoryDescriptorSize bytes, in the given
// order. Throws std::invalid_argument for a range not page aligned or
// empty.
std::vector<std::uint8_t> build_efi_memory_map(std::span<const EfiMemoryRange> ranges);

// The CRC-32 of the UEFI table header (the IEEE 802.3 polynomial, as
// UEFI's CalculateCrc32).
std::uint32_t efi_crc32(std::span<const std::uint8_t> bytes);

}  // namespace softsynic::devices
