// The pc platform's Linux start: the ACPI tables the platform generates
// (devices/pc/acpi_tables.h) at kAcpiTablesGpa, inside the legacy BIOS hole
// that the e820 map reserves, and the kernel loaded by its boot protocol
// (emu/pc/linux_boot.h) with the RSDP, the command line and the initrd.
// The FADT is full (PM1a blocks, SCI 9; power-off through PM1a_CNT,
// devices/pc/acpi_pm_device.h) and the MADT has the I/O APIC with
// PCAT_COMPAT, so ISA IRQs (COM1's 4) exist and reach the I/O APIC.
// Not supported: RAM above 4 GiB (the loader's limit).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "emu/vp_engine.h"

namespace softsynic {
class GuestMemory;
}

namespace softsynic::emu {

inline constexpr std::uint64_t kAcpiTablesGpa = 0xE'0000;

struct LinuxStart {
  std::uint64_t entry = 0;
  std::optional<LongModeStart> long_mode;  // a bzImage's 64-bit entry
  std::uint32_t ebx = 0;                   // a vmlinux's PVH entry: hvm_start_info
};

// Writes the ACPI tables and the kernel (and initrd) into `ram`. Throws
// std::runtime_error (LinuxBootError) naming what is wrong with the files.
LinuxStart load_linux(const std::string& kernel_path, const std::string& initrd_path, GuestMemory& ram,
                      std::uint64_t ram_bytes, std::uint32_t vp_count, const std::string& command_line);

}  // namespace softsynic::emu
