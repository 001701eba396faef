// Host ports that remember what they were given, for replay and tests:
// RecordingMessagePort (a bounded consumer queue: full => the guest's
// HvPostMessage gets HV_STATUS_INSUFFICIENT_BUFFERS) and RecordingEventPort.
// "Unchecked" lists hold what arrived since the last take_unchecked(), so
// a trace can say "exactly these since the last check".
//
// Threading: every method is thread-safe (ports are called on VP strands,
// checks come from the driving thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include "emu/replay/trace.h"
#include "synic/ports.h"

namespace softsynic::replay {

inline constexpr std::uint32_t kDefaultPortCapacity = 64;

class RecordingMessagePort final : public MessagePort {
 public:
  explicit RecordingMessagePort(std::uint32_t capacity = kDefaultPortCapacity) : capacity_(capacity) {}

  // Takes the message unless `capacity` messages are queued.
  bool on_message(const GuestMessage& message) override {
    std::lock_guard lock(mutex_);
    if (queued_ >= capacity_) return false;
    ++queued_;
    unchecked_.push_back(PortMessage{message.message_type, Bytes(message.payload.begin(), message.payload.end())});
    return true;
  }
  // The consumer takes up to n of the oldest queued messages; returns how
  // many it took.
  std::uint32_t take(std::uint32_t n) {
    std::lock_guard lock(mutex_);
    const std::uint32_t taken = n < queued_ ? n : queued_;
    queued_ -= taken;
    return taken;
  }
  std::vector<PortMessage> take_unchecked() {
    std::lock_guard lock(mutex_);
    return std::exchange(unchecked_, {});
  }
  std::uint32_t queued() const {
    std::lock_guard lock(mutex_);
    return queued_;
  }

 private:
  mutable std::mutex mutex_;
  const std::uint32_t capacity_;
  std::uint32_t queued_ = 0;
  std::vector<PortMessage> unchecked_;
};

class RecordingEventPort final : public EventPort {
 public:
  void on_event(const GuestEvent& event) override {
    std::lock_guard lock(mutex_);
    unchecked_.push_back(event.flag);
  }
  std::vector<std::uint16_t> take_unchecked() {
    std::lock_guard lock(mutex_);
    return std::exchange(unchecked_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<std::uint16_t> unchecked_;
};

}  // namespace softsynic::replay
