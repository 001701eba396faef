// ApicTimer: the local APIC timer's counting (Intel SDM vol. 3, "APIC
// Timer"): the current count falls from the initial count at the APIC
// timer frequency divided by the divide configuration; in one-shot mode it
// stops at 0 and raises the LVT timer vector once, in periodic mode it
// reloads and raises each period. Time is injected: every method takes the
// reference time (100 ns units), and the count is derived from it, so a run
// under a virtual clock counts the same every time.
// Not supported: TSC-deadline mode (not advertised by the reference
// emulator's CPU), the count's behaviour when the divide value changes
// while it runs (it restarts from the current count at the new rate).
//
// Threading: a value type; its LocalApic calls it on the VP's strand.
#pragma once

#include <cstdint>
#include <optional>

namespace softsynic::devices {

class ApicTimer {
 public:
  // `hz`: the timer's input clock before the divider (a multiple of 10 MHz
  // keeps the arithmetic exact; others round the deadline up).
  explicit ApicTimer(std::uint64_t hz = 200'000'000) : hz_(hz) {}

  std::uint64_t frequency_hz() const { return hz_; }

  // The divide configuration register's value (bits 0, 1 and 3).
  static constexpr std::uint32_t divisor(std::uint32_t divide_config) {
    const std::uint32_t code = (divide_config & 3) | ((divide_config >> 1) & 4);
    return code == 7 ? 1 : 2u << code;
  }

  // Initial count written: 0 stops the timer.
  void start(std::uint64_t now, std::uint32_t initial, std::uint32_t divide_config, bool periodic);
  void set_periodic(bool periodic) { periodic_ = periodic; }
  // Divide written while counting: keep the current count, count on at
  // the new rate.
  void set_divide(std::uint64_t now, std::uint32_t divide_config);

  std::uint32_t current_count(std::uint64_t now) const;
  // The next expiry, while the timer counts.
  std::optional<std::uint64_t> deadline() const;
  // How many expiries are due by `now` (0 or 1 in one-shot mode; periodic
  // expiries missed while the VP was not running count once, as a CPU's
  // single IRR bit would). The timer moves to its next period or stops.
  bool expire(std::uint64_t now);

 private:
  // 100 ns ticks for `counts` timer counts at the current divide.
  std::uint64_t ticks_for(std::uint64_t counts) const;

  std::uint64_t hz_;
  std::uint32_t initial_ = 0;
  std::uint32_t divide_ = 2;
  bool periodic_ = false;
  bool running_ = false;
  std::uint64_t start_ = 0;     // reference time of the current period's start
  std::uint32_t start_count_ = 0;  // the count at start_ (initial, or what a divide change left)
};

}  // namespace softsynic::devices
