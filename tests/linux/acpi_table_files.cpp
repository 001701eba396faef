// acpi_table_files: writes each table of the pc platform's ACPI image (or
// with --arm64 the arm64 virt machine's) to its own file (rsdp.dat,
// facs.dat, xsdt.dat, facp.dat, apic.dat, dsdt.dat; gtdt.dat and spcr.dat
// for arm64) so that acpica-tools can check them (tests/linux/iasl-roundtrip);
// with --dtb also chosen.dtb, a /chosen tree as the arm64 loader writes it
// (tests/linux/dtc-decode).
// Usage: acpi_table_files OUTDIR [--arm64] [--dtb] [--vps N] [--hardware-reduced] [--vmbus-mmio]
#include <cctype>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "devices/arm64/acpi_tables.h"
#include "devices/firmware/fdt_writer.h"
#include "devices/pc/acpi_tables.h"
#include "emu/arm64/firmware_config.h"

int main(int argc, char** argv) {
  try {
    if (argc < 2) {
      std::fprintf(stderr, "usage: acpi_table_files OUTDIR [--arm64] [--dtb] [--vps N] [--hardware-reduced] [--vmbus-mmio]\n");
      return 2;
    }
    softsynic::devices::PcAcpiConfig config;
    bool arm64 = false, dtb = false;
    for (int i = 2; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--arm64") {
        arm64 = true;
      } else if (arg == "--dtb") {
        dtb = true;
      } else if (arg == "--vps" && i + 1 < argc) {
        config.vp_count = static_cast<std::uint32_t>(std::stoul(argv[++i]));
      } else if (arg == "--hardware-reduced") {
        config.hardware_reduced = true;
      } else if (arg == "--vmbus-mmio") {
        config.vmbus_mmio = softsynic::devices::PcAcpiConfig::Range{0xF800'0000, 0x0400'0000};
      } else {
        std::fprintf(stderr, "acpi_table_files: unknown option %s\n", arg.c_str());
        return 2;
      }
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    if (dtb) {
      const auto blob = softsynic::devices::build_chosen_fdt({.bootargs = "console=ttyAMA0 earlycon",
                                                              .initrd_start = 0x4800'0000,
                                                              .initrd_end = 0x4810'0000,
                                                              .efi_system_table = 0x4000'0000,
                                                              .efi_mmap_start = 0x4000'0400,
                                                              .efi_mmap_size = 96,
                                                              .efi_mmap_desc_size = 48,
                                                              .efi_mmap_desc_ver = 1,
                                                              .efi_secure_boot = 2});
      std::ofstream out(dir / "chosen.dtb", std::ios::binary);
      out.write(reinterpret_cast<const char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
      if (!out) throw std::runtime_error("cannot write chosen.dtb");
    }
    softsynic::devices::AcpiTables tables;
    if (arm64) {
      auto arm64_config = softsynic::emu::arm64::virt_acpi_config(config.vp_count);
      if (config.vmbus_mmio) arm64_config.vmbus_mmio = {config.vmbus_mmio->base, config.vmbus_mmio->size};
      tables = softsynic::devices::build_arm64_acpi(arm64_config, 0x4000'0000);
    } else {
      tables = softsynic::devices::build_pc_acpi(config, 0xE0000);
    }
    for (const auto& t : tables.tables) {
      std::string name = t.signature == "RSD PTR " ? "rsdp" : t.signature;
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::ofstream out(dir / (name + ".dat"), std::ios::binary);
      out.write(reinterpret_cast<const char*>(tables.bytes.data() + t.offset), static_cast<std::streamsize>(t.length));
      if (!out) throw std::runtime_error("cannot write " + (dir / (name + ".dat")).string());
      std::printf("%s\n", (dir / (name + ".dat")).c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "acpi_table_files: %s\n", e.what());
    return 1;
  }
}
