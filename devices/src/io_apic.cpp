// IoApic behaviour (Intel 82093AA datasheet 2.0 "Functional Description",
// 3.0 "Register Description"). See devices/apic/io_apic.h.
#include "devices/apic/io_apic.h"

#include "devices/apic/apic_bus.h"

namespace softsynic::devices {

using namespace ioapic;

IoApic::IoApic(ApicBus& bus, std::uint8_t id) : bus_(bus) {
  id_ = IdReg().with_id(id);
  arbitration_ = ArbitrationReg().with_id(id);
  bus_.add_eoi_listener([this](std::uint8_t vector) { end_of_interrupt(vector); });
}

bool IoApic::asserted(unsigned pin) const {
  return lines_[pin] != (entries_[pin].polarity() == Polarity::active_low);
}

void IoApic::send(unsigned pin) {
  const RedirectionEntry e = entries_[pin];
  ++sent_;
  const unsigned reached = bus_.send_message(e.message());
  // Remote IRR records that a local APIC took the level interrupt; a
  // message nobody accepted will see no EOI.
  if (e.trigger_mode() == TriggerMode::level && reached != 0) entries_[pin] = e.with_remote_irr(true);
}

void IoApic::service_level(unsigned pin) {
  const RedirectionEntry e = entries_[pin];
  if (e.trigger_mode() == TriggerMode::level && !e.masked() && !e.remote_irr() && asserted(pin)) send(pin);
}

void IoApic::set_line(unsigned pin, bool level) {
  if (pin >= kPinCount) return;
  std::lock_guard lock(mutex_);
  const bool was = asserted(pin);
  lines_[pin] = level;
  const bool now = asserted(pin);
  const RedirectionEntry e = entries_[pin];
  if (e.trigger_mode() == TriggerMode::edge) {
    if (!was && now && !e.masked()) send(pin);
  } else {
    service_level(pin);
  }
}

void IoApic::end_of_interrupt(std::uint8_t vector) {
  std::lock_guard lock(mutex_);
  for (unsigned pin = 0; pin < kPinCount; ++pin) {
    const RedirectionEntry e = entries_[pin];
    if (e.trigger_mode() != TriggerMode::level || !e.remote_irr() || e.vector() != vector) continue;
    entries_[pin] = e.with_remote_irr(false);
    service_level(pin);
  }
}

std::uint32_t IoApic::read_register(std::uint8_t index) const {
  switch (index) {
    case reg::kId: return id_.raw();
    case reg::kVersion:
      return VersionReg().with_version(kVersionValue).with_max_redirection_entry(kPinCount - 1).raw();
    case reg::kArbitration: return arbitration_.raw();
    default: break;
  }
  if (index < reg::kRedirectionFirst || index >= reg::kRedirectionFirst + 2 * kPinCount) return 0;
  const RedirectionEntry e = entries_[(index - reg::kRedirectionFirst) / 2];
  return (index & 1) != 0 ? e.high() : e.low();
}

void IoApic::write_register(std::uint8_t index, std::uint32_t value) {
  if (index == reg::kId) {
    id_ = IdReg(value);
    arbitration_ = ArbitrationReg().with_id(id_.id());
    return;
  }
  if (index < reg::kRedirectionFirst || index >= reg::kRedirectionFirst + 2 * kPinCount) return;  // read-only or reserved
  const unsigned pin = (index - reg::kRedirectionFirst) / 2;
  const RedirectionEntry old = entries_[pin];
  const RedirectionEntry written = (index & 1) != 0 ? old.with_high(value) : old.with_low(value);
  // Keep the read-only bits (delivery status, remote IRR) and the reserved ones.
  RedirectionEntry next((written.raw() & RedirectionEntry::kWritable) | (old.raw() & ~RedirectionEntry::kWritable));
  if (next.trigger_mode() == TriggerMode::edge) next = next.with_remote_irr(false);
  entries_[pin] = next;
  service_level(pin);
}

std::uint32_t IoApic::mmio_read(std::uint32_t offset) {
  std::lock_guard lock(mutex_);
  switch (offset) {
    case kRegSelOffset: return select_;
    case kWindowOffset: return read_register(select_);
    default: return 0;
  }
}

void IoApic::mmio_write(std::uint32_t offset, std::uint32_t value) {
  std::lock_guard lock(mutex_);
  switch (offset) {
    case kRegSelOffset: select_ = static_cast<std::uint8_t>(value); break;
    case kWindowOffset: write_register(select_, value); break;
    default: break;
  }
}

RedirectionEntry IoApic::entry(unsigned pin) const {
  std::lock_guard lock(mutex_);
  return pin < kPinCount ? entries_[pin] : RedirectionEntry();
}

bool IoApic::line(unsigned pin) const {
  std::lock_guard lock(mutex_);
  return pin < kPinCount && lines_[pin];
}

std::uint64_t IoApic::messages_sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

}  // namespace softsynic::devices
