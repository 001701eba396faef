// ApicBus: IPI routing between the local APICs of a partition (Intel SDM
// vol. 3 "Issuing Interprocessor Interrupts", "Determining IPI
// Destination"). See devices/apic/apic_bus.h.
#include "devices/apic/apic_bus.h"

#include "devices/apic/local_apic.h"

namespace softsynic::devices {

using namespace apic;

void ApicBus::attach(LocalApic& apic) {
  apic.bus_ = this;
  apics_.push_back(&apic);
}

LocalApic* ApicBus::find_by_id(std::uint32_t apic_id) const {
  for (LocalApic* a : apics_)
    if (a->apic_id() == apic_id) return a;
  return nullptr;
}

bool ApicBus::deliver(LocalApic& target, IcrReg icr) {
  switch (icr.delivery_mode()) {
    case DeliveryMode::fixed:
    case DeliveryMode::lowest_priority:
      target.deliver_fixed(icr.vector(), icr.level_triggered());
      return true;
    case DeliveryMode::init:
      // INIT level de-assert (level 0, level-triggered) only resynchronises
      // arbitration IDs: nothing to do.
      if (icr.level_triggered() && !icr.level_assert()) return false;
      target.deliver_init();
      return true;
    case DeliveryMode::startup:
      target.deliver_startup(icr.vector());
      return true;
    default:
      return false;  // NMI, SMI, ExtINT and reserved modes are not modelled
  }
}

unsigned ApicBus::send(const LocalApic& source, IcrReg icr) const {
  const bool x2 = source.x2apic_.load(std::memory_order_relaxed);
  return deliver_to_selected(&source, icr, x2 ? icr.x2apic_destination() : icr.xapic_destination());
}

unsigned ApicBus::send_message(IcrReg icr) const {
  return deliver_to_selected(nullptr, icr.with_shorthand(DestinationShorthand::none), icr.xapic_destination());
}

// `source` is the sending local APIC for the shorthands (nullptr: an I/O
// APIC's message, which has none).
unsigned ApicBus::deliver_to_selected(const LocalApic* source, IcrReg icr, std::uint32_t destination) const {
  const bool lowest = icr.delivery_mode() == DeliveryMode::lowest_priority;
  unsigned reached = 0;
  for (LocalApic* target : apics_) {
    bool selected = false;
    switch (icr.shorthand()) {
      case DestinationShorthand::self: selected = target == source; break;
      case DestinationShorthand::all_including_self: selected = true; break;
      case DestinationShorthand::all_excluding_self: selected = target != source; break;
      default: selected = target->matches_destination(destination, icr.logical()); break;
    }
    if (selected && deliver(*target, icr)) {
      ++reached;
      if (lowest) break;  // the first match stands in for arbitration
    }
  }
  return reached;
}

void ApicBus::add_eoi_listener(std::function<void(std::uint8_t)> listener) {
  eoi_listeners_.push_back(std::move(listener));
}

void ApicBus::broadcast_eoi(std::uint8_t vector) const {
  for (const auto& listener : eoi_listeners_) listener(vector);
}

}  // namespace softsynic::devices
