// The FDT writer: see devices/firmware/fdt_writer.h.
#include "devices/firmware/fdt_writer.h"

#include <stdexcept>

namespace softsynic::devices {
namespace {

constexpr std::uint32_t kMagic = 0xD00D'FEED;
constexpr std::uint32_t kVersion = 17, kLastCompatibleVersion = 16;
constexpr std::uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kEnd = 9;
constexpr std::size_t kHeaderSize = 40;
constexpr std::size_t kReserveEntrySize = 16;  // address, size; one all-zero entry ends the list

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void pad4(std::vector<std::uint8_t>& out) {
  while (out.size() % 4 != 0) out.push_back(0);
}

}  // namespace

void FdtWriter::token(std::uint32_t value) { put_be32(structure_, value); }

std::uint32_t FdtWriter::string_offset(std::string_view name) {
  // Reuse a name already in the block (as a whole string).
  for (std::size_t at = 0; at < strings_.size(); at = strings_.find('\0', at) + 1) {
    if (std::string_view(strings_.c_str() + at) == name) return static_cast<std::uint32_t>(at);
  }
  const std::size_t at = strings_.size();
  strings_.append(name);
  strings_.push_back('\0');
  return static_cast<std::uint32_t>(at);
}

void FdtWriter::begin_node(std::string_view name) {
  if (root_done_) throw std::logic_error("fdt: a node after the root ended");
  if (depth_ == 0 && !name.empty()) throw std::logic_error("fdt: the root node has an empty name");
  if (depth_ > 0 && name.empty()) throw std::invalid_argument("fdt: a child node needs a name");
  if (name.find('\0') != std::string_view::npos) throw std::invalid_argument("fdt: NUL in a node name");
  token(kBeginNode);
  structure_.insert(structure_.end(), name.begin(), name.end());
  structure_.push_back(0);
  pad4(structure_);
  ++depth_;
}

void FdtWriter::end_node() {
  if (depth_ == 0) throw std::logic_error("fdt: end_node without an open node");
  token(kEndNode);
  if (--depth_ == 0) root_done_ = true;
}

void FdtWriter::property(std::string_view name, std::span<const std::uint8_t> value) {
  if (depth_ == 0) throw std::logic_error("fdt: a property outside any node");
  if (name.empty() || name.find('\0') != std::string_view::npos) throw std::invalid_argument("fdt: bad property name");
  token(kProp);
  put_be32(structure_, static_cast<std::uint32_t>(value.size()));
  put_be32(structure_, string_offset(name));
  structure_.insert(structure_.end(), value.begin(), value.end());
  pad4(structure_);
}

void FdtWriter::property_u32(std::string_view name, std::uint32_t value) {
  std::vector<std::uint8_t> cell;
  put_be32(cell, value);
  property(name, cell);
}

void FdtWriter::property_u64(std::string_view name, std::uint64_t value) {
  std::vector<std::uint8_t> cells;
  put_be32(cells, static_cast<std::uint32_t>(value >> 32));
  put_be32(cells, static_cast<std::uint32_t>(value));
  property(name, cells);
}

void FdtWriter::property_string(std::string_view name, std::string_view value) {
  if (value.find('\0') != std::string_view::npos) throw std::invalid_argument("fdt: NUL inside a string property");
  std::vector<std::uint8_t> bytes(value.begin(), value.end());
  bytes.push_back(0);
  property(name, bytes);
}

std::vector<std::uint8_t> FdtWriter::finish() const {
  if (!root_done_ || depth_ != 0) throw std::logic_error("fdt: the tree is not complete");
  const std::size_t rsvmap_off = kHeaderSize;  // 8-byte aligned, as the format wants
  const std::size_t struct_off = rsvmap_off + kReserveEntrySize;
  const std::size_t struct_size = structure_.size() + 4;  // with FDT_END
  const std::size_t strings_off = struct_off + struct_size;
  const std::size_t total = strings_off + strings_.size();

  std::vector<std::uint8_t> out;
  out.reserve(total);
  for (std::uint32_t v : {kMagic, static_cast<std::uint32_t>(total), static_cast<std::uint32_t>(struct_off),
                          static_cast<std::uint32_t>(strings_off), static_cast<std::uint32_t>(rsvmap_off), kVersion,
                          kLastCompatibleVersion, 0u /* boot CPU */, static_cast<std::uint32_t>(strings_.size()),
                          static_cast<std::uint32_t>(struct_size)}) {
    put_be32(out, v);
  }
  out.resize(out.size() + kReserveEntrySize, 0);
  out.insert(out.end(), structure_.begin(), structure_.end());
  put_be32(out, kEnd);
  out.insert(out.end(), strings_.begin(), strings_.end());
  return out;
}

std::vector<std::uint8_t> build_chosen_fdt(const ChosenParams& params) {
  FdtWriter w;
  w.begin_node("");
  w.property_u32("#address-cells", 2);
  w.property_u32("#size-cells", 2);
  w.begin_node("chosen");
  w.property_string("bootargs", params.bootargs);
  if (params.initrd_end > params.initrd_start) {
    w.property_u64("linux,initrd-start", params.initrd_start);
    w.property_u64("linux,initrd-end", params.initrd_end);
  }
  w.property_u64("linux,uefi-system-table", params.efi_system_table);
  w.property_u64("linux,uefi-mmap-start", params.efi_mmap_start);
  w.property_u32("linux,uefi-mmap-size", params.efi_mmap_size);
  w.property_u32("linux,uefi-mmap-desc-size", params.efi_mmap_desc_size);
  w.property_u32("linux,uefi-mmap-desc-ver", params.efi_mmap_desc_ver);
  w.property_u32("linux,uefi-secure-boot", params.efi_secure_boot);
  w.end_node();
  w.end_node();
  return w.finish();
}

}  // namespace softsynic::devices
