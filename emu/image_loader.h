// Guest image loading for the reference emulator: an ELF executable (by
// its magic; PT_LOAD segments at their physical addresses, bss zeroed,
// entry from the header) or a flat binary (copied to the layout's image
// base, entry at its first byte). ELF64 always; ELF32 where the caller
// names a 32-bit machine (multiboot kernels are often ELF32 containers of
// 64-bit code).
// Not supported: relocation, compressed images, big-endian files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace softsynic {
class GuestMemory;
}

namespace softsynic::emu {

struct LoadedImage {
  std::uint64_t entry = 0;
  std::uint64_t low = 0;   // lowest loaded byte
  std::uint64_t high = 0;  // one past the highest (bss included)
  bool elf = false;
};

// Throws std::runtime_error with a readable message (unreadable file, wrong
// ELF machine, a segment outside [allowed_low, allowed_high)).
// elf32_machine: the e_machine an ELF32 file must have; 0 refuses ELF32.
LoadedImage load_image(const std::string& path, GuestMemory& ram, std::uint64_t flat_base, std::uint16_t elf_machine,
                       std::uint64_t allowed_low, std::uint64_t allowed_high, std::uint16_t elf32_machine = 0);

// The same from bytes already read; `name` is used in messages.
LoadedImage load_image_bytes(const std::vector<char>& file, const std::string& name, GuestMemory& ram,
                             std::uint64_t flat_base, std::uint16_t elf_machine, std::uint64_t allowed_low,
                             std::uint64_t allowed_high, std::uint16_t elf32_machine = 0);

// Zeroes [gpa, gpa + size) (a segment's bss) without a buffer of that
// size; false when the range is not all RAM.
bool zero_guest_range(GuestMemory& ram, std::uint64_t gpa, std::uint64_t size);

// Reads a whole file; std::runtime_error when it cannot.
std::vector<char> read_file(const std::string& path);

}  // namespace softsynic::emu
