// Serial16550: a 16550 UART (National Semiconductor PC16550D datasheet), a
// PC's COM1 at 0x3F8, with its interrupt on the ISA line through MCR.OUT2.
//
// Modelled (register bits in serial_16550_defs.h):
//  - THR: a byte goes to the sink at once (transmission takes no time), so
//    LSR.THRE and TEMT read 1 after every write. The THRE interrupt still
//    has its edges: a THR write clears it and the finished byte raises it
//    again, so the line falls and rises for an edge-triggered input.
//  - Receiver: a 16-byte FIFO (1 byte, RBR, with FIFOs off) fed by the host
//    through receive(); what does not fit waits in a host backlog and
//    moves in as the guest reads, so host bytes are never overrun.
//    LSR.DR; the received-data interrupt at the FCR trigger level (1, 4, 8,
//    14) and the character-timeout interrupt for fewer bytes, at once (the
//    host hands bytes over in batches: when none are waiting, none are
//    arriving).
//  - IER, IIR with the datasheet's priorities (line status, received data
//    or timeout, THR empty, modem status; reading IIR clears a THR-empty
//    indication it reports), FCR (enable, clear receive FIFO, trigger
//    level; IIR bits 6-7), LCR with the DLAB divisor latch (DLL/DLM kept),
//    MCR (DTR, RTS, OUT1, OUT2, loop), LSR (DR, OE, THRE, TEMT), MSR (CTS,
//    DSR and DCD asserted, RI off; the delta bits and the modem-status
//    interrupt), SCR.
//  - Loopback (MCR bit 4): transmitted bytes come back to the receiver
//    (overrun when it is full: LSR.OE and the line-status interrupt), the
//    host's bytes wait, and MSR follows MCR (CTS = RTS, DSR = DTR, RI =
//    OUT1, DCD = OUT2).
//  - The interrupt output: an interrupt pending and MCR.OUT2 set (a PC
//    gates INTR with OUT2). set_irq's callback hears every change of it.
// Not supported: baud-rate timing (the divisor is stored, bytes move at
// once), parity, framing and break errors (never raised), the transmit
// FIFO's depth (it is always empty), DMA mode signals.
//
// Threading: every public method is thread-safe (one mutex). The sink and
// the interrupt callback are called with that mutex held: they must not
// call back into this device. Set-up: set_irq, before any VP runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>

#include "devices/host_byte_backlog.h"
#include "devices/pc/io_port_device.h"
#include "devices/pc/serial_16550_defs.h"

namespace softsynic::devices {

class Serial16550 final : public IoPortDevice {
 public:
  static constexpr std::uint16_t kCom1 = 0x3F8;
  static constexpr std::uint16_t kPortCount = 8;
  static constexpr unsigned kCom1Irq = 4;  // ISA IRQ
  // Host bytes held beyond the FIFO; receive() takes no more.
  static constexpr std::size_t kBacklogLimit = HostByteBacklog::kLimit;

  // `out` receives each transmitted byte with the VP that wrote it.
  explicit Serial16550(std::uint16_t base, std::function<void(std::uint32_t vp, char c)> out)
      : base_(base), out_(std::move(out)) {}

  // Set-up: the interrupt output's level after the OUT2 gate (a PC's ISA
  // IRQ line), called on every change.
  void set_irq(std::function<void(bool level)> irq);

  // Bytes from the host's side of the line, in order. Returns how many were
  // taken (fewer only when the backlog is full).
  std::size_t receive(std::span<const std::uint8_t> bytes);

  std::uint32_t io_read(std::uint32_t vp, std::uint16_t port, unsigned size) override;
  void io_write(std::uint32_t vp, std::uint16_t port, unsigned size, std::uint32_t value) override;

  // Snapshots (tests).
  bool irq_level() const;
  std::size_t receive_fifo_level() const;
  std::size_t backlog() const;

 private:
  std::uint8_t pending_interrupt() const;  // the IIR identification, iir::kNone if none
  std::uint8_t read_iir();
  std::uint8_t read_rbr();
  void write_thr(std::uint32_t vp, std::uint8_t byte);
  void write_fcr(std::uint8_t value);
  void write_mcr(std::uint8_t value);
  void set_modem_inputs(std::uint8_t inputs);
  std::size_t receive_capacity() const;
  void refill();
  void update_irq();

  std::uint16_t base_;
  std::function<void(std::uint32_t, char)> out_;
  std::function<void(bool)> irq_;
  mutable std::mutex mutex_;
  std::uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 0, dlm_ = 0;
  bool fifo_enabled_ = false;
  std::uint8_t trigger_ = 1;
  bool overrun_ = false;
  bool thr_interrupt_ = false;  // the THR-empty indication (cleared by IIR reads and THR writes)
  std::uint8_t msr_ = uart::msr::kCts | uart::msr::kDsr | uart::msr::kDcd;
  std::deque<std::uint8_t> rx_;
  HostByteBacklog backlog_;
  bool irq_level_ = false;
};

}  // namespace softsynic::devices
