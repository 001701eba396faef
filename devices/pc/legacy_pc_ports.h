// The small PC devices a multiboot test kernel touches, as little of each
// as such kernels need:
//  - LegacyPic: the two 8259A PICs' ports (0x20/0x21, 0xA0/0xA1), as far as
//    an operating system that uses the I/O APIC programs them (Intel 8259A
//    datasheet, "Programming the 8259A"): ICW1 on the command port starts
//    the initialization sequence and clears the mask, ICW2, ICW3 (unless
//    single) and ICW4 (when ICW1 asks for it) follow on the data port, then
//    data-port writes are OCW1, the mask, which reads back. Other command
//    writes (OCW2, OCW3) are accepted; the command port reads 0 (IRR and
//    ISR are always empty).
//    Not supported: any interrupt delivery (ExtINT), the vector base, poll
//    mode, ELCR (0x4D0/0x4D1). The pc platform delivers ISA interrupts
//    through its I/O APIC; these ports exist because a PC with PCAT_COMPAT
//    has them (docs/PC_PLATFORM.md).
//  - IsaDebugExit: QEMU's isa-debug-exit at 0xF4. A write of `code` ends
//    the run with status (code << 1) | 1, as QEMU's process exits.
//
// Threading: io_read/io_write are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>

#include "devices/pc/io_port_device.h"

namespace softsynic::devices {

class LegacyPic final : public IoPortDevice {
 public:
  static constexpr std::uint16_t kMasterBase = 0x20;
  static constexpr std::uint16_t kSlaveBase = 0xA0;
  static constexpr std::uint16_t kPortCount = 2;

  std::uint32_t io_read(std::uint32_t, std::uint16_t port, unsigned) override {
    std::lock_guard lock(mutex_);
    return (port & 1) != 0 ? chips_[index(port)].mask : 0;
  }
  void io_write(std::uint32_t, std::uint16_t port, unsigned, std::uint32_t value) override {
    const auto byte = static_cast<std::uint8_t>(value);
    std::lock_guard lock(mutex_);
    Chip& chip = chips_[index(port)];
    if ((port & 1) == 0) {
      if ((byte & kIcw1) != 0) chip = Chip{.mask = 0, .next_icw = 2, .single = (byte & kIcw1Single) != 0,
                                           .icw4 = (byte & kIcw1NeedsIcw4) != 0};
      return;  // OCW2/OCW3: nothing to do without delivery
    }
    switch (chip.next_icw) {
      case 2: chip.next_icw = chip.single ? (chip.icw4 ? 4 : 0) : 3; return;
      case 3: chip.next_icw = chip.icw4 ? 4 : 0; return;
      case 4: chip.next_icw = 0; return;
      default: chip.mask = byte; return;
    }
  }

 private:
  static constexpr std::uint8_t kIcw1 = 0x10;  // command-port bit 4: ICW1
  static constexpr std::uint8_t kIcw1NeedsIcw4 = 0x01;
  static constexpr std::uint8_t kIcw1Single = 0x02;
  struct Chip {
    std::uint8_t mask = 0;
    unsigned next_icw = 0;  // 0: initialized, data writes are OCW1
    bool single = false;
    bool icw4 = false;
  };
  static unsigned index(std::uint16_t port) { return port >= kSlaveBase ? 1 : 0; }
  std::mutex mutex_;
  std::array<Chip, 2> chips_{};
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
