// The pc platform's Linux start; see linux_platform.h.
#include "emu/pc/linux_platform.h"

#include <span>

#include "devices/pc/acpi_tables.h"
#include "emu/image_loader.h"
#include "emu/pc/linux_boot.h"
#include "synic/guest_memory.h"

namespace softsynic::emu {
namespace {

std::span<const std::uint8_t> as_u8(const std::vector<char>& bytes) {
  return {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
}

}  // namespace

LinuxStart load_linux(const std::string& kernel_path, const std::string& initrd_path, GuestMemory& ram,
                      std::uint64_t ram_bytes, std::uint32_t vp_count, const std::string& command_line) {
  devices::PcAcpiConfig acpi;
  acpi.vp_count = vp_count;
  // A full FADT, an I/O APIC and PCAT_COMPAT, as on a generation-1 Hyper-V
  // guest: Linux's 8250 driver takes COM1's interrupt as ISA IRQ 4, a
  // number that exists only on a PC with legacy IRQs (a hardware-reduced
  // machine has none; docs/PC_PLATFORM.md).
  acpi.hardware_reduced = false;
  acpi.cmos_rtc_present = true;  // devices/pc/cmos_rtc.h
  const devices::AcpiTables tables = devices::build_pc_acpi(acpi, kAcpiTablesGpa);
  if (!ram.write(kAcpiTablesGpa, std::as_bytes(std::span(tables.bytes)))) {
    throw LinuxBootError("the ACPI tables do not fit in RAM at 0xE0000");
  }

  const std::vector<char> kernel = read_file(kernel_path);
  std::vector<char> initrd;
  if (!initrd_path.empty()) initrd = read_file(initrd_path);
  LinuxBootConfig config;
  config.ram_bytes = ram_bytes;
  config.command_line = command_line;
  config.initrd = as_u8(initrd);
  config.rsdp_gpa = tables.rsdp_gpa;
  const LinuxBootPlan plan = plan_linux_boot(as_u8(kernel), config);
  apply_linux_boot_plan(plan, ram);

  LinuxStart start;
  start.entry = plan.entry;
  if (plan.mode == LinuxEntryMode::kLong64) {
    LongModeStart lm;
    lm.cr3 = plan.cr3;
    lm.gdt_base = plan.gdt_base;
    lm.gdt_limit = plan.gdt_limit;
    lm.code_selector = plan.code_selector;
    lm.data_selector = plan.data_selector;
    lm.rsi = plan.rsi;
    start.long_mode = lm;
  } else {
    start.ebx = plan.ebx;
  }
  return start;
}

}  // namespace softsynic::emu
