// The shared ACPI image building blocks: see devices/acpi/acpi_image.h.
#include "devices/acpi/acpi_image.h"

#include <cstring>
#include <numeric>
#include <stdexcept>

#include "devices/acpi/acpi_defs.h"

namespace softsynic::devices {

std::uint8_t acpi_checksum(std::span<const std::uint8_t> bytes) {
  const unsigned sum = std::accumulate(bytes.begin(), bytes.end(), 0u);
  return static_cast<std::uint8_t>(0x100 - (sum & 0xFF));
}

std::span<const std::uint8_t> AcpiTables::table(std::string_view signature) const {
  for (const AcpiTableRef& t : tables) {
    if (t.signature == signature) return std::span(bytes).subspan(t.offset, t.length);
  }
  throw std::out_of_range("acpi: no table " + std::string(signature));
}

namespace acpi {
namespace {
constexpr std::uint64_t kMaxImageSize = 1ull << 20;
}

void put_le(Bytes& b, std::size_t offset, std::uint64_t value, unsigned size) {
  for (unsigned i = 0; i < size; ++i) b.at(offset + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

void put_chars(Bytes& b, std::size_t offset, std::string_view text) {
  if (offset + text.size() > b.size()) throw std::out_of_range("acpi: text past the end of a table");
  std::memcpy(b.data() + offset, text.data(), text.size());
}

void put_gas(Bytes& b, std::size_t offset, std::uint8_t space, std::uint8_t bits, std::uint8_t access,
             std::uint64_t address) {
  b.at(offset) = space;
  b.at(offset + 1) = bits;
  b.at(offset + 2) = 0;  // bit offset
  b.at(offset + 3) = access;
  put_le(b, offset + 4, address, 8);
}

Bytes new_table(std::string_view signature, std::size_t length, std::uint8_t revision) {
  Bytes t(length, 0);
  put_chars(t, header::kSignature, signature);
  put_le(t, header::kLength, length, 4);
  t[header::kRevision] = revision;
  put_chars(t, header::kOemId, kOemId);
  put_chars(t, header::kOemTableId, kOemTableId);
  put_le(t, header::kOemRevision, kOemRevision, 4);
  put_chars(t, header::kCreatorId, kCreatorId);
  put_le(t, header::kCreatorRevision, kCreatorRevision, 4);
  return t;
}

void finish_table(Bytes& table) {
  table[header::kChecksum] = 0;
  table[header::kChecksum] = acpi_checksum(table);
}

Bytes build_dsdt(const Bytes& aml_code) {
  Bytes t = new_table(kDsdtSignature, kHeaderLength + aml_code.size(), kDsdtRevision);
  std::memcpy(t.data() + kHeaderLength, aml_code.data(), aml_code.size());
  finish_table(t);
  return t;
}

Bytes build_xsdt(const std::vector<std::uint64_t>& entries) {
  Bytes t = new_table(kXsdtSignature, kHeaderLength + 8 * entries.size(), kXsdtRevision);
  for (std::size_t i = 0; i < entries.size(); ++i) put_le(t, kHeaderLength + 8 * i, entries[i], 8);
  finish_table(t);
  return t;
}

Bytes build_rsdp(std::uint64_t xsdt_gpa) {
  Bytes r(kRsdpLength, 0);
  put_chars(r, 0, kRsdpSignature);
  put_chars(r, rsdp::kOemId, kOemId);
  r[rsdp::kRevision] = kRsdpRevision;
  put_le(r, rsdp::kRsdtAddress, 0, 4);  // no RSDT
  put_le(r, rsdp::kLength, kRsdpLength, 4);
  put_le(r, rsdp::kXsdtAddress, xsdt_gpa, 8);
  r[rsdp::kChecksum] = acpi_checksum(std::span(r).first(kRsdpV1ChecksumLength));
  r[rsdp::kExtendedChecksum] = acpi_checksum(r);
  return r;
}

ImageLayout::ImageLayout(std::uint64_t base_gpa) : base_(base_gpa) {
  if (base_gpa % kRsdpAlignment != 0) throw std::invalid_argument("acpi: table base must be 16-byte aligned");
  // The image is a few KiB; a base this close to the top would wrap.
  if (base_gpa > ~std::uint64_t{0} - kMaxImageSize) throw std::invalid_argument("acpi: tables pass the end of the address space");
  out_.base_gpa = base_gpa;
}

std::size_t ImageLayout::reserve(std::size_t size, std::size_t alignment) {
  const std::uint64_t next = base_ + end_;
  const std::size_t offset = static_cast<std::size_t>((next + alignment - 1) / alignment * alignment - base_);
  end_ = offset + size;
  if (end_ > kMaxImageSize) throw std::invalid_argument("acpi: image larger than 1 MiB");
  return offset;
}

void ImageLayout::place(std::string_view signature, std::size_t offset, const Bytes& table) {
  if (out_.bytes.size() < end_) out_.bytes.resize(end_, 0);
  if (offset + table.size() > end_) throw std::logic_error("acpi: table placed past its reservation");
  std::memcpy(out_.bytes.data() + offset, table.data(), table.size());
  out_.tables.push_back({std::string(signature), gpa(offset), offset, table.size()});
}

AcpiTables ImageLayout::finish(std::size_t rsdp_offset) && {
  out_.bytes.resize(end_, 0);
  out_.rsdp_gpa = gpa(rsdp_offset);
  return std::move(out_);
}

}  // namespace acpi
}  // namespace softsynic::devices
