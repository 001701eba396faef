// Pl011: an Arm PrimeCell PL011 UART r1p5 (PL011 Technical Reference
// Manual, "Functional overview", "Register descriptions"), the ARM64
// machine's console: what Linux's amba-pl011/sbsa-uart drivers and the
// pl011 earlycon use. Register bits in pl011_defs.h. The host interface is
// the 16550's (devices/pc/serial_16550.h): a sink for transmitted bytes,
// receive() for host bytes, set_irq for the interrupt output.
//
// Modelled:
//  - DR: a written byte goes to the sink at once (transmission takes no
//    time), so FR.TXFE reads 1, TXFF and BUSY 0, and every write raises
//    the transmit interrupt (the FIFO fell to its trigger level at once);
//    ICR clears it. Transmission is not gated by CR.UARTEN/TXE, so an
//    earlycon works without firmware having set the UART up.
//  - Receiver: a 32-byte FIFO (1 byte with LCR_H.FEN clear) fed by the host
//    through receive(); what does not fit waits in a host backlog and
//    moves in as the guest reads, so host bytes are never overrun. FR.RXFE/
//    RXFF. The receive interrupt at the IFLS trigger level, the receive-
//    timeout interrupt for fewer bytes at once (the host hands bytes over
//    in batches: when none are waiting, none are arriving); both re-arm on
//    the next byte in or out after an ICR write clears them.
//  - RSR/ECR (no errors: reads 0), IBRD/FBRD/ILPR/LCR_H/CR/IFLS stored,
//    IMSC, RIS, MIS, ICR, DMACR (RAZ/WI), PeriphID 0x00341011 and CellID
//    0xB105F00D at 0xFE0-0xFFC; FR's modem inputs CTS, DSR and DCD set.
//  - Loopback (CR.LBE): transmitted bytes come back to the receiver
//    (dropped when it is full) and the host's bytes wait.
//  - The interrupt output: (RIS & IMSC) != 0, a level for a GIC SPI;
//    set_irq's callback hears every change of it.
// Accesses: 8, 16 or 32 bits anywhere in a register's word (Linux uses 16-
// or 32-bit ones); writes must start at the word. Other widths and
// offsets read 0 and are ignored.
// Not supported: baud-rate timing (divisors stored, bytes move at once),
// parity/framing/break/overrun errors (never raised), modem-status
// interrupts, IrDA, DMA, the transmit FIFO's depth (always empty).
//
// Threading: every public method is thread-safe (one mutex). The sink and
// the interrupt callback are called with that mutex held: they must not
// call back into this device (GicDistributor::set_spi_level is fine).
// Set-up: set_irq, before any VP runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>

#include "devices/arm64/mmio_device.h"
#include "devices/arm64/pl011_defs.h"
#include "devices/host_byte_backlog.h"

namespace softsynic::devices {

class Pl011 final : public MmioDevice {
 public:
  // Host bytes held beyond the FIFO; receive() takes no more.
  static constexpr std::size_t kBacklogLimit = HostByteBacklog::kLimit;

  // `out` receives each transmitted byte with the VP that wrote it.
  explicit Pl011(std::function<void(std::uint32_t vp, char c)> out) : out_(std::move(out)) {}

  // Set-up: the interrupt output's level, called on every change.
  void set_irq(std::function<void(bool level)> irq);

  // Bytes from the host's side of the line, in order. Returns how many were
  // taken (fewer only when the backlog is full).
  std::size_t receive(std::span<const std::uint8_t> bytes);

  std::uint64_t size() const override { return pl011::reg::kWindowSize; }
  std::uint64_t mmio_read(std::uint32_t vp, std::uint64_t offset, unsigned size) override;
  void mmio_write(std::uint32_t vp, std::uint64_t offset, unsigned size, std::uint64_t value) override;

  // Snapshots (tests).
  bool irq_level() const;
  std::size_t receive_fifo_level() const;
  std::size_t backlog() const;

 private:
  std::uint32_t read32(std::uint32_t offset);
  void write32(std::uint32_t vp, std::uint32_t offset, std::uint32_t value);
  std::uint32_t raw_status() const;  // RIS
  std::size_t receive_capacity() const;
  void refill();
  void receiver_moved();  // a byte went in or out: the cleared indications re-arm
  void update_irq();

  std::function<void(std::uint32_t, char)> out_;
  std::function<void(bool)> irq_;
  mutable std::mutex mutex_;
  pl011::LcrHReg lcr_h_;
  pl011::CrReg cr_;
  pl011::IflsReg ifls_;
  std::uint32_t imsc_ = 0;
  std::uint32_t ibrd_ = 0, fbrd_ = 0, ilpr_ = 0;
  bool tx_raised_ = false;
  bool rx_cleared_ = false;  // ICR cleared RX/RT until the receiver moves again
  bool rt_cleared_ = false;
  std::deque<std::uint8_t> rx_;
  HostByteBacklog backlog_;
  bool irq_level_ = false;
};

}  // namespace softsynic::devices
