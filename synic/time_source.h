// TimeSource: the partition's reference time (TIME_REF_COUNT, 100 ns
// units since partition start). The core never reads a clock itself; the
// emulator injects one. VirtualClock is the deterministic choice (replay,
// tests); emu/host_time_source.h has a host steady-clock source for
// interactive runs (the reference runner's --clock host drives its
// VirtualClock from the host clock with advance_to()).
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
  // Moves the clock forward to `ticks_100ns`, never back (safe when several
  // threads follow one outside clock).
  void advance_to(std::uint64_t ticks_100ns) {
    std::uint64_t cur = now_.load(std::memory_order_acquire);
    while (cur < ticks_100ns && !now_.compare_exchange_weak(cur, ticks_100ns, std::memory_order_acq_rel)) {
    }
  }

 private:
  std::atomic<std::uint64_t> now_{0};
};

}  // namespace softsynic
