// Guest image loading for the reference emulator: an ELF64 executable (by
// its magic; PT_LOAD segments at their physical addresses, entry from the
// header) or a flat binary (copied to the layout's image base, entry at its
// first byte).
// Not supported: relocation, compressed images, ELF32.
#pragma once

#include <cstdint>
#include <string>

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
LoadedImage load_image(const std::string& path, GuestMemory& ram, std::uint64_t flat_base, std::uint16_t elf_machine,
                       std::uint64_t allowed_low, std::uint64_t allowed_high);

}  // namespace softsynic::emu
