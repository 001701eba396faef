// Multiboot v1 kernel loading for the pc platform (Multiboot Specification
// 0.6.96, sections 3.1 "OS image format" and 3.3 "Boot information
// format"). The header (magic 0x1BADB002, flags, checksum) must lie in the
// first 8192 bytes, 4-byte aligned. With flags bit 16 the header's address
// fields place the image (the "a.out kludge"); otherwise the file must be
// ELF32 (i386) or ELF64 (x86-64) and loads by its program headers.
//
// Boot information written: mem_lower/mem_upper (flags bit 0), the command
// line "IMAGE ARGS" (bit 2), an empty module list (bit 3) and the boot
// loader name (bit 9). It lives at 0x9000 as on QEMU, with its strings
// right after it, unless the kernel itself loads there (then above the
// kernel). Physical page 0 is never used.
// Not supported: modules, memory maps (bit 6), drives, APM, VBE/framebuffer
// (a kernel asking for video mode info still boots without it), entry
// points or segments above 4 GiB.
#pragma once

#include <cstdint>
#include <string>

namespace softsynic {
class GuestMemory;
}

namespace softsynic::emu {

inline constexpr std::uint32_t kMultibootHeaderMagic = 0x1BAD'B002;
inline constexpr std::uint64_t kMultibootInfoGpa = 0x9000;

struct MultibootKernel {
  std::uint32_t entry = 0;      // 32-bit protected-mode entry
  std::uint32_t info = 0;       // the boot information's address (EBX)
  std::uint64_t image_low = 0;  // loaded range
  std::uint64_t image_high = 0;
};

// Loads `path` into RAM [0x1000, ram_bytes) and writes the boot
// information. Throws std::runtime_error naming the problem (no header, bad
// checksum, unsupported format, does not fit).
MultibootKernel load_multiboot(const std::string& path, GuestMemory& ram, std::uint64_t ram_bytes,
                               const std::string& arguments);

}  // namespace softsynic::emu
