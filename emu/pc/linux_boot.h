// Linux boot-protocol loading for the pc platform, as a plan over bytes:
// the caller gives the kernel file and the machine's facts, the loader
// returns the guest-physical writes, the e820 map and the CPU state to
// enter, and applies nothing itself (apply_linux_boot_plan writes the plan
// into guest RAM). Numbers: linux_boot_defs.h.
//
// Two kinds of kernel file:
//  - a bzImage (Documentation/x86/boot.rst, protocol 2.12 or later, with
//    XLF_KERNEL_64): the protected-mode kernel (the file past the
//    setup_sects+1 real-mode sectors) loads at pref_address (else
//    0x100000), boot_params holds the setup header copied from the file,
//    type_of_loader 0xFF, cmd_line_ptr, the initrd, the e820 map and
//    acpi_rsdp_addr; entry in 64-bit mode at the load address + 0x200
//    with RSI = boot_params, a GDT with __BOOT_CS 0x10 / __BOOT_DS 0x18
//    and identity page tables of the low 4 GiB (2 MiB pages), all written
//    by the loader;
//  - an uncompressed ELF64 vmlinux with the PVH entry note (Xen note type
//    18, XEN_ELFNOTE_PHYS32_ENTRY): PT_LOAD segments at their physical
//    addresses, hvm_start_info version 1 (command line, RSDP, memory map,
//    the initrd as module 0); entry in flat 32-bit protected mode, paging
//    off, EBX = hvm_start_info.
// Loader structures live at fixed low addresses (kLinuxBootArea, below
// 0x30000), clear of the runner's own boot tables below 0x8000 and of the
// legacy BIOS hole; the initrd goes at the top of RAM (below 4 GiB and the
// kernel's initrd_addr_max).
// Errors (not a kernel, protocol too old, no 64-bit entry, no PVH note, a
// truncated file, a kernel or initrd that does not fit in RAM, a command
// line too long) throw LinuxBootError with a message naming the problem.
// Not supported: 32-bit and 16-bit boot protocol entries, the EFI
// handover, setup_data, KASLR placement, RAM above 4 GiB, more than one
// initrd, ELF32 kernels.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "emu/guest_writes.h"
#include "emu/pc/e820.h"

namespace softsynic {
class GuestMemory;
}

namespace softsynic::emu {

// Where the loader puts its own structures.
struct LinuxBootArea {
  std::uint64_t boot_params = 0x1'0000;  // zero page, 4 KiB
  std::uint64_t gdt = 0x1'1000;
  std::uint64_t pml4 = 0x1'2000;         // then PDPT at +0x1000 and 4 page directories
  std::uint64_t start_info = 0x1'8000;   // hvm_start_info, module list, memory map (PVH)
  std::uint64_t cmdline = 0x2'0000;
  std::uint64_t cmdline_capacity = 0x1'0000;
};
inline constexpr LinuxBootArea kLinuxBootArea{};

struct LinuxBootConfig {
  std::uint64_t ram_bytes = 0;            // RAM is [0, ram_bytes)
  std::string command_line;
  std::span<const std::uint8_t> initrd;   // empty: none; read during the call only
  std::uint64_t rsdp_gpa = 0;             // 0: none given (Linux then scans for it)
  std::vector<E820Entry> carve_outs;      // e.g. the ACPI tables (kAcpi); the legacy BIOS hole is always added
  LinuxBootArea area = kLinuxBootArea;
};

enum class LinuxEntryMode { kLong64, kProtected32 };
enum class LinuxKernelFormat { kBzImage, kPvhElf };

struct LinuxBootPlan {
  LinuxKernelFormat format = LinuxKernelFormat::kBzImage;
  LinuxEntryMode mode = LinuxEntryMode::kLong64;
  std::uint64_t entry = 0;
  std::uint64_t rsi = 0;  // kLong64: boot_params
  std::uint32_t ebx = 0;  // kProtected32: hvm_start_info
  // kLong64 only: the tables the loader wrote.
  std::uint64_t cr3 = 0;
  std::uint64_t gdt_base = 0;
  std::uint16_t gdt_limit = 0;
  std::uint16_t code_selector = 0;
  std::uint16_t data_selector = 0;
  std::uint16_t protocol = 0;  // bzImage boot protocol version (0x020F is 2.15)
  std::uint64_t kernel_low = 0, kernel_high = 0;  // what the kernel occupies, init_size or bss included
  std::uint64_t initrd_gpa = 0;
  std::vector<E820Entry> e820;
  std::vector<GuestWrite> writes;
};

LinuxBootPlan plan_linux_boot(std::span<const std::uint8_t> kernel, const LinuxBootConfig& config);

// Writes every GuestWrite into `ram`; throws LinuxBootError when a range
// is not RAM.
void apply_linux_boot_plan(const LinuxBootPlan& plan, GuestMemory& ram);

}  // namespace softsynic::emu
