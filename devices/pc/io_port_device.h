// IoPortDevice and IoPortBus: x86 port I/O (IN/OUT) dispatch for the
// reference emulator's machines. A device claims a range of ports; the bus
// finds it for each access. Ports nobody claims read as all ones and
// ignore writes, as on a PC's ISA bus.
// Not supported: string I/O accounting (each IN/OUT of a REP INS/OUTS
// arrives separately), I/O permission bitmaps.
//
// Threading: add() before the machine runs; read()/write() from engine
// hooks, one engine at a time but possibly on different threads over a run,
// so devices guard their own state (they are called without a bus lock).
#pragma once

#include <cstdint>
#include <vector>

namespace softsynic::devices {

class IoPortDevice {
 public:
  virtual ~IoPortDevice() = default;
  // `size` is 1, 2 or 4 bytes; `vp` made the access.
  virtual std::uint32_t io_read(std::uint32_t vp, std::uint16_t port, unsigned size) = 0;
  virtual void io_write(std::uint32_t vp, std::uint16_t port, unsigned size, std::uint32_t value) = 0;
};

class IoPortBus {
 public:
  // Claims [first, first + count). A port claimed twice goes to the first
  // claimant.
  void add(std::uint16_t first, std::uint16_t count, IoPortDevice& device) {
    ranges_.push_back({first, static_cast<std::uint32_t>(first) + count, &device});
  }
  IoPortDevice* find(std::uint16_t port) const {
    for (const Range& r : ranges_) {
      if (port >= r.first && port < r.end) return r.device;
    }
    return nullptr;
  }
  std::uint32_t read(std::uint32_t vp, std::uint16_t port, unsigned size) const {
    IoPortDevice* d = find(port);
    if (d != nullptr) return d->io_read(vp, port, size);
    return unclaimed_read(size);
  }
  // What a read of `size` bytes from a port nobody claims gives: all ones.
  static constexpr std::uint32_t unclaimed_read(unsigned size) {
    return size >= 4 ? 0xFFFF'FFFFu : (1u << (8 * size)) - 1;
  }
  void write(std::uint32_t vp, std::uint16_t port, unsigned size, std::uint32_t value) const {
    if (IoPortDevice* d = find(port)) d->io_write(vp, port, size, value);
  }

 private:
  struct Range {
    std::uint16_t first;
    std::uint32_t end;
    IoPortDevice* device;
  };
  std::vector<Range> ranges_;
};

}  // namespace softsynic::devices
