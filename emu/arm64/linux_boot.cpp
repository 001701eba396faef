// parse_image_header and plan_linux_boot for arm64: see linux_boot.h.
#include "emu/arm64/linux_boot.h"

#include <string>

#include "devices/firmware/efi_tables.h"
#include "devices/firmware/fdt_writer.h"
#include "emu/arm64/firmware_config.h"

namespace softsynic::emu::arm64 {
namespace {

constexpr std::size_t kHeaderSize = 64;
constexpr std::size_t kTextOffsetAt = 8, kImageSizeAt = 16, kFlagsAt = 24, kMagicAt = 56;
constexpr std::uint32_t kMagic = 0x644D'5241;  // "ARM\x64" little-endian
constexpr std::uint64_t k2MiB = 2ull << 20;
constexpr std::uint64_t k64KiB = 0x1'0000;
constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kMemoryMapOffset = 0x400;  // after the EFI system table and its tables
constexpr std::uint64_t kAcpiOffset = 0x1000;
constexpr std::uint64_t kMaxDtbSize = k2MiB;       // booting.rst
constexpr std::uint32_t kSecureBootDisabled = 2;   // Linux's efi_secureboot_mode_disabled

std::uint64_t le(std::span<const std::uint8_t> b, std::size_t at, unsigned size) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}

constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

ImageHeader parse_image_header(std::span<const std::uint8_t> image) {
  if (image.size() < kHeaderSize || le(image, kMagicAt, 4) != kMagic) {
    throw LinuxBootError("arm64 Linux boot: not an arm64 Image (no \"ARM\\x64\" magic at 0x38)");
  }
  ImageHeader h{le(image, kTextOffsetAt, 8), le(image, kImageSizeAt, 8), ImageFlags(le(image, kFlagsAt, 8))};
  if (h.flags.big_endian()) throw LinuxBootError("arm64 Linux boot: a big-endian kernel");
  if (h.image_size == 0) throw LinuxBootError("arm64 Linux boot: image_size 0 (a kernel before 3.17)");
  if (h.image_size < image.size()) throw LinuxBootError("arm64 Linux boot: image_size smaller than the Image file");
  if (h.text_offset % kPage != 0 || h.text_offset >= k2MiB) throw LinuxBootError("arm64 Linux boot: bad text_offset");
  return h;
}

LinuxBootPlan plan_linux_boot(std::span<const std::uint8_t> image, const LinuxBootConfig& config) {
  LinuxBootPlan plan;
  plan.header = parse_image_header(image);
  const std::uint64_t ram = config.ram_base, ram_end = config.ram_base + config.ram_bytes;
  if (ram % k2MiB != 0 || config.ram_bytes % kPage != 0 || ram_end < ram) {
    throw LinuxBootError("arm64 Linux boot: RAM must start 2 MiB aligned and be whole pages");
  }

  // Firmware: ACPI first (the EFI configuration table points at its RSDP).
  auto acpi_config = virt_acpi_config(config.vp_count);
  acpi_config.vmbus_mmio = config.vmbus_mmio;
  const devices::AcpiTables acpi = devices::build_arm64_acpi(acpi_config, ram + kAcpiOffset);
  const devices::EfiTables efi = devices::build_efi_system_table(ram, acpi.rsdp_gpa);
  plan.firmware_gpa = ram;
  plan.firmware_end = ram + align_up(kAcpiOffset + acpi.bytes.size(), k64KiB);
  const devices::EfiMemoryRange ranges[] = {
      {devices::efi::kAcpiReclaimMemory, plan.firmware_gpa, plan.firmware_end - plan.firmware_gpa, devices::efi::kMemoryWb},
      {devices::efi::kConventionalMemory, plan.firmware_end, ram_end - plan.firmware_end, devices::efi::kMemoryWb},
  };
  if (efi.bytes.size() > kMemoryMapOffset || ram_end <= plan.firmware_end) {
    throw LinuxBootError("arm64 Linux boot: RAM too small for the firmware tables");
  }
  const std::vector<std::uint8_t> memory_map = devices::build_efi_memory_map(ranges);
  plan.efi_system_table_gpa = efi.system_table_gpa;
  plan.efi_memory_map_gpa = ram + kMemoryMapOffset;
  plan.efi_memory_map_size = static_cast<std::uint32_t>(memory_map.size());
  plan.rsdp_gpa = acpi.rsdp_gpa;

  // The initrd at the top of RAM; its place goes into the DTB.
  if (!config.initrd.empty()) {
    if (config.initrd.size() > config.ram_bytes) throw LinuxBootError("arm64 Linux boot: the initrd does not fit in RAM");
    plan.initrd_gpa = (ram_end - config.initrd.size()) / kPage * kPage;
    plan.initrd_end = plan.initrd_gpa + config.initrd.size();
  }

  const std::vector<std::uint8_t> dtb = devices::build_chosen_fdt({
      .bootargs = config.command_line,
      .initrd_start = plan.initrd_gpa,
      .initrd_end = plan.initrd_end,
      .efi_system_table = plan.efi_system_table_gpa,
      .efi_mmap_start = plan.efi_memory_map_gpa,
      .efi_mmap_size = plan.efi_memory_map_size,
      .efi_mmap_desc_size = static_cast<std::uint32_t>(devices::efi::kMemoryDescriptorSize),
      .efi_mmap_desc_ver = devices::efi::kMemoryDescriptorVersion,
      .efi_secure_boot = kSecureBootDisabled,
  });
  if (dtb.size() > kMaxDtbSize) throw LinuxBootError("arm64 Linux boot: the DTB is over 2 MiB (command line too long?)");
  plan.dtb_gpa = plan.firmware_end;  // 64 KiB aligned, beyond the 8 bytes booting.rst asks
  plan.dtb_size = dtb.size();

  plan.kernel_gpa = align_up(plan.dtb_gpa + plan.dtb_size, k2MiB) + plan.header.text_offset;
  plan.kernel_end = plan.kernel_gpa + plan.header.image_size;
  const std::uint64_t kernel_limit = plan.initrd_end > plan.initrd_gpa ? plan.initrd_gpa : ram_end;
  if (plan.kernel_end > kernel_limit) {
    throw LinuxBootError("arm64 Linux boot: " + std::to_string(config.ram_bytes >> 20) +
                         " MiB of RAM do not hold the firmware, the kernel and the initrd");
  }

  plan.writes.push_back({plan.efi_system_table_gpa, efi.bytes, 0});
  plan.writes.push_back({plan.efi_memory_map_gpa, memory_map, 0});
  plan.writes.push_back({acpi.base_gpa, acpi.bytes, 0});
  plan.writes.push_back({plan.dtb_gpa, dtb, 0});
  // image_size covers the bss too: hand it over zeroed.
  plan.writes.push_back({plan.kernel_gpa, {image.begin(), image.end()}, plan.header.image_size - image.size()});
  if (!config.initrd.empty()) plan.writes.push_back({plan.initrd_gpa, {config.initrd.begin(), config.initrd.end()}, 0});

  plan.entry.pc = plan.kernel_gpa;
  plan.entry.x0 = plan.dtb_gpa;
  return plan;
}

}  // namespace softsynic::emu::arm64
