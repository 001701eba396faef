// The FDT writer and /chosen tree (devices/firmware/fdt_writer.h) and the
// minimal EFI tables (devices/firmware/efi_tables.h), read back the way
// Linux reads them (drivers/firmware/efi/fdtparams.c, efi-init.c, efi.c).
#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "devices/firmware/efi_tables.h"
#include "devices/firmware/fdt_writer.h"
#include "tests/linux/table_bytes.h"

using namespace softsynic::devices;
using namespace softsynic::test;

namespace {

std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}

// A minimal FDT reader for the test: "/node/prop" -> value bytes.
std::map<std::string, std::vector<std::uint8_t>> read_fdt(std::span<const std::uint8_t> dtb) {
  REQUIRE(be32(dtb, 0) == 0xD00DFEED);
  REQUIRE(be32(dtb, 4) == dtb.size());
  const std::size_t structure = be32(dtb, 8), strings = be32(dtb, 12);
  std::map<std::string, std::vector<std::uint8_t>> out;
  std::vector<std::string> path;
  for (std::size_t at = structure;;) {
    const std::uint32_t token = be32(dtb, at);
    at += 4;
    if (token == 1) {
      const std::string name(reinterpret_cast<const char*>(dtb.data() + at));
      path.push_back(name);
      at += (name.size() + 1 + 3) / 4 * 4;
    } else if (token == 2) {
      path.pop_back();
    } else if (token == 3) {
      const std::uint32_t len = be32(dtb, at), nameoff = be32(dtb, at + 4);
      std::string key;
      for (std::size_t i = 1; i < path.size(); ++i) key += "/" + path[i];
      key += "/" + std::string(reinterpret_cast<const char*>(dtb.data() + strings + nameoff));
      out[key] = {dtb.begin() + static_cast<std::ptrdiff_t>(at + 8), dtb.begin() + static_cast<std::ptrdiff_t>(at + 8 + len)};
      at += 8 + (len + 3) / 4 * 4;
    } else {
      REQUIRE(token == 9);
      REQUIRE(path.empty());
      return out;
    }
  }
}

std::uint64_t be(const std::vector<std::uint8_t>& v) {
  std::uint64_t x = 0;
  for (std::uint8_t b : v) x = x << 8 | b;
  return x;
}

}  // namespace

TEST_CASE("fdt: a /chosen tree has a v17 header and the properties Linux's EFI code reads, at their cell sizes") {
  ChosenParams p;
  p.bootargs = "console=ttyAMA0";
  p.initrd_start = 0x4800'0000;
  p.initrd_end = 0x4810'0000;
  p.efi_system_table = 0x4000'0000;
  p.efi_mmap_start = 0x4000'0400;
  p.efi_mmap_size = 96;
  p.efi_mmap_desc_size = 48;
  p.efi_mmap_desc_ver = 1;
  p.efi_secure_boot = 2;
  const std::vector<std::uint8_t> dtb = build_chosen_fdt(p);
  CHECK(be32(dtb, 20) == 17);  // version
  CHECK(be32(dtb, 24) == 16);  // last compatible version
  CHECK(be32(dtb, 16) % 8 == 0);  // the reservation block is 8-byte aligned
  CHECK(le(dtb, be32(dtb, 16), 8) == 0);  // and empty
  const auto props = read_fdt(dtb);
  CHECK(props.size() == 11);  // 2 on the root, bootargs, 2 initrd, 6 linux,uefi-*
  CHECK(be(props.at("/#address-cells")) == 2);
  CHECK(be(props.at("/#size-cells")) == 2);
  CHECK(props.at("/chosen/bootargs") == std::vector<std::uint8_t>{'c', 'o', 'n', 's', 'o', 'l', 'e', '=', 't', 't', 'y',
                                                                 'A', 'M', 'A', '0', 0});
  CHECK(props.at("/chosen/linux,initrd-start").size() == 8);
  CHECK(be(props.at("/chosen/linux,initrd-start")) == 0x4800'0000);
  CHECK(be(props.at("/chosen/linux,initrd-end")) == 0x4810'0000);
  // fdtparams.c takes a 4-byte value as one cell, anything else as 8 bytes.
  CHECK(props.at("/chosen/linux,uefi-system-table").size() == 8);
  CHECK(be(props.at("/chosen/linux,uefi-system-table")) == 0x4000'0000);
  CHECK(props.at("/chosen/linux,uefi-mmap-start").size() == 8);
  CHECK(be(props.at("/chosen/linux,uefi-mmap-start")) == 0x4000'0400);
  CHECK(props.at("/chosen/linux,uefi-mmap-size").size() == 4);
  CHECK(be(props.at("/chosen/linux,uefi-mmap-size")) == 96);
  CHECK(be(props.at("/chosen/linux,uefi-mmap-desc-size")) == 48);
  CHECK(be(props.at("/chosen/linux,uefi-mmap-desc-ver")) == 1);
  CHECK(be(props.at("/chosen/linux,uefi-secure-boot")) == 2);
}

TEST_CASE("fdt: without an initrd /chosen has no initrd properties") {
  const auto props = read_fdt(build_chosen_fdt({.bootargs = ""}));
  CHECK(props.count("/chosen/linux,initrd-start") == 0);
  CHECK(props.count("/chosen/linux,initrd-end") == 0);
  CHECK(props.at("/chosen/bootargs") == std::vector<std::uint8_t>{0});
}

TEST_CASE("fdt: the writer refuses incomplete or malformed trees") {
  FdtWriter w;
  CHECK_THROWS_AS(w.property_u32("x", 1), std::logic_error);
  CHECK_THROWS_AS(w.begin_node("named-root"), std::logic_error);
  w.begin_node("");
  CHECK_THROWS_AS(w.begin_node(""), std::invalid_argument);
  CHECK_THROWS_AS(w.finish(), std::logic_error);
  w.end_node();
  CHECK_THROWS_AS(w.end_node(), std::logic_error);
  CHECK(w.finish().size() > 40);
}

TEST_CASE("efi: the CRC-32 is UEFI's (the IEEE 802.3 check value)") {
  const std::string check = "123456789";
  CHECK(efi_crc32(std::span(reinterpret_cast<const std::uint8_t*>(check.data()), check.size())) == 0xCBF4'3926u);
}

TEST_CASE("efi: the system table points at the ACPI 2.0 RSDP and says no runtime service is supported") {
  constexpr std::uint64_t kBase = 0x4000'0000, kRsdp = 0x4000'1000;
  const EfiTables t = build_efi_system_table(kBase, kRsdp);
  const std::span<const std::uint8_t> b = t.bytes;
  CHECK(t.system_table_gpa == kBase);
  CHECK(text(b, 0, 8) == "IBI SYST");
  CHECK((le(b, 8, 4) >> 16) == 2);               // Linux warns below 2.x
  CHECK(le(b, 12, 4) == 120);                    // header size
  std::vector<std::uint8_t> header(b.begin(), b.begin() + 120);
  for (int i = 16; i < 20; ++i) header[static_cast<std::size_t>(i)] = 0;
  CHECK(le(b, 16, 4) == efi_crc32(header));      // CRC over HeaderSize bytes, CRC field 0
  CHECK(le(b, 88, 8) == 0);                      // RuntimeServices
  CHECK(le(b, 96, 8) == 0);                      // BootServices
  const std::uint64_t vendor = le(b, 24, 8) - kBase;
  CHECK(text(b, vendor, 18) == std::string("s\0o\0f\0t\0s\0y\0n\0i\0c", 17) + '\0');
  CHECK(le(b, vendor + 18, 2) == 0);             // UTF-16 NUL
  REQUIRE(le(b, 104, 8) == 2);                   // two configuration tables
  const std::uint64_t config = le(b, 112, 8) - kBase;
  const std::vector<std::uint8_t> acpi20{0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
                                         0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81};
  CHECK(std::vector<std::uint8_t>(b.begin() + static_cast<std::ptrdiff_t>(config),
                                  b.begin() + static_cast<std::ptrdiff_t>(config + 16)) == acpi20);
  CHECK(le(b, config + 16, 8) == kRsdp);
  const std::vector<std::uint8_t> rt_prop{0x8a, 0x91, 0x66, 0xeb, 0xef, 0x7e, 0x2a, 0x40,
                                          0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3, 0x8a, 0xe9};
  CHECK(std::vector<std::uint8_t>(b.begin() + static_cast<std::ptrdiff_t>(config + 24),
                                  b.begin() + static_cast<std::ptrdiff_t>(config + 40)) == rt_prop);
  const std::uint64_t props = le(b, config + 40, 8) - kBase;
  CHECK(le(b, props, 2) == 1);                   // version
  CHECK(le(b, props + 2, 2) == 8);               // length
  CHECK(le(b, props + 4, 4) == 0);               // RuntimeServicesSupported: none
  CHECK_THROWS_AS(build_efi_system_table(kBase + 4, kRsdp), std::invalid_argument);
}

TEST_CASE("efi: the memory map holds version-1 descriptors at a 48-byte stride") {
  const EfiMemoryRange ranges[] = {{efi::kAcpiReclaimMemory, 0x4000'0000, 0x1'0000, efi::kMemoryWb},
                                   {efi::kConventionalMemory, 0x4001'0000, 0x7FF'0000, efi::kMemoryWb}};
  const std::vector<std::uint8_t> map = build_efi_memory_map(ranges);
  REQUIRE(map.size() == 96);
  CHECK(le(map, 0, 4) == 9);                     // EfiACPIReclaimMemory
  CHECK(le(map, 8, 8) == 0x4000'0000);
  CHECK(le(map, 24, 8) == 16);                   // pages
  CHECK(le(map, 32, 8) == 0x8);                  // EFI_MEMORY_WB
  CHECK(le(map, 48, 4) == 7);                    // EfiConventionalMemory
  CHECK(le(map, 56, 8) == 0x4001'0000);
  CHECK(le(map, 72, 8) == 0x7FF'0000 / 4096);
  const EfiMemoryRange odd[] = {{efi::kConventionalMemory, 0x4000'0800, 0x1000, efi::kMemoryWb}};
  CHECK_THROWS_AS(build_efi_memory_map(odd), std::invalid_argument);
}
