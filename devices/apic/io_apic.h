// IoApic: an Intel 82093AA I/O APIC (datasheet 2.0 "Functional
// Description", 3.0 "Register Description"): 24 interrupt input pins,
// each with a redirection entry that turns an edge or a level on the pin
// into an interrupt message to the local APICs of an ApicBus.
//
// Modelled: IOREGSEL/IOWIN (32-bit accesses; narrower reads see the
// selected register's bytes), IOAPICID (4 bits, writable; IOAPICARB follows
// it), IOAPICVER 0x11 with 24 entries, IOAPICARB, and per entry the vector,
// delivery mode (fixed and lowest priority reach the local APICs; INIT
// too), physical or logical destination (xAPIC format: 8 bits), pin
// polarity, trigger mode, mask, delivery status (always idle: a message is
// delivered at once) and remote IRR.
//  - Pins carry electrical levels (set_line): a pin is asserted when its
//    level differs from the entry's polarity (high for active high).
//  - Edge-triggered: a change to asserted while the entry is unmasked sends
//    one message; an edge while masked is lost, as on the part.
//  - Level-triggered: while the pin is asserted, the entry unmasked and
//    remote IRR clear, a message goes out and sets remote IRR; the local
//    APICs' EOI broadcast of the entry's vector (end_of_interrupt) clears
//    it, and a pin still asserted then sends again. Unmasking an asserted
//    level entry sends at once. Writing an entry as edge-triggered clears
//    its remote IRR (Linux toggles the trigger mode to clear a stuck one).
// Not supported: the EOI register of version 0x20 parts, SMI, NMI and ExtINT
// delivery (the ApicBus drops them), arbitration between local APICs
// (lowest priority goes to the first match, as ApicBus says), x2APIC
// destinations above 0xFF (interrupt remapping).
//
// Threading: every public method is thread-safe (one mutex); messages are
// sent to the bus with it held. Set-up: the constructor, before any VP
// runs. Lock order: a device that calls set_line under its own lock comes
// first, this mutex second, then the local APICs' kick (the runner's wake).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>

#include "devices/apic/io_apic_registers.h"

namespace softsynic::devices {

class ApicBus;

class IoApic {
 public:
  // Sends through `bus` and registers for its EOI broadcasts (set-up).
  explicit IoApic(ApicBus& bus, std::uint8_t id = 0);
  IoApic(const IoApic&) = delete;
  IoApic& operator=(const IoApic&) = delete;

  // The electrical level of input `pin` (0..23; others are ignored).
  void set_line(unsigned pin, bool level);
  // The local APICs retired `vector`, a level-triggered one: clears remote
  // IRR of the level entries that use it (and sends again where the pin is
  // still asserted).
  void end_of_interrupt(std::uint8_t vector);

  // MMIO at `offset` in the register page: IOREGSEL at 0x00, IOWIN at 0x10;
  // other offsets read 0 and ignore writes.
  std::uint32_t mmio_read(std::uint32_t offset);
  void mmio_write(std::uint32_t offset, std::uint32_t value);

  // Snapshots (tests, diagnostics).
  ioapic::RedirectionEntry entry(unsigned pin) const;
  bool line(unsigned pin) const;
  std::uint64_t messages_sent() const;

 private:
  std::uint32_t read_register(std::uint8_t index) const;
  void write_register(std::uint8_t index, std::uint32_t value);
  bool asserted(unsigned pin) const;
  // Level entries: send when asserted, unmasked and remote IRR is clear.
  void service_level(unsigned pin);
  void send(unsigned pin);

  ApicBus& bus_;
  mutable std::mutex mutex_;
  std::uint8_t select_ = 0;
  ioapic::IdReg id_;
  ioapic::ArbitrationReg arbitration_;
  std::array<ioapic::RedirectionEntry, ioapic::kPinCount> entries_{};
  std::array<bool, ioapic::kPinCount> lines_{};
  std::uint64_t sent_ = 0;
};

}  // namespace softsynic::devices
