// Serial16550 behaviour (PC16550D datasheet, "Registers" 8.1-8.11 and
// Table IV "Interrupt Control Functions"). See devices/pc/serial_16550.h.
#include "devices/pc/serial_16550.h"

namespace softsynic::devices {

using namespace uart;

namespace {
// The modem inputs of a connected terminal: clear to send, data set ready,
// carrier detect; no ring.
constexpr std::uint8_t kExternalInputs = msr::kCts | msr::kDsr | msr::kDcd;
}  // namespace

void Serial16550::set_irq(std::function<void(bool)> irq) { irq_ = std::move(irq); }

std::size_t Serial16550::receive_capacity() const { return fifo_enabled_ ? kFifoSize : 1; }

// Host bytes reach the receiver only while it listens to the line (not in
// loopback) and has room.
void Serial16550::refill() {
  if ((mcr_ & mcr::kLoop) != 0) return;
  backlog_.move_into(rx_, receive_capacity());
}

std::uint8_t Serial16550::pending_interrupt() const {
  if ((ier_ & ier::kLineStatus) != 0 && overrun_) return iir::kLineStatus;
  if ((ier_ & ier::kReceivedData) != 0 && !rx_.empty()) {
    if (!fifo_enabled_ || rx_.size() >= trigger_) return iir::kReceivedData;
    return iir::kCharacterTimeout;
  }
  if ((ier_ & ier::kThrEmpty) != 0 && thr_interrupt_) return iir::kThrEmpty;
  if ((ier_ & ier::kModemStatus) != 0 && (msr_ & msr::kDeltas) != 0) return iir::kModemStatus;
  return iir::kNone;
}

void Serial16550::update_irq() {
  const bool level = (mcr_ & mcr::kOut2) != 0 && pending_interrupt() != iir::kNone;
  if (level == irq_level_) return;
  irq_level_ = level;
  if (irq_) irq_(level);
}

std::size_t Serial16550::receive(std::span<const std::uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  const std::size_t taken = backlog_.take(bytes);
  refill();
  update_irq();
  return taken;
}

std::uint8_t Serial16550::read_iir() {
  const std::uint8_t id = pending_interrupt();
  // Reading IIR while it reports THR empty clears that indication.
  if (id == iir::kThrEmpty) {
    thr_interrupt_ = false;
    update_irq();
  }
  return static_cast<std::uint8_t>(id | (fifo_enabled_ ? iir::kFifosEnabled : 0));
}

std::uint8_t Serial16550::read_rbr() {
  if (rx_.empty()) return 0;
  const std::uint8_t byte = rx_.front();
  rx_.pop_front();
  refill();
  update_irq();
  return byte;
}

void Serial16550::write_thr(std::uint32_t vp, std::uint8_t byte) {
  // The write takes THRE's indication away (the line may fall)...
  thr_interrupt_ = false;
  update_irq();
  if ((mcr_ & mcr::kLoop) != 0) {
    if (rx_.size() < receive_capacity()) {
      rx_.push_back(byte);
    } else {
      overrun_ = true;  // the byte is lost, as the receiver shift register's would be
    }
  } else if (out_) {
    out_(vp, static_cast<char>(byte));
  }
  // ...and the byte, sent at once, leaves the holding register empty again
  // (the line rises: an edge).
  thr_interrupt_ = true;
  update_irq();
}

void Serial16550::write_fcr(std::uint8_t value) {
  const bool enable = (value & fcr::kEnable) != 0;
  // Changing the FIFO mode clears both FIFOs; so does bit 1 for the receiver.
  if (enable != fifo_enabled_ || (value & fcr::kClearReceive) != 0) rx_.clear();
  fifo_enabled_ = enable;
  trigger_ = fcr::kTriggerLevels[value >> fcr::kTriggerShift];
  refill();
  update_irq();
}

// The modem inputs changed to `inputs` (bits 4-7): the delta bits record it.
void Serial16550::set_modem_inputs(std::uint8_t inputs) {
  const std::uint8_t old = msr_;
  std::uint8_t deltas = old & msr::kDeltas;
  if (((old ^ inputs) & msr::kCts) != 0) deltas |= msr::kDeltaCts;
  if (((old ^ inputs) & msr::kDsr) != 0) deltas |= msr::kDeltaDsr;
  if ((old & msr::kRi) != 0 && (inputs & msr::kRi) == 0) deltas |= msr::kTrailingEdgeRi;
  if (((old ^ inputs) & msr::kDcd) != 0) deltas |= msr::kDeltaDcd;
  msr_ = static_cast<std::uint8_t>((inputs & 0xF0) | deltas);
}

void Serial16550::write_mcr(std::uint8_t value) {
  mcr_ = value & mcr::kDefined;
  if ((mcr_ & mcr::kLoop) != 0) {
    std::uint8_t inputs = 0;
    if ((mcr_ & mcr::kRts) != 0) inputs |= msr::kCts;
    if ((mcr_ & mcr::kDtr) != 0) inputs |= msr::kDsr;
    if ((mcr_ & mcr::kOut1) != 0) inputs |= msr::kRi;
    if ((mcr_ & mcr::kOut2) != 0) inputs |= msr::kDcd;
    set_modem_inputs(inputs);
  } else {
    set_modem_inputs(kExternalInputs);
    refill();
  }
  update_irq();
}

std::uint32_t Serial16550::io_read(std::uint32_t, std::uint16_t port, unsigned) {
  std::lock_guard lock(mutex_);
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (static_cast<unsigned>(port - base_)) {
    case reg::kData: return dlab ? dll_ : read_rbr();
    case reg::kIer: return dlab ? dlm_ : ier_;
    case reg::kIir: return read_iir();
    case reg::kLcr: return lcr_;
    case reg::kMcr: return mcr_;
    case reg::kLsr: {
      std::uint8_t v = lsr::kThrEmpty | lsr::kTransmitterEmpty;
      if (!rx_.empty()) v |= lsr::kDataReady;
      if (overrun_) v |= lsr::kOverrun;
      overrun_ = false;  // reading LSR clears the error bits
      update_irq();
      return v;
    }
    case reg::kMsr: {
      const std::uint8_t v = msr_;
      msr_ &= static_cast<std::uint8_t>(~msr::kDeltas);
      update_irq();
      return v;
    }
    case reg::kScr: return scr_;
    default: return 0xFF;
  }
}

void Serial16550::io_write(std::uint32_t vp, std::uint16_t port, unsigned, std::uint32_t value) {
  const auto byte = static_cast<std::uint8_t>(value);
  std::lock_guard lock(mutex_);
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (static_cast<unsigned>(port - base_)) {
    case reg::kData:
      if (dlab) {
        dll_ = byte;
      } else {
        write_thr(vp, byte);
      }
      break;
    case reg::kIer:
      if (dlab) {
        dlm_ = byte;
      } else {
        const std::uint8_t old = ier_;
        ier_ = byte & ier::kDefined;
        // Enabling the THR-empty interrupt while THR is empty (always, here)
        // raises it.
        if ((old & ier::kThrEmpty) == 0 && (ier_ & ier::kThrEmpty) != 0) thr_interrupt_ = true;
        update_irq();
      }
      break;
    case reg::kIir: write_fcr(byte); break;
    case reg::kLcr: lcr_ = byte; break;
    case reg::kMcr: write_mcr(byte); break;
    case reg::kScr: scr_ = byte; break;
    case reg::kLsr:  // writes to LSR and MSR are for factory test only
    case reg::kMsr:
    default: break;
  }
}

bool Serial16550::irq_level() const {
  std::lock_guard lock(mutex_);
  return irq_level_;
}

std::size_t Serial16550::receive_fifo_level() const {
  std::lock_guard lock(mutex_);
  return rx_.size();
}

std::size_t Serial16550::backlog() const {
  std::lock_guard lock(mutex_);
  return backlog_.size();
}

}  // namespace softsynic::devices
