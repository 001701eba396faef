// SintQueue: the bounded host-to-guest message queue of one (VTL, VP, SINT)
// and its backpressure waiters. Private to synic/.
// TLFS: "Message Buffers" (the queue feeds one SIMP slot). Not supported:
// priorities; order is FIFO per queue.
//
// Threading: try_push, push_or_wait, cancel_waiters and size are
// thread-safe (any host thread). front and pop_front are strand-affine:
// only the owning VP's strand consumes.
//
// Structure: a Boost.Lockfree single-producer/single-consumer ring whose
// producer side is serialised by a mutex (host posts are cheap and rarely
// contend per SINT) and whose consumer, the VP's strand, pops without
// locking. boost::lockfree::queue (MPMC) was the first choice, but its
// node freelist reads a node's link non-atomically while another producer
// may already be constructing that node: a data race ThreadSanitizer
// reports, and it caps capacity at 65534.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <boost/system/error_code.hpp>

#include "synic/defs/message.h"

namespace softsynic::detail {

using PostHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

// Runs handler(ec) later on its associated executor (fallback when it has
// none); never inline, since callers may hold locks.
void complete_post(PostHandler handler, boost::system::error_code ec, const boost::asio::any_io_executor& fallback);

class SintQueue {
 public:
  using Handler = PostHandler;

  using AdmitHook = std::function<void(const HvMessage&)>;

  // capacity: 1..65535 (checked by the partition). fallback: where
  // completions run when the handler has no associated executor.
  // on_admitted: told (on the strand) of each waiter's message once queued.
  SintQueue(std::uint32_t capacity, boost::asio::any_io_executor fallback, AdmitHook on_admitted);
  ~SintQueue();
  SintQueue(const SintQueue&) = delete;
  SintQueue& operator=(const SintQueue&) = delete;

  // Queues m unless the queue is full or async waiters are ahead of it.
  bool try_push(const HvMessage& m);
  // Queues m now (true; the handler is completed with success) or stores it
  // as a waiter that the consumer queues once room appears (false).
  bool push_or_wait(const HvMessage& m, Handler handler);
  // Completes every waiter with Error::cancelled.
  void cancel_waiters();
  // Strand-affine (the consumer): removes every queued message and every
  // waiter's message for which `match` is true, keeping the others in
  // order; the removed waiters complete with Error::cancelled. Returns how
  // many were removed. Producers wait on the mutex meanwhile.
  std::size_t withdraw(const std::function<bool(const HvMessage&)>& match);
  // Messages queued or held at the head (approximate under concurrency).
  std::size_t size() const {
    const auto n = count_.load(std::memory_order_relaxed);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }

  // The oldest message, valid until pop_front(); nullptr when empty. It is
  // read in place in the ring unless waiters are queued: then it is popped
  // into the head at once so they are admitted before it is delivered.
  // Popping makes room for waiters.
  // Inline: the EOM and delivery paths call them once per message.
  const HvMessage* front() {
    if (head_) return &*head_;
    if (waiter_count_.load(std::memory_order_acquire) != 0) return front_with_waiters();
    // Nobody waits: deliver straight from the ring, popped in pop_front.
    if (queue_.read_available() == 0) return nullptr;
    return &queue_.front();
  }
  void pop_front() {
    if (head_) {
      head_.reset();
      count_.fetch_sub(1, std::memory_order_acq_rel);
    } else if (queue_.pop()) {
      // A producer raises waiter_count_ and then count_ (acq_rel) before
      // its last push attempt. Either its count_ update comes after this
      // one and its push sees the room, or this one reads it and sees the
      // waiter.
      count_.fetch_sub(1, std::memory_order_acq_rel);
      if (waiter_count_.load(std::memory_order_acquire) != 0) admit_waiters();
    }
  }

 private:
  struct Waiter {
    HvMessage message;
    Handler handler;
  };
  bool push_now(const HvMessage& m);  // caller holds producer_mutex_
  void admit_waiters();
  const HvMessage* front_with_waiters();

  boost::lockfree::spsc_queue<HvMessage> queue_;  // pushed under producer_mutex_ only
  boost::asio::any_io_executor fallback_;
  AdmitHook on_admitted_;
  std::optional<HvMessage> head_;        // strand only; used only while waiters queue
  std::atomic<std::int64_t> count_{0};   // queued + head; raised before a push so it never goes negative
  std::mutex producer_mutex_;
  std::deque<Waiter> waiters_;           // guarded by producer_mutex_
  std::atomic<std::uint32_t> waiter_count_{0};  // lets the consumer skip the mutex when nobody waits
};

}  // namespace softsynic::detail
