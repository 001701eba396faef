// Booting an arm64 Linux Image on the virt machine, as a plan over bytes
// (Linux's Documentation/arm64/booting.rst, "Booting AArch64 Linux"): the
// caller gives the Image and the machine's facts; the loader returns the
// guest-physical writes (emu/guest_writes.h: apply_guest_writes puts them
// in RAM) and the CPU state to enter. Everything Linux needs at entry is
// generated here: the ACPI tables (devices/arm64/acpi_tables.h through
// emu/arm64/firmware_config.h), the minimal EFI system table and memory
// map (devices/firmware/efi_tables.h) and a DTB holding only /chosen
// (devices/firmware/fdt_writer.h), so a plain command line such as
// "console=ttyAMA0" boots to ACPI, the PL011 and VMBus.
//
// RAM layout from ram_base (B), all inside RAM:
//   [B, B+F)        firmware, EFI ACPI_RECLAIM|WB in the memory map (Linux
//                   maps it but never allocates from it): the EFI system
//                   table and its configuration tables at B, the memory
//                   map at B + 0x400, the ACPI tables from B + 0x1000 (RSDP
//                   first); F rounded up to 64 KiB
//   [B+F, ...)      the DTB (Linux reserves it itself)
//   next 2 MiB boundary + text_offset: the Image, image_size bytes (bss
//                   included)
//   top of RAM      the initrd, 4 KiB aligned, when there is one
// The memory map: the firmware region, then the rest of RAM as
// CONVENTIONAL|WB (kernel, DTB and initrd included, as UEFI would leave
// them). MMIO is not listed.
// Entry (booting.rst): PC = the Image's first byte, x0 = the DTB, x1-x3 =
// 0, EL1h with D, A, I and F masked, MMU and data cache off.
// Errors (not an arm64 Image, a big-endian kernel, image_size 0, RAM too
// small, a DTB over 2 MiB) throw LinuxBootError naming the problem.
// Not supported: kernels before 3.17 (image_size 0), compressed
// Image.gz, placement at the start of RAM for kernels without the "anywhere"
// flag (they still get B + 2 MiB or more, which such kernels handle at the
// cost of the memory below), RAM above the 48-bit physical range, KASLR
// seeds.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "devices/arm64/acpi_tables.h"
#include "emu/arm64/platform.h"
#include "emu/guest_writes.h"

namespace softsynic::emu::arm64 {

// The Image header's flags field (booting.rst).
class ImageFlags {
 public:
  constexpr ImageFlags() = default;
  constexpr explicit ImageFlags(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool big_endian() const { return (raw_ & 1) != 0; }
  // 0 unspecified, 1 4 KiB, 2 16 KiB, 3 64 KiB.
  constexpr unsigned page_size_code() const { return static_cast<unsigned>(raw_ >> 1 & 3); }
  // Set: the Image may sit anywhere in RAM; clear: as low as possible.
  constexpr bool anywhere() const { return (raw_ >> 3 & 1) != 0; }
  constexpr ImageFlags with_big_endian(bool v) const { return ImageFlags((raw_ & ~1ull) | std::uint64_t{v}); }
  constexpr ImageFlags with_page_size_code(unsigned code) const {
    return ImageFlags((raw_ & ~(3ull << 1)) | (std::uint64_t{code & 3} << 1));
  }
  constexpr ImageFlags with_anywhere(bool v) const { return ImageFlags((raw_ & ~(1ull << 3)) | (std::uint64_t{v} << 3)); }

 private:
  std::uint64_t raw_ = 0;
};

struct ImageHeader {
  std::uint64_t text_offset = 0;
  std::uint64_t image_size = 0;  // bytes from the load address the kernel uses, bss included
  ImageFlags flags;
};

// The header of an arm64 Image (64 bytes, magic "ARM\x64" at 0x38).
ImageHeader parse_image_header(std::span<const std::uint8_t> image);

struct LinuxBootConfig {
  std::uint64_t ram_base = kRamBase;
  std::uint64_t ram_bytes = 0;
  std::uint32_t vp_count = 1;
  std::string command_line;
  std::span<const std::uint8_t> initrd;  // empty: none; read during the call only
  std::optional<devices::Arm64AcpiConfig::Range> vmbus_mmio;  // into \_SB.VMOD's _CRS
};

// The CPU state to enter the kernel with.
struct EntryState {
  std::uint64_t pc = 0;
  std::uint64_t x0 = 0;  // the DTB
  std::uint64_t x1 = 0, x2 = 0, x3 = 0;
  static constexpr std::uint64_t kPstateEl1hDaifMasked = 0x3C5;  // M = EL1h, D A I F set
  std::uint64_t pstate = kPstateEl1hDaifMasked;
  bool mmu_off = true;  // SCTLR_EL1.M = 0 (and C = 0)
};

struct LinuxBootPlan {
  EntryState entry;
  ImageHeader header;
  std::uint64_t kernel_gpa = 0, kernel_end = 0;   // [load address, + image_size)
  std::uint64_t firmware_gpa = 0, firmware_end = 0;  // the ACPI_RECLAIM region
  std::uint64_t efi_system_table_gpa = 0;
  std::uint64_t efi_memory_map_gpa = 0;
  std::uint32_t efi_memory_map_size = 0;
  std::uint64_t rsdp_gpa = 0;
  std::uint64_t dtb_gpa = 0, dtb_size = 0;
  std::uint64_t initrd_gpa = 0, initrd_end = 0;   // equal: none
  std::vector<GuestWrite> writes;
};

LinuxBootPlan plan_linux_boot(std::span<const std::uint8_t> image, const LinuxBootConfig& config);

}  // namespace softsynic::emu::arm64
