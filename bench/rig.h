// SynicRig: the partition every benchmark drives. RAM with one SIMP and one
// SIEFP page per VP, SCONTROL and SINT kSint enabled on every VP (vector
// kVector, not auto-EOI), a counting interrupt sink per VP, and host ports:
// kEventPorts event ports and one message port (a ring per VP).
//
// Each VP's strand wraps one of `executors` DeterministicExecutors (VP i
// uses executor i % executors), so a benchmark thread that owns executor t
// runs the strand work of VPs t, t + executors, ... and nothing else: guest
// calls for those VPs are serial, as on a vCPU thread.
//
// Not measured here: the observer (none is set) and VTLs above 0.
//
// Threading: construct and destroy on one thread; per-VP members are used
// only by the thread that owns the VP.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "synic/defs/message.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/interrupt_sink.h"
#include "synic/partition.h"
#include "synic/ports.h"

namespace softsynic::bench {

inline constexpr std::uint8_t kSint = 2;
inline constexpr std::uint8_t kVector = 0x50;
inline constexpr std::uint32_t kMessageType = 1;
inline constexpr std::uint32_t kEventConnection = 0x1000;  // first of kEventPorts
inline constexpr std::uint32_t kEventPorts = 16;           // a VMBus-sized registry
inline constexpr std::uint32_t kMessageConnection = 0x2000;
inline constexpr std::uint32_t kMaxVps = 64;

// Single-writer counter: a plain increment through relaxed atomics, so the
// hot path pays no locked instruction while other threads may read it.
class Counter {
 public:
  void bump() { n_.store(n_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  std::uint64_t value() const { return n_.load(std::memory_order_relaxed); }
  void reset() { n_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> n_{0};
};

// Keeps per-VP counters on separate cache lines.
struct alignas(64) PaddedCounter {
  Counter counter;
};

// One per VP, each on its own cache line: VPs driven by different threads
// must not share a written line through the benchmark's own sinks (an
// emulator's interrupt controllers are separate objects too).
class alignas(64) CountingSink final : public InterruptSink {
 public:
  void request_interrupt(std::uint32_t, bool) override { requests.bump(); }
  Counter requests;
};

class CountingEventPort final : public EventPort {
 public:
  void on_event(const GuestEvent& event) override { per_vp[event.vp % kMaxVps].counter.bump(); }
  std::uint64_t total() const;
  std::array<PaddedCounter, kMaxVps> per_vp;
};

// What a host message port does with a message: one copy into a bounded
// ring. The floor of HvPostMessage uses the same ring.
class MessageRing {
 public:
  static constexpr std::uint32_t kSlots = 16;
  // false when full.
  bool push(std::uint32_t type, std::span<const std::byte> payload);
  // The oldest message, or nullptr when empty; pop() drops it.
  const HvMessage* front() const { return head_ == tail_ ? nullptr : &slots_[tail_ % kSlots]; }
  void pop() { ++tail_; }

 private:
  std::array<HvMessage, kSlots> slots_{};
  std::uint32_t head_ = 0;
  std::uint32_t tail_ = 0;
};

class RingMessagePort final : public MessagePort {
 public:
  bool on_message(const GuestMessage& message) override {
    return rings[message.vp % kMaxVps].push(message.message_type, message.payload);
  }
  std::array<MessageRing, kMaxVps> rings;
};

struct RigConfig {
  std::uint32_t vps = 1;
  unsigned executors = 1;
  std::uint32_t queue_capacity = 64;
};

class SynicRig {
 public:
  explicit SynicRig(RigConfig config);
  ~SynicRig();
  SynicRig(const SynicRig&) = delete;
  SynicRig& operator=(const SynicRig&) = delete;

  Partition& partition() { return *partition_; }
  RamGuestMemory& ram() { return ram_; }
  DeterministicExecutor& executor_of(std::uint32_t vp) { return *executors_[vp % executors_.size()]; }
  CountingSink& sink(std::uint32_t vp) { return *sinks_[vp]; }
  // Interrupt requests over every VP's sink.
  std::uint64_t interrupt_requests() const;
  CountingEventPort& event_port() { return *event_port_; }
  RingMessagePort& message_port() { return *message_port_; }

  static std::uint64_t simp_gpa(std::uint32_t vp) { return kPagesBase + vp * 2 * kPage; }
  static std::uint64_t siefp_gpa(std::uint32_t vp) { return simp_gpa(vp) + kPage; }
  // A page per VP for hypercall input blocks.
  static std::uint64_t input_gpa(std::uint32_t vp) { return kInputBase + vp * kPage; }

  // The kSint message slot of `vp`'s SIMP page, as the guest sees it.
  std::byte* message_slot(std::uint32_t vp);
  // The 64-bit word of `vp`'s kSint SIEFP slot that holds `flag`.
  std::atomic_ref<std::uint64_t> flag_word(std::uint32_t vp, std::uint16_t flag);
  // The guest frees the slot: message type back to 0.
  void free_slot(std::uint32_t vp);
  bool slot_busy(std::uint32_t vp);

  // Runs `f` on `vp`'s strand and drains its executor.
  template <typename F>
  void on_strand(std::uint32_t vp, F&& f) {
    boost::asio::post(partition_->vp(vp).strand(), std::forward<F>(f));
    executor_of(vp).run_until_idle();
  }

 private:
  static constexpr std::uint64_t kPage = 4096;
  static constexpr std::uint64_t kPagesBase = 0x100000;
  static constexpr std::uint64_t kInputBase = kPagesBase + 2 * kMaxVps * kPage;
  static constexpr std::uint64_t kRamSize = kInputBase + kMaxVps * kPage;

  RamGuestMemory ram_;
  std::vector<std::unique_ptr<DeterministicExecutor>> executors_;
  std::vector<std::unique_ptr<CountingSink>> sinks_;
  std::shared_ptr<CountingEventPort> event_port_;
  std::shared_ptr<RingMessagePort> message_port_;
  std::unique_ptr<Partition> partition_;
  std::vector<PortHandle> handles_;
  std::vector<std::byte*> slots_;  // message_slot(vp), looked up once: the guest's store is what is timed
};

// A 240-byte payload, the largest a message carries.
std::span<const std::byte> full_payload();

// The HvPostMessage input block the benchmarks post: kMessageConnection,
// kMessageType and the full payload.
PostMessageInput post_input();
// Writes post_input() into `vp`'s input page, as the guest would.
void write_post_input(SynicRig& rig, std::uint32_t vp);
// Pops what a message port received; false when it received nothing.
bool pop_message(MessageRing& ring);

}  // namespace softsynic::bench
