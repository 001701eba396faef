// TimeSource: the partition's reference time (TIME_REF_COUNT, 100 ns
// units since partition start). The core never reads a clock itself; the
// emulator injects one. VirtualClock is the deterministic choice (replay,
// tests); emu/ offers a host steady-clock source for interactive runs.
//
// Thread-safety: now() is thread-safe. VirtualClock::advance()/set() are
// thread-safe but callers normally drive them from one place.
#pragma once

#include <atomic>
#include <cstdint>

namespace softsynic {

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual std::uint64_t now() const = 0;  // 100 ns units
};

class VirtualClock final : public TimeSource {
 public:
  std::uint64_t now() const override { return now_.load(std::memory_order_acquire); }
  void advance(std::uint64_t ticks_100ns) { now_.fetch_add(ticks_100ns, std::memory_order_acq_rel); }
  void set(std::uint64_t ticks_100ns) { now_.store(ticks_100ns, std::memory_order_release); }

 private:
  std::atomic<std::uint64_t> now_{0};
};

}  // namespace softsynic
