// What a kernel loader hands the runner: guest-physical writes to apply to
// RAM (emu/pc/linux_boot.h, emu/arm64/linux_boot.h plan over bytes and
// write nothing themselves), and the error both loaders throw.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace softsynic {
class GuestMemory;
}

namespace softsynic::emu {

class LinuxBootError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct GuestWrite {
  std::uint64_t gpa = 0;
  std::vector<std::uint8_t> bytes;
  std::uint64_t zero_fill = 0;  // zero bytes after `bytes` (a segment's bss)
};

// Writes every GuestWrite into `ram`; throws LinuxBootError when a range
// is not RAM.
void apply_guest_writes(std::span<const GuestWrite> writes, GuestMemory& ram);

}  // namespace softsynic::emu
