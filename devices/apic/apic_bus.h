// ApicBus: the local APICs of one partition, so that an interprocessor
// interrupt written to one VP's ICR reaches the others (Intel SDM vol. 3
// "Issuing Interprocessor Interrupts", "Determining IPI Destination").
// Physical destinations (broadcast 0xFF / 0xFFFFFFFF), logical flat and
// cluster (xAPIC) or cluster (x2APIC) destinations, and the shorthands.
// Lowest-priority delivery goes to the first matching APIC in attach order;
// NMI, SMI and ExtINT are dropped.
//
// Threading: attach() is set-up (before any VP runs); send() is thread-safe
// (it only reads the APIC list and calls the targets' thread-safe
// delivery methods).
#pragma once

#include <cstdint>
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

  // Delivers `icr`'s message (fixed, lowest priority, INIT, SIPI) to one
  // APIC, whatever the destination says. Returns false for modes that are
  // not delivered (NMI, SMI, ExtINT, INIT de-assert).
  static bool deliver(LocalApic& target, apic::IcrReg icr);

 private:
  std::vector<LocalApic*> apics_;
};

}  // namespace softsynic::devices
