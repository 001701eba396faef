// Serial16550: the transmit side of a 16550 UART (a PC's COM1 at 0x3F8),
// enough for guests that print and poll the line status before each byte.
// THR bytes go to a sink; LSR always reads "transmitter empty" (bits 5 and
// 6), so polling guests never spin; the receiver is always empty. The
// other registers (IER, LCR, MCR, SCR, the divisor latch) keep what was
// written. Not supported: input, interrupts (IIR reads "none pending"),
// FIFOs, modem status changes.
//
// Threading: io_read/io_write are thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "devices/pc/io_port_device.h"

namespace softsynic::devices {

class Serial16550 final : public IoPortDevice {
 public:
  static constexpr std::uint16_t kCom1 = 0x3F8;
  static constexpr std::uint16_t kPortCount = 8;

  // `out` receives each transmitted byte with the VP that wrote it.
  explicit Serial16550(std::uint16_t base, std::function<void(std::uint32_t vp, char c)> out)
      : base_(base), out_(std::move(out)) {}

  std::uint32_t io_read(std::uint32_t vp, std::uint16_t port, unsigned size) override;
  void io_write(std::uint32_t vp, std::uint16_t port, unsigned size, std::uint32_t value) override;

 private:
  std::uint16_t base_;
  std::function<void(std::uint32_t, char)> out_;
  std::mutex mutex_;
  std::uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 0, dlm_ = 0;
};

}  // namespace softsynic::devices
