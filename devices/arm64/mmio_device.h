// MmioDevice: a memory-mapped device of the ARM64 machine as the engine's
// MMIO hooks see it: an access of 1, 2, 4 or 8 bytes at an offset within
// the device's window, made by a VP. Devices answer every access (unknown
// offsets and widths read 0 and ignore writes; nothing asserts on guest
// input).
// Not supported: accesses that straddle the window's end (the engine
// splits or refuses them), big-endian data.
//
// Threading: mmio_read/mmio_write are called from any VP's thread; each
// device states how it guards its state. size() is constant.
#pragma once

#include <cstdint>

namespace softsynic::devices {

class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  // Bytes of guest-physical address space the device decodes.
  virtual std::uint64_t size() const = 0;
  virtual std::uint64_t mmio_read(std::uint32_t vp, std::uint64_t offset, unsigned size) = 0;
  virtual void mmio_write(std::uint32_t vp, std::uint64_t offset, unsigned size, std::uint64_t value) = 0;
};

// The `size` bytes at byte `lane` of a register value (little-endian).
constexpr std::uint64_t register_lane(std::uint64_t reg, unsigned lane, unsigned size) {
  const std::uint64_t shifted = lane >= 8 ? 0 : reg >> (8 * lane);
  return size >= 8 ? shifted : shifted & ((std::uint64_t{1} << (8 * size)) - 1);
}

}  // namespace softsynic::devices
