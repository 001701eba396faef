// HostByteBacklog: the bytes a host typed at a UART that its receive FIFO
// has no room for yet, so host input is never overrun (the 16550 and the
// PL011 share it). Bounded: take() accepts only what fits under the limit.
//
// Threading: none of its own; the owning device guards it with its mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>

namespace softsynic::devices {

class HostByteBacklog {
 public:
  // Host bytes held beyond the FIFO; take() accepts no more.
  static constexpr std::size_t kLimit = 1 << 16;

  // Queues the bytes that fit; returns how many were taken.
  std::size_t take(std::span<const std::uint8_t> bytes) {
    const std::size_t room = kLimit - bytes_.size();
    const std::size_t taken = bytes.size() < room ? bytes.size() : room;
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(taken));
    return taken;
  }
  // Moves bytes, oldest first, into `fifo` until it holds `capacity`;
  // returns how many moved.
  std::size_t move_into(std::deque<std::uint8_t>& fifo, std::size_t capacity) {
    std::size_t moved = 0;
    for (; !bytes_.empty() && fifo.size() < capacity; ++moved) {
      fifo.push_back(bytes_.front());
      bytes_.pop_front();
    }
    return moved;
  }
  std::size_t size() const { return bytes_.size(); }

 private:
  std::deque<std::uint8_t> bytes_;
};

}  // namespace softsynic::devices
