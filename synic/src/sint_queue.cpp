// SintQueue: bounded MPSC message queue with backpressure waiters.
// TLFS: "Message Buffers". Not supported: priorities.
#include "synic/src/sint_queue.h"

#include <utility>
#include <vector>

#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>

#include "synic/errors.h"

namespace softsynic::detail {

SintQueue::SintQueue(std::uint32_t capacity, boost::asio::any_io_executor fallback, AdmitHook on_admitted)
    : queue_(capacity), fallback_(std::move(fallback)), on_admitted_(std::move(on_admitted)) {}

SintQueue::~SintQueue() { cancel_waiters(); }

// count_ is changed with acq_rel read-modify-writes on both sides: they
// order a producer's waiter announcement against a consumer's pop (see
// pop_front) without a fence.
bool SintQueue::push_now(const HvMessage& m) {
  count_.fetch_add(1, std::memory_order_acq_rel);
  if (queue_.push(m)) return true;
  count_.fetch_sub(1, std::memory_order_acq_rel);
  return false;
}

bool SintQueue::try_push(const HvMessage& m) {
  std::lock_guard lock(producer_mutex_);
  // Waiters queued first keep their place: a plain post does not overtake.
  if (!waiters_.empty()) return false;
  return push_now(m);
}

bool SintQueue::push_or_wait(const HvMessage& m, Handler handler) {
  std::unique_lock lock(producer_mutex_);
  if (waiters_.empty()) {
    if (push_now(m)) {
      lock.unlock();
      complete_post(std::move(handler), {}, fallback_);
      return true;
    }
    // Announce the waiter, then try once more: a consumer that popped
    // before seeing the count has freed room this push will find.
    waiter_count_.fetch_add(1, std::memory_order_seq_cst);
    if (push_now(m)) {
      waiter_count_.fetch_sub(1, std::memory_order_seq_cst);
      lock.unlock();
      complete_post(std::move(handler), {}, fallback_);
      return true;
    }
  } else {
    waiter_count_.fetch_add(1, std::memory_order_seq_cst);
  }
  waiters_.push_back(Waiter{m, std::move(handler)});
  return false;
}

void SintQueue::admit_waiters() {
  std::vector<Waiter> admitted;
  {
    std::lock_guard lock(producer_mutex_);
    while (!waiters_.empty() && push_now(waiters_.front().message)) {
      admitted.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
      waiter_count_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  for (auto& w : admitted) {
    if (on_admitted_) on_admitted_(w.message);
    complete_post(std::move(w.handler), {}, fallback_);
  }
}

void SintQueue::cancel_waiters() {
  std::deque<Waiter> gone;
  {
    std::lock_guard lock(producer_mutex_);
    gone.swap(waiters_);
    waiter_count_.store(0, std::memory_order_seq_cst);
  }
  for (auto& w : gone) complete_post(std::move(w.handler), make_error_code(Error::cancelled), fallback_);
}

std::size_t SintQueue::withdraw(const std::function<bool(const HvMessage&)>& match) {
  std::deque<Waiter> gone;
  std::size_t removed = 0;
  {
    std::lock_guard lock(producer_mutex_);
    // The ring only pops from the front: take everything out, push back
    // what stays. No producer can push meanwhile (they hold the mutex).
    std::vector<HvMessage> kept;
    if (head_) {
      if (match(*head_)) {
        head_.reset();
        count_.fetch_sub(1, std::memory_order_acq_rel);
        ++removed;
      }
    }
    HvMessage m;
    while (queue_.pop(m)) {
      if (match(m)) {
        count_.fetch_sub(1, std::memory_order_acq_rel);
        ++removed;
      } else {
        kept.push_back(m);
      }
    }
    for (const HvMessage& k : kept) queue_.push(k);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (match(it->message)) {
        gone.push_back(std::move(*it));
        it = waiters_.erase(it);
        waiter_count_.fetch_sub(1, std::memory_order_seq_cst);
        ++removed;
      } else {
        ++it;
      }
    }
  }
  for (auto& w : gone) complete_post(std::move(w.handler), make_error_code(Error::cancelled), fallback_);
  // Room may have appeared for the waiters that stay.
  if (removed != 0 && waiter_count_.load(std::memory_order_acquire) != 0 && !head_) admit_waiters();
  return removed;
}

void complete_post(PostHandler handler, boost::system::error_code ec, const boost::asio::any_io_executor& fallback) {
  // post() runs it through fallback (never inline) and then on the
  // handler's associated executor when it has one.
  boost::asio::post(fallback, boost::asio::append(std::move(handler), ec));
}

// Waiters get the room before this message is delivered, so their
// admission is observed first: pop into the head now.
const HvMessage* SintQueue::front_with_waiters() {
  HvMessage& m = head_.emplace();
  if (!queue_.pop(m)) {
    head_.reset();
    return nullptr;
  }
  admit_waiters();
  return &*head_;
}

}  // namespace softsynic::detail
