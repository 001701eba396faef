// VpCore: one VP's SynIC state for each VTL (registers, SINT queues,
// interrupt sinks) and the delivery rules that move queued messages into
// SIMP slots. SynicVp is its public face. Private to synic/.
// TLFS: "SynIC MSRs", "Message Buffers", "Event Flags", "End of Message".
// Not supported: STIMER registers (synic/timers), intercept and proxy SINTs.
//
// Threading: register storage is std::atomic, written only on the strand,
// so signal_event() and the snapshots can read it from any thread.
//  - strand-affine: read_register, write_register, on_eoi, deliver_pending,
//    post_direct, withdraw_messages, and kick with now = true.
//  - thread-safe: push, kick with now = false, post, post_or_wait,
//    cancel_waiters, signal_event, queued_messages, the snapshots, index,
//    strand, set_interrupt_sink, on_own_strand.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "synic/defs/message.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"
#include "synic/errors.h"
#include "synic/interrupt_sink.h"
#include "synic/observer.h"
#include "synic/register_access.h"
#include "synic/src/sint_queue.h"
#include "synic/synic_vp.h"

namespace softsynic::detail {

struct PartitionState;

class VpCore {
 public:
  using Strand = SynicVp::Strand;

  VpCore(PartitionState& state, std::uint32_t index, boost::asio::any_io_executor executor);

  std::uint32_t index() const { return index_; }
  Strand& strand() { return strand_; }
  void set_interrupt_sink(Vtl vtl, InterruptSink* sink);

  RegisterAccess read_register(Vtl vtl, HvRegisterName name, std::uint64_t& value) const;
  RegisterAccess write_register(Vtl vtl, HvRegisterName name, std::uint64_t value);
  void on_eoi(Vtl vtl, std::uint32_t vector);
  void deliver_pending();

  ScontrolReg scontrol(Vtl vtl) const;
  PageReg simp(Vtl vtl) const;
  PageReg siefp(Vtl vtl) const;
  SintReg sint(Vtl vtl, unsigned n) const;
  bool assert_sint(Vtl vtl, unsigned sint);
  std::size_t queued_messages(Vtl vtl, unsigned sint) const;

  // Host side. Arguments are already checked by the partition.
  Error post(Vtl vtl, unsigned sint, const HvMessage& message);  // push, then kick(now = false)
  // True on this VP's strand outside a delivery: a post may deliver now.
  bool on_own_strand() const { return strand_.running_in_this_thread() && !delivering_; }
  // When on_own_strand() and no observer is set: nothing queued for the
  // SINT, deliverable and its slot free, writes the message straight into
  // the slot and raises (true); else does nothing (false).
  bool post_direct(Vtl vtl, unsigned sint, std::uint32_t message_type, std::span<const std::byte> payload);
  Error push(Vtl vtl, unsigned sint, const HvMessage& message);
  // After a push: deliver now (on_own_strand() only) or schedule a drain.
  void kick(Vtl vtl, unsigned sint, bool now);
  // true: queued now (handler completed); false: waiting for room.
  bool post_or_wait(Vtl vtl, unsigned sint, const HvMessage& message, SintQueue::Handler handler);
  void cancel_waiters();
  // Strand-affine: SynicVp::withdraw_messages.
  std::size_t withdraw_messages(Vtl vtl, unsigned sint, const std::function<bool(const HvMessage&)>& match);
  // Sets `flag` in the SIEFP slot of `sint`; raised tells whether an
  // interrupt was requested.
  Error signal_event(Vtl vtl, unsigned sint, std::uint16_t flag, bool& raised);

 private:
  struct VtlState {
    VtlState() = default;
    ~VtlState();
    VtlState(const VtlState&) = delete;
    VtlState& operator=(const VtlState&) = delete;
    std::atomic<std::uint64_t> scontrol{0};
    std::atomic<std::uint64_t> simp{0};
    std::atomic<std::uint64_t> siefp{0};
    std::array<std::atomic<std::uint64_t>, kSintCount> sints;
    std::atomic<InterruptSink*> sink{nullptr};
    // Host bytes of the enabled SIMP / SIEFP page when the memory offers
    // stable ones, else nullptr (then GuestMemory calls). Written on the
    // strand with the register; siefp_host is read from any thread.
    std::atomic<std::byte*> simp_host{nullptr};
    std::atomic<std::byte*> siefp_host{nullptr};
    // Created on a SINT's first post (idle SINTs cost a pointer); never
    // replaced once set, freed with the VP.
    std::array<std::atomic<SintQueue*>, kSintCount> queues{};
    // Bit n: queues[n] is set. Retries walk only these SINTs.
    std::atomic<std::uint16_t> queued_sints{0};
    bool simp_fault_reported = false;  // strand only
  };

  VtlState* vtl_state(Vtl vtl) const;
  SintQueue* queue(Vtl vtl, unsigned sint) const;  // nullptr: nothing posted yet
  SintQueue& make_queue(Vtl vtl, unsigned sint);     // thread-safe
  bool observed() const { return observer_.load(std::memory_order_relaxed) != nullptr; }
  void mark_pending(Vtl vtl, unsigned sint);
  void deliver(Vtl vtl, unsigned sint);
  void deliver_all(Vtl vtl);
  // Inline: one sink call per delivery and per raised flag; reports and
  // observer events go out of line.
  void raise(Vtl vtl, unsigned sint, SintReg reg) {
    InterruptSink* sink = vtls_[vtl]->sink.load(std::memory_order_acquire);
    if (sink == nullptr || observed()) return raise_reported(vtl, sint, reg, sink);
    sink->request_interrupt(reg.vector(), reg.auto_eoi());
  }
  [[gnu::noinline]] void raise_reported(Vtl vtl, unsigned sint, SintReg reg, InterruptSink* sink);
  RegisterAccess write_page(Vtl vtl, HvRegisterName name, std::atomic<std::uint64_t>& reg,
                            std::atomic<std::byte*>& host, std::uint64_t value);
  SynicEvent event(SynicEventKind kind, Vtl vtl, unsigned sint = 0) const;

  PartitionState& state_;
  const std::atomic<SynicObserver*>& observer_;  // state_.observer
  std::uint32_t index_;
  Strand strand_;
  std::vector<std::unique_ptr<VtlState>> vtls_;
  // Bit vtl * 16 + sint: host posts not yet looked at by the strand.
  std::atomic<std::uint64_t> pending_{0};
  std::atomic<bool> drain_scheduled_{false};
  bool delivering_ = false;  // strand only: inside deliver(), posts queue instead of nesting
};

}  // namespace softsynic::detail
