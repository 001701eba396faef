// PciConfigPorts: the PC's configuration mechanism #1 (PCI Local Bus
// Specification 3.0, 3.2.2.3.2) on a machine with no PCI device:
// CONFIG_ADDRESS at 0xCF8 keeps what a 32-bit write put there and reads it
// back (how Linux detects the mechanism), and CONFIG_DATA at 0xCFC-0xCFF
// reads all ones ("no device" at every bus, device and function) and
// ignores writes. Narrower accesses to 0xCF8-0xCFB are not CONFIG_ADDRESS:
// they read all ones and are ignored, as on the PC chipsets.
// Not supported: any device, configuration mechanism #2, ECAM (MCFG).
//
// Threading: io_read/io_write are thread-safe (one atomic).
#pragma once

#include <atomic>
#include <cstdint>

#include "devices/pc/io_port_device.h"

namespace softsynic::devices {

class PciConfigPorts final : public IoPortDevice {
 public:
  static constexpr std::uint16_t kConfigAddress = 0xCF8;
  static constexpr std::uint16_t kConfigData = 0xCFC;
  static constexpr std::uint16_t kPortCount = 8;  // 0xCF8-0xCFF

  std::uint32_t io_read(std::uint32_t, std::uint16_t port, unsigned size) override {
    if (port == kConfigAddress && size == 4) return address_.load(std::memory_order_relaxed);
    return IoPortBus::unclaimed_read(size);
  }
  void io_write(std::uint32_t, std::uint16_t port, unsigned size, std::uint32_t value) override {
    if (port == kConfigAddress && size == 4) address_.store(value, std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint32_t> address_{0};
};

}  // namespace softsynic::devices
