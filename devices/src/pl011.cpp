// Pl011 behaviour (PL011 TRM r1p5, "Register descriptions", "Interrupts").
// See devices/arm64/pl011.h.
#include "devices/arm64/pl011.h"

namespace softsynic::devices {

using namespace pl011;

namespace {
// A connected terminal's modem inputs: clear to send, data set ready,
// carrier detect.
constexpr std::uint32_t kModemInputs = fr::kCts | fr::kDsr | fr::kDcd;
constexpr std::uint32_t kIbrdMask = 0xFFFF;
constexpr std::uint32_t kFbrdMask = 0x3F;
constexpr std::uint32_t kIlprMask = 0xFF;
}  // namespace

void Pl011::set_irq(std::function<void(bool)> irq) { irq_ = std::move(irq); }

std::size_t Pl011::receive_capacity() const { return lcr_h_.fifo_enabled() ? kFifoDepth : 1; }

// Host bytes reach the receiver only while it listens to the line (not in
// loopback) and has room.
void Pl011::refill() {
  if (cr_.loopback()) return;
  if (backlog_.move_into(rx_, receive_capacity()) != 0) receiver_moved();
}

void Pl011::receiver_moved() {
  rx_cleared_ = false;
  rt_cleared_ = false;
}

std::uint32_t Pl011::raw_status() const {
  const std::size_t trigger = lcr_h_.fifo_enabled() ? ifls_.rx_trigger() : 1;
  std::uint32_t ris = 0;
  if (rx_.size() >= trigger && !rx_cleared_) ris |= irq::kRx;
  if (!rx_.empty() && rx_.size() < trigger && !rt_cleared_) ris |= irq::kRt;
  if (tx_raised_) ris |= irq::kTx;
  return ris;
}

void Pl011::update_irq() {
  const bool level = (raw_status() & imsc_) != 0;
  if (level == irq_level_) return;
  irq_level_ = level;
  if (irq_) irq_(level);
}

std::size_t Pl011::receive(std::span<const std::uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  const std::size_t taken = backlog_.take(bytes);
  refill();
  update_irq();
  return taken;
}

std::uint32_t Pl011::read32(std::uint32_t offset) {
  if (offset >= reg::kPeriphId0 && offset < reg::kIdEnd) return kIdBytes[(offset - reg::kPeriphId0) / 4];
  switch (offset) {
    case reg::kDr: {
      if (rx_.empty()) return 0;
      const std::uint8_t byte = rx_.front();
      rx_.pop_front();
      receiver_moved();
      refill();
      update_irq();
      return byte;  // error bits 8-11 never set
    }
    case reg::kFr: {
      std::uint32_t v = fr::kTxfe | kModemInputs;
      if (rx_.empty()) v |= fr::kRxfe;
      if (rx_.size() >= receive_capacity()) v |= fr::kRxff;
      return v;
    }
    case reg::kIlpr: return ilpr_;
    case reg::kIbrd: return ibrd_;
    case reg::kFbrd: return fbrd_;
    case reg::kLcrH: return lcr_h_.raw();
    case reg::kCr: return cr_.raw();
    case reg::kIfls: return ifls_.raw();
    case reg::kImsc: return imsc_;
    case reg::kRis: return raw_status();
    case reg::kMis: return raw_status() & imsc_;
    case reg::kRsrEcr:  // no receive errors
    case reg::kIcr:     // write-only
    case reg::kDmacr:   // no DMA
    default: return 0;
  }
}

void Pl011::write32(std::uint32_t vp, std::uint32_t offset, std::uint32_t value) {
  switch (offset) {
    case reg::kDr: {
      const auto byte = static_cast<std::uint8_t>(value);
      if (!cr_.loopback()) {
        if (out_) out_(vp, static_cast<char>(byte));
      } else if (rx_.size() < receive_capacity()) {
        rx_.push_back(byte);
        receiver_moved();
      }
      tx_raised_ = true;  // the transmit FIFO is back at (below) its trigger level at once
      break;
    }
    case reg::kIlpr: ilpr_ = value & kIlprMask; break;
    case reg::kIbrd: ibrd_ = value & kIbrdMask; break;
    case reg::kFbrd: fbrd_ = value & kFbrdMask; break;
    case reg::kLcrH: lcr_h_ = LcrHReg(value); refill(); break;
    case reg::kCr: cr_ = CrReg(value); refill(); break;
    case reg::kIfls: ifls_ = IflsReg(value); break;
    case reg::kImsc: imsc_ = value & irq::kAll; break;
    case reg::kIcr:
      if ((value & irq::kTx) != 0) tx_raised_ = false;
      if ((value & irq::kRx) != 0) rx_cleared_ = true;
      if ((value & irq::kRt) != 0) rt_cleared_ = true;
      break;
    case reg::kRsrEcr:  // ECR: clears errors there are none of
    case reg::kDmacr:
    default: break;  // read-only and unknown offsets
  }
  update_irq();
}

std::uint64_t Pl011::mmio_read(std::uint32_t /*vp*/, std::uint64_t offset, unsigned size) {
  if (offset >= reg::kWindowSize || (size != 1 && size != 2 && size != 4)) return 0;
  const auto off = static_cast<std::uint32_t>(offset);
  if ((off & 3) + size > 4) return 0;
  std::lock_guard lock(mutex_);
  return register_lane(read32(off & ~3u), off & 3, size);
}

void Pl011::mmio_write(std::uint32_t vp, std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (offset >= reg::kWindowSize || (size != 1 && size != 2 && size != 4) || (offset & 3) != 0) return;
  std::lock_guard lock(mutex_);
  write32(vp, static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(register_lane(value, 0, size)));
}

bool Pl011::irq_level() const {
  std::lock_guard lock(mutex_);
  return irq_level_;
}
std::size_t Pl011::receive_fifo_level() const {
  std::lock_guard lock(mutex_);
  return rx_.size();
}
std::size_t Pl011::backlog() const {
  std::lock_guard lock(mutex_);
  return backlog_.size();
}

}  // namespace softsynic::devices
