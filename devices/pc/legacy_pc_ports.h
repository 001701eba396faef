// The small PC devices a multiboot test kernel touches, as little of each
// as such kernels need:
//  - LegacyPic: the two 8259 PICs' ports (0x20/0x21, 0xA0/0xA1). Writes are
//    accepted (guests mask the PICs before using the APIC); a mask port
//    reads back the last byte written to it, a command port reads 0.
//    Not supported: any interrupt delivery (ExtINT), ICW sequences.
//  - IsaDebugExit: QEMU's isa-debug-exit at 0xF4. A write of `code` ends
//    the run with status (code << 1) | 1, as QEMU's process exits.
//
// Threading: io_read/io_write are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>

#include "devices/pc/io_port_device.h"

namespace softsynic::devices {

class LegacyPic final : public IoPortDevice {
 public:
  static constexpr std::uint16_t kMasterBase = 0x20;
  static constexpr std::uint16_t kSlaveBase = 0xA0;
  static constexpr std::uint16_t kPortCount = 2;

  std::uint32_t io_read(std::uint32_t, std::uint16_t port, unsigned) override {
    return (port & 1) != 0 ? masks_[index(port)].load(std::memory_order_relaxed) : 0;
  }
  void io_write(std::uint32_t, std::uint16_t port, unsigned, std::uint32_t value) override {
    if ((port & 1) != 0) masks_[index(port)].store(static_cast<std::uint8_t>(value), std::memory_order_relaxed);
  }

 private:
  static unsigned index(std::uint16_t port) { return port >= kSlaveBase ? 1 : 0; }
  std::array<std::atomic<std::uint8_t>, 2> masks_{};
};

class IsaDebugExit final : public IoPortDevice {
 public:
  static constexpr std::uint16_t kPort = 0xF4;
  static constexpr std::uint16_t kPortCount = 1;

  // `exit` receives the writing VP and the process status (code << 1) | 1.
  explicit IsaDebugExit(std::function<void(std::uint32_t vp, std::uint32_t status)> exit) : exit_(std::move(exit)) {}

  std::uint32_t io_read(std::uint32_t, std::uint16_t, unsigned) override { return 0; }
  void io_write(std::uint32_t vp, std::uint16_t, unsigned, std::uint32_t value) override {
    if (exit_) exit_(vp, (value << 1) | 1);
  }

 private:
  std::function<void(std::uint32_t, std::uint32_t)> exit_;
};

}  // namespace softsynic::devices
