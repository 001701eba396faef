// SynicVp: one virtual processor's SynIC, for each of the partition's VTLs:
// SCONTROL, SVERSION, SIEFP, SIMP, EOM and SINT0-15, the message slots of
// the SIMP page, the event flags of the SIEFP page, and the host-to-guest
// message queues of its SINTs.
//
// TLFS sections: "SynIC MSRs", "Message Buffers", "Event Flags", "End of
// Message (EOM)". Page contents: enabling SIMP or SIEFP (or moving it while
// enabled) zeroes the new page, as there is no overlay page to expose;
// disabling leaves guest memory as it is. Messages already in the old page
// stay there; queued ones go to the new page.
// Not supported here: STIMER registers (synic/timers), TIME_REF_COUNT and
// the hypercall MSRs (cpu_hooks/): they answer RegisterAccess::unknown.
//
// Threading: every method is strand-affine (run it on strand()), except
// index(), strand() and set_interrupt_sink(), which the emulator calls
// before the VP runs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include "synic/defs/message.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"
#include "synic/defs/vtl.h"
#include "synic/interrupt_sink.h"
#include "synic/register_access.h"

namespace softsynic {

class Partition;

class SynicVp {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;

  std::uint32_t index() const;
  Strand& strand();

  // The controller that takes this VP's interrupts at `vtl`. Without one,
  // interrupt requests are dropped (and reported to the error hook).
  void set_interrupt_sink(Vtl vtl, InterruptSink* sink);

  // Register access by synthetic register name (x86-64 MSRs map onto the
  // same names). read: invalid for write-only registers (none today).
  // write: invalid for SVERSION, reserved bits, an unmasked SINT vector
  // below 16. EOM reads 0 and any write is an end of message.
  RegisterAccess read_register(Vtl vtl, HvRegisterName name, std::uint64_t& value);
  RegisterAccess write_register(Vtl vtl, HvRegisterName name, std::uint64_t value);

  // The interrupt controller retired `vector` (an EOI of an in-service,
  // non-auto-EOI vector): SINTs of `vtl` that use it retry delivery, as on
  // EOM.
  void on_eoi(Vtl vtl, std::uint32_t vector);

  // Tries to move queued messages into free slots now. The partition posts
  // this to the strand itself after host posts; callers that poll (an
  // emulator's vCPU loop) may call it directly.
  void deliver_pending();

  // Raises SINT `sint`'s interrupt with no message or flag behind it, as a
  // host-side interrupt route to the SINT does (QEMU's and KVM's "SINT
  // route"). true: requested; false: masked, polling, or out of range.
  bool assert_sint(Vtl vtl, unsigned sint);

  // Withdraws the messages of (vtl, sint)'s queue, including those still
  // waiting for room, for which `match` is true: they never reach the
  // slot, and their async_post_message completes with Error::cancelled. A
  // message already in the slot stays (the guest owns it). Order of the
  // others is kept. Returns how many were withdrawn. The synthetic timers
  // use it to drop a reconfigured timer's undelivered expiries.
  std::size_t withdraw_messages(Vtl vtl, unsigned sint, const std::function<bool(const HvMessage&)>& match);

  // Register snapshots, for tools and tests.
  ScontrolReg scontrol(Vtl vtl) const;
  PageReg simp(Vtl vtl) const;
  PageReg siefp(Vtl vtl) const;
  SintReg sint(Vtl vtl, unsigned n) const;

  // Number of messages waiting in (vtl, sint)'s queue (approximate while
  // host threads post). Thread-safe.
  std::size_t queued_messages(Vtl vtl, unsigned sint) const;

  ~SynicVp();

 private:
  friend class Partition;
  struct Impl;
  explicit SynicVp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace softsynic
