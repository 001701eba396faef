// linux_boot_plan: prints what plan_linux_boot makes of a kernel file (a
// bzImage or a PVH vmlinux), so that a real kernel can be checked without
// booting it.
// Usage: linux_boot_plan KERNEL [RAM_MIB]
#include <cstdio>
#include <exception>
#include <string>

#include "emu/image_loader.h"
#include "emu/pc/linux_boot.h"

int main(int argc, char** argv) {
  using namespace softsynic::emu;
  if (argc < 2) {
    std::fprintf(stderr, "usage: linux_boot_plan KERNEL [RAM_MIB]\n");
    return 2;
  }
  try {
    const std::vector<char> file = read_file(argv[1]);
    LinuxBootConfig config;
    config.ram_bytes = (argc > 2 ? std::stoull(argv[2]) : 256) << 20;
    config.command_line = "console=ttyS0";
    config.rsdp_gpa = 0xE0000;
    config.carve_outs = {{0xE0000, 0x1000, E820Type::kAcpi}};
    const LinuxBootPlan p =
        plan_linux_boot(std::span(reinterpret_cast<const std::uint8_t*>(file.data()), file.size()), config);
    std::printf("format %s\n", p.format == LinuxKernelFormat::kBzImage ? "bzImage" : "pvh-elf");
    if (p.format == LinuxKernelFormat::kBzImage) std::printf("protocol %u.%u\n", p.protocol >> 8, p.protocol & 0xFF);
    std::printf("mode %s\n", p.mode == LinuxEntryMode::kLong64 ? "long64" : "protected32");
    std::printf("entry 0x%llx\n", static_cast<unsigned long long>(p.entry));
    std::printf("kernel 0x%llx-0x%llx\n", static_cast<unsigned long long>(p.kernel_low),
                static_cast<unsigned long long>(p.kernel_high));
    std::printf("e820 %zu entries, %zu writes\n", p.e820.size(), p.writes.size());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "linux_boot_plan: %s\n", e.what());
    return 1;
  }
}
