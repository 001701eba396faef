// An ACPI table image: the tables a platform generates at run time, laid
// out one after the other in one byte image placed at a guest-physical
// address, and the building blocks every platform's builder shares (ACPI
// 6.3: 5.2.5.3 RSDP, 5.2.6 table header and checksum, 5.2.8 XSDT, 5.2.3.2
// Generic Address Structure). Numbers: devices/acpi/acpi_defs.h.
// Builders: devices/pc/acpi_tables.h, devices/arm64/acpi_tables.h.
// Not supported: an RSDT (the RSDP's RSDT address is 0, so `acpi=rsdt`
// finds no tables), images of more than 1 MiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace softsynic::devices {

// One table inside the image.
struct AcpiTableRef {
  std::string signature;  // "RSD PTR " for the RSDP
  std::uint64_t gpa = 0;
  std::size_t offset = 0;  // in AcpiTables::bytes
  std::size_t length = 0;
};

struct AcpiTables {
  std::uint64_t base_gpa = 0;
  std::uint64_t rsdp_gpa = 0;
  std::vector<std::uint8_t> bytes;  // to be written at base_gpa
  std::vector<AcpiTableRef> tables;  // in image order

  // The bytes of the table with `signature`; throws std::out_of_range if
  // there is none.
  std::span<const std::uint8_t> table(std::string_view signature) const;
};

// The byte that makes `bytes` sum to 0 modulo 256, given that the checksum
// byte itself is counted as 0.
std::uint8_t acpi_checksum(std::span<const std::uint8_t> bytes);

namespace acpi {

using Bytes = std::vector<std::uint8_t>;

// Little-endian `value` in `size` bytes at `offset`; text without its NUL.
void put_le(Bytes& b, std::size_t offset, std::uint64_t value, unsigned size);
void put_chars(Bytes& b, std::size_t offset, std::string_view text);
// A Generic Address Structure: `bits` wide at `address` in `space`.
void put_gas(Bytes& b, std::size_t offset, std::uint8_t space, std::uint8_t bits, std::uint8_t access,
             std::uint64_t address);

// A table of `length` bytes with its header filled in (our OEM and creator
// identity); finish_table sets the checksum once the body is complete.
Bytes new_table(std::string_view signature, std::size_t length, std::uint8_t revision);
void finish_table(Bytes& table);

// A DSDT holding `aml_code`.
Bytes build_dsdt(const Bytes& aml_code);
Bytes build_xsdt(const std::vector<std::uint64_t>& entries);
// Revision 2, no RSDT, both checksums.
Bytes build_rsdp(std::uint64_t xsdt_gpa);

// Lays tables out one after the other, each at its alignment relative to
// the guest-physical base, and copies them into an AcpiTables. Reserve
// every table first (their addresses go into the XSDT and FADT), then
// place them. The constructor throws std::invalid_argument for a base
// that is not 16-byte aligned (the RSDP's alignment) or so close to the
// end of the address space that the image would wrap.
class ImageLayout {
 public:
  static constexpr std::size_t kTableAlignment = 8;

  explicit ImageLayout(std::uint64_t base_gpa);
  // Reserves room for `size` bytes; returns the offset.
  std::size_t reserve(std::size_t size, std::size_t alignment = kTableAlignment);
  std::uint64_t gpa(std::size_t offset) const { return base_ + offset; }
  // Copies `table` to its reserved `offset` and lists it under `signature`.
  void place(std::string_view signature, std::size_t offset, const Bytes& table);
  // The image; `rsdp_offset` is where the RSDP was placed.
  AcpiTables finish(std::size_t rsdp_offset) &&;

 private:
  std::uint64_t base_;
  std::size_t end_ = 0;
  AcpiTables out_;
};

}  // namespace acpi
}  // namespace softsynic::devices
