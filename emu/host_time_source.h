// SteadyClockTimeSource: reference time (TIME_REF_COUNT, 100 ns units)
// from the host's steady clock, counted from construction, for interactive
// runs where the guest should see wall-clock time. Runs using it are not
// deterministic and cannot be replayed step for step: record and replay
// with a VirtualClock.
//
// The core never reads a clock; this is the one place in the project that
// does so on the guest's behalf, and only when the emulator chooses it.
//
// Thread-safety: now() is thread-safe and monotonic.
#pragma once

#include <chrono>
#include <cstdint>

#include "synic/time_source.h"

namespace softsynic::emu {

class SteadyClockTimeSource final : public TimeSource {
 public:
  using Clock = std::chrono::steady_clock;
  using Ticks = std::chrono::duration<std::uint64_t, std::ratio<1, 10'000'000>>;  // 100 ns

  // `offset_100ns` is the reference time at construction.
  explicit SteadyClockTimeSource(std::uint64_t offset_100ns = 0) : start_(Clock::now()), offset_(offset_100ns) {}

  std::uint64_t now() const override { return offset_ + elapsed_since(start_); }

  // 100 ns ticks from `since` to now (0 if `since` is in the future).
  static std::uint64_t elapsed_since(Clock::time_point since) {
    const auto d = Clock::now() - since;
    return d.count() <= 0 ? 0 : std::chrono::duration_cast<Ticks>(d).count();
  }
  // The host time at which reference time `ticks_100ns` is reached.
  Clock::time_point when(std::uint64_t ticks_100ns) const {
    const std::uint64_t rel = ticks_100ns > offset_ ? ticks_100ns - offset_ : 0;
    return start_ + std::chrono::duration_cast<Clock::duration>(Ticks(rel));
  }

 private:
  Clock::time_point start_;
  std::uint64_t offset_;
};

}  // namespace softsynic::emu
