// The arm64 Image loader (emu/arm64/linux_boot.h) on synthetic Images: the
// header, where each piece lands in RAM, the EFI memory map and /chosen
// agreeing with that, and the entry state booting.rst asks for.
#include <doctest/doctest.h>

#include <vector>

#include "emu/arm64/linux_boot.h"
#include "tests/linux/table_bytes.h"

using namespace softsynic::emu;
using namespace softsynic::emu::arm64;
using softsynic::test::le;

namespace {

constexpr std::uint64_t kRam = 0x4000'0000, kRamBytes = 128ull << 20;

std::vector<std::uint8_t> image(std::uint64_t text_offset, std::uint64_t image_size, ImageFlags flags,
                                std::size_t file_size = 0x1000) {
  std::vector<std::uint8_t> b(file_size, 0xAA);
  auto put = [&](std::size_t at, std::uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  put(8, text_offset, 8);
  put(16, image_size, 8);
  put(24, flags.raw(), 8);
  put(56, 0x644D'5241, 4);  // "ARM\x64"
  return b;
}

const GuestWrite& write_at(const LinuxBootPlan& plan, std::uint64_t gpa) {
  for (const GuestWrite& w : plan.writes) {
    if (w.gpa == gpa) return w;
  }
  FAIL("no write at " << gpa);
  throw;
}

}  // namespace

TEST_CASE("arm64 boot: the Image header's fields and flags") {
  const auto flags = ImageFlags{}.with_page_size_code(1).with_anywhere(true);
  CHECK(flags.raw() == 0xA);
  const ImageHeader h = parse_image_header(image(0, 0x20'0000, flags));
  CHECK(h.text_offset == 0);
  CHECK(h.image_size == 0x20'0000);
  CHECK(h.flags.page_size_code() == 1);
  CHECK(h.flags.anywhere());
  CHECK_FALSE(h.flags.big_endian());
  auto bad_magic = image(0, 0x20'0000, flags);
  bad_magic[56] = 'X';
  CHECK_THROWS_AS(parse_image_header(bad_magic), LinuxBootError);
  CHECK_THROWS_AS(parse_image_header(image(0, 0x20'0000, flags.with_big_endian(true))), LinuxBootError);
  CHECK_THROWS_AS(parse_image_header(image(0, 0, flags)), LinuxBootError);  // before 3.17
  CHECK_THROWS_AS(parse_image_header(std::vector<std::uint8_t>(32)), LinuxBootError);
}

TEST_CASE("arm64 boot: firmware at the start of RAM, the DTB after it, the Image 2 MiB aligned, the initrd at the top") {
  const auto kernel = image(0, 0x80'0000, ImageFlags{}.with_anywhere(true), 0x2000);
  const std::vector<std::uint8_t> initrd(0x1800, 0x55);
  LinuxBootConfig config;
  config.ram_bytes = kRamBytes;
  config.vp_count = 2;
  config.command_line = "console=ttyAMA0";
  config.initrd = initrd;
  const LinuxBootPlan plan = plan_linux_boot(kernel, config);

  CHECK(plan.firmware_gpa == kRam);
  CHECK(plan.firmware_end % 0x1'0000 == 0);
  CHECK(plan.efi_system_table_gpa == kRam);
  CHECK(plan.rsdp_gpa >= kRam);
  CHECK(plan.rsdp_gpa < plan.firmware_end);
  CHECK(plan.dtb_gpa == plan.firmware_end);
  CHECK(plan.dtb_gpa % 8 == 0);
  CHECK(plan.kernel_gpa % (2u << 20) == 0);
  CHECK(plan.kernel_gpa >= plan.dtb_gpa + plan.dtb_size);
  CHECK(plan.kernel_end == plan.kernel_gpa + 0x80'0000);
  CHECK(plan.initrd_end == plan.initrd_gpa + initrd.size());
  CHECK(plan.initrd_gpa % 0x1000 == 0);
  CHECK(plan.initrd_end <= kRam + kRamBytes);
  CHECK(plan.initrd_gpa >= plan.kernel_end);

  const GuestWrite& k = write_at(plan, plan.kernel_gpa);
  CHECK(k.bytes == kernel);
  CHECK(k.zero_fill == 0x80'0000 - kernel.size());  // the rest of image_size, zeroed
  CHECK(write_at(plan, plan.initrd_gpa).bytes == initrd);

  // The system table's ACPI 2.0 entry is the RSDP in the ACPI image.
  const GuestWrite& systab = write_at(plan, plan.efi_system_table_gpa);
  CHECK(le(systab.bytes, 0, 8) == 0x5453'5953'2049'4249ull);
  const std::uint64_t config_table = le(systab.bytes, 112, 8) - kRam;
  CHECK(le(systab.bytes, config_table + 16, 8) == plan.rsdp_gpa);

  // The memory map covers all RAM: the firmware as ACPI_RECLAIM, the rest
  // (kernel, DTB, initrd included) as conventional, both write-back.
  const GuestWrite& map = write_at(plan, plan.efi_memory_map_gpa);
  REQUIRE(map.bytes.size() == plan.efi_memory_map_size);
  REQUIRE(map.bytes.size() == 2 * 48);
  CHECK(le(map.bytes, 0, 4) == 9);
  CHECK(le(map.bytes, 8, 8) == kRam);
  CHECK(le(map.bytes, 24, 8) * 4096 == plan.firmware_end - kRam);
  CHECK(le(map.bytes, 48, 4) == 7);
  CHECK(le(map.bytes, 56, 8) == plan.firmware_end);
  CHECK(le(map.bytes, 56, 8) + le(map.bytes, 72, 8) * 4096 == kRam + kRamBytes);
  CHECK(le(map.bytes, 32, 8) == 8);
  CHECK(le(map.bytes, 80, 8) == 8);
  CHECK(plan.efi_memory_map_gpa + plan.efi_memory_map_size <= plan.rsdp_gpa);  // no overlap with ACPI

  // The DTB is a v17 blob at x0.
  const GuestWrite& dtb = write_at(plan, plan.dtb_gpa);
  CHECK(dtb.bytes.size() == plan.dtb_size);
  CHECK(dtb.bytes[0] == 0xD0);
  CHECK(dtb.bytes[3] == 0xED);

  CHECK(plan.entry.pc == plan.kernel_gpa);
  CHECK(plan.entry.x0 == plan.dtb_gpa);
  CHECK(plan.entry.x1 == 0);
  CHECK(plan.entry.x2 == 0);
  CHECK(plan.entry.x3 == 0);
  CHECK(plan.entry.pstate == 0x3C5);  // EL1h, DAIF masked
  CHECK(plan.entry.mmu_off);
}

TEST_CASE("arm64 boot: text_offset moves the Image within its 2 MiB block") {
  LinuxBootConfig config;
  config.ram_bytes = kRamBytes;
  const LinuxBootPlan plan = plan_linux_boot(image(0x8'0000, 0x40'0000, ImageFlags{}), config);
  CHECK(plan.kernel_gpa % (2u << 20) == 0x8'0000);
  CHECK(plan.entry.pc == plan.kernel_gpa);
  CHECK(plan.initrd_gpa == plan.initrd_end);  // no initrd
}

TEST_CASE("arm64 boot: RAM too small for the Image is refused") {
  LinuxBootConfig config;
  config.ram_bytes = 8ull << 20;
  CHECK_THROWS_AS(plan_linux_boot(image(0, 0x80'0000, ImageFlags{}), config), LinuxBootError);
  config.ram_bytes = 64ull << 20;
  config.ram_base = kRam + 0x1000;  // not 2 MiB aligned
  CHECK_THROWS_AS(plan_linux_boot(image(0, 0x80'0000, ImageFlags{}), config), LinuxBootError);
}
