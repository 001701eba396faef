// Connecting the interrupt controllers to a SynicVp: the controller becomes
// the VP's InterruptSink, and the controller's EOI (x86-64: EOI of an
// in-service vector; ARM64: deactivation of an INTID) is reported to the
// SynIC, which retries delivery for the SINTs using that vector (EOI acts as
// EOM). Kept in its own file so programs that do not attach a SynIC do not
// link it.
#include "devices/apic/local_apic.h"
#include "devices/arm64/interrupt_line.h"
#include "synic/synic_vp.h"

namespace softsynic::devices {

void LocalApic::attach_synic(SynicVp& vp, Vtl vtl) {
  vp.set_interrupt_sink(vtl, this);
  on_eoi_ = [&vp, vtl](std::uint32_t vector) { vp.on_eoi(vtl, vector); };
}

void InterruptLine::attach_synic(SynicVp& vp, Vtl vtl) {
  vp.set_interrupt_sink(vtl, this);
  on_eoi_ = [&vp, vtl](std::uint32_t intid) { vp.on_eoi(vtl, intid); };
}

}  // namespace softsynic::devices
