// The minimal EFI tables: see devices/firmware/efi_tables.h.
#include "devices/firmware/efi_tables.h"

#include <stdexcept>

namespace softsynic::devices {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put_le(Bytes& b, std::size_t offset, std::uint64_t value, unsigned size) {
  for (unsigned i = 0; i < size; ++i) b.at(offset + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

std::size_t align8(std::size_t n) { return (n + 7) / 8 * 8; }

}  // namespace

std::uint32_t efi_crc32(std::span<const std::uint8_t> bytes) {
  std::uint32_t crc = 0xFFFF'FFFF;
  for (std::uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB8'8320u & (0u - (crc & 1)));
  }
  return ~crc;
}

EfiTables build_efi_system_table(std::uint64_t base_gpa, std::uint64_t acpi20_rsdp_gpa,
                                 std::u16string_view firmware_vendor) {
  if (base_gpa % 8 != 0) throw std::invalid_argument("efi: system table base must be 8-byte aligned");
  // System table, vendor string, configuration table, RT properties table.
  const std::size_t vendor_off = efi::kSystemTableSize;
  const std::size_t config_off = align8(vendor_off + 2 * (firmware_vendor.size() + 1));
  constexpr std::size_t kEntries = 2;
  const std::size_t rt_prop_off = config_off + kEntries * efi::kConfigTableEntrySize;
  Bytes b(rt_prop_off + efi::kRtPropertiesSize, 0);

  put_le(b, efi::systab::kSignature, efi::kSystemTableSignature, 8);
  put_le(b, efi::systab::kRevision, efi::kSystemTableRevision, 4);
  put_le(b, efi::systab::kHeaderSize, efi::kSystemTableSize, 4);
  put_le(b, efi::systab::kFirmwareVendor, base_gpa + vendor_off, 8);
  put_le(b, efi::systab::kFirmwareRevision, 1, 4);
  // Consoles, RuntimeServices and BootServices stay 0: there are none.
  put_le(b, efi::systab::kNumberOfTableEntries, kEntries, 8);
  put_le(b, efi::systab::kConfigurationTable, base_gpa + config_off, 8);
  for (std::size_t i = 0; i < firmware_vendor.size(); ++i) put_le(b, vendor_off + 2 * i, firmware_vendor[i], 2);

  auto entry = [&](std::size_t index, const efi::Guid& guid, std::uint64_t table) {
    const std::size_t at = config_off + index * efi::kConfigTableEntrySize;
    for (std::size_t i = 0; i < guid.size(); ++i) b[at + i] = guid[i];
    put_le(b, at + guid.size(), table, 8);
  };
  entry(0, efi::kAcpi20TableGuid, acpi20_rsdp_gpa);
  entry(1, efi::kRtPropertiesTableGuid, base_gpa + rt_prop_off);
  put_le(b, rt_prop_off, efi::kRtPropertiesVersion, 2);
  put_le(b, rt_prop_off + 2, efi::kRtPropertiesSize, 2);
  put_le(b, rt_prop_off + 4, 0, 4);  // no runtime services

  put_le(b, efi::systab::kCrc32, efi_crc32(std::span(b).first(efi::kSystemTableSize)), 4);
  return {base_gpa, base_gpa, std::move(b)};
}

std::vector<std::uint8_t> build_efi_memory_map(std::span<const EfiMemoryRange> ranges) {
  Bytes b(ranges.size() * efi::kMemoryDescriptorSize, 0);
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const EfiMemoryRange& r = ranges[i];
    if (r.size == 0 || r.base % efi::kPageSize != 0 || r.size % efi::kPageSize != 0) {
      throw std::invalid_argument("efi: memory map range empty or not page aligned");
    }
    const std::size_t at = i * efi::kMemoryDescriptorSize;
    put_le(b, at + efi::memdesc::kType, r.type, 4);
    put_le(b, at + efi::memdesc::kPhysicalStart, r.base, 8);
    put_le(b, at + efi::memdesc::kVirtualStart, 0, 8);
    put_le(b, at + efi::memdesc::kNumberOfPages, r.size / efi::kPageSize, 8);
    put_le(b, at + efi::memdesc::kAttribute, r.attribute, 8);
  }
  return b;
}

}  // namespace softsynic::devices
