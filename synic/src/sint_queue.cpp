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

bool SintQueue::push_now(const HvMessage& m) {
  count_.fetch_add(1, std::memory_order_relaxed);
  if (queue_.push(m)) return true;
  count_.fetch_sub(1, std::memory_order_relaxed);
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

void complete_post(PostHandler handler, boost::system::error_code ec, const boost::asio::any_io_executor& fallback) {
  // post() runs it through fallback (never inline) and then on the
  // handler's associated executor when it has one.
  boost::asio::post(fallback, boost::asio::append(std::move(handler), ec));
}

std::size_t SintQueue::size() const {
  const auto n = count_.load(std::memory_order_relaxed);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

const HvMessage* SintQueue::front() {
  if (!head_) {
    HvMessage m{};
    if (!queue_.pop(m)) return nullptr;
    head_ = m;
    // Pairs with the producer's announce-then-retry in push_or_wait.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiter_count_.load(std::memory_order_seq_cst) != 0) admit_waiters();
  }
  return &*head_;
}

void SintQueue::pop_front() {
  if (!head_) return;
  head_.reset();
  count_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace softsynic::detail
