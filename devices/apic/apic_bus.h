// ApicBus: the local APICs of one partition, so that an interprocessor
// interrupt written to one VP's ICR reaches the others (Intel SDM vol. 3
// "Issuing Interprocessor Interrupts", "Determining IPI Destination").
// Physical destinations (broadcast 0xFF / 0xFFFFFFFF), logical flat and
// cluster (xAPIC) or cluster (x2APIC) destinations, and the shorthands.
// Lowest-priority delivery goes to the first matching APIC in attach order;
// NMI, SMI and ExtINT are dropped. Interrupt messages from an I/O APIC
// (send_message) and the local APICs' EOI broadcast of level-triggered
// vectors back to the I/O APICs (SDM "EOI Register": "the local APIC
// broadcasts an EOI message to all I/O APICs" for a vector whose TMR bit
// is set) travel on the same bus.
//
// Threading: attach() and add_eoi_listener() are set-up (before any VP
// runs); send(), send_message() and broadcast_eoi() are thread-safe (they
// only read the lists and call the targets' thread-safe methods).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "devices/apic/apic_registers.h"

namespace softsynic::devices {

class LocalApic;

class ApicBus {
 public:
  // Adds the APIC and makes it send its IPIs through this bus.
  void attach(LocalApic& apic);
  std::size_t size() const { return apics_.size(); }
  LocalApic* find_by_id(std::uint32_t apic_id) const;

  // Delivers `icr` sent by `source`. Destination fields are read in the
  // source's mode (x2APIC: 32-bit, xAPIC: bits 56-63). Returns the number of
  // APICs it reached.
  unsigned send(const LocalApic& source, apic::IcrReg icr) const;

  // Delivers an interrupt message from an I/O APIC: no shorthand, the
  // destination in the xAPIC place (ICR bits 56-63), matched against each
  // APIC in its current mode. Returns the number of APICs it reached.
  unsigned send_message(apic::IcrReg icr) const;

  // Set-up: `listener` hears every EOI broadcast (an I/O APIC's remote IRR).
  void add_eoi_listener(std::function<void(std::uint8_t vector)> listener);
  // A local APIC retired level-triggered `vector`: tells every listener.
  void broadcast_eoi(std::uint8_t vector) const;

  // Delivers `icr`'s message (fixed, lowest priority, INIT, SIPI) to one
  // APIC, whatever the destination says. Returns false for modes that are
  // not delivered (NMI, SMI, ExtINT, INIT de-assert).
  static bool deliver(LocalApic& target, apic::IcrReg icr);

 private:
  unsigned deliver_to_selected(const LocalApic* source, apic::IcrReg icr, std::uint32_t destination) const;

  std::vector<LocalApic*> apics_;
  std::vector<std::function<void(std::uint8_t)>> eoi_listeners_;
};

}  // namespace softsynic::devices
