// Stimer: the register rules and expiry schedule of one synthetic timer
// (TLFS "Synthetic Timers", "Synthetic Timer Configuration Register",
// "Synthetic Timer Count Register"). Pure state, no I/O: StimerVp turns due
// expiries into messages or interrupts.
//
// Rules:
//  - CONFIG: enable 0, periodic 1, lazy 2, auto-enable 3, vector 4-11,
//    direct mode 12, SINT 16-19. Other bits set -> invalid; bit 12 is also
//    invalid when direct mode is not offered; direct mode with a vector
//    below 16 -> invalid.
//  - An enabled message-mode timer cannot have SINT 0: the write is taken
//    with the enable bit cleared (the TLFS rule; the guest reads it back).
//  - COUNT, in 100 ns units of reference time: one-shot = absolute expiry
//    time (a time already past is due at once); periodic = the period.
//    COUNT 0 clears enable; a non-zero COUNT with auto-enable sets it. An
//    enabled timer whose COUNT is 0 never fires.
//  - Every CONFIG or COUNT write re-arms: a periodic timer's first period
//    starts at the write, and the n-th expiry is due at start + n * period
//    (no drift, however late each one is handed over).
//  - Missed expiries (more than one due when the timer is serviced): lazy
//    hands over the first and skips the rest; non-lazy hands over each in
//    turn. Either way the schedule stays on the start + n * period grid.
//  - A one-shot timer clears its enable bit once its expiry is handed over.
// Not supported: COUNT wrap-around (an expiry beyond 2^64 - 1 never fires).
//
// Threading: a value type; the owner serialises access.
#pragma once

#include <cstdint>
#include <optional>

#include "synic/defs/register_values.h"
#include "synic/register_access.h"

namespace softsynic {

class Stimer {
 public:
  // Lowest vector a direct-mode timer may name (0-15 are exceptions).
  static constexpr std::uint8_t kMinDirectVector = 16;

  StimerConfigReg config() const { return config_; }
  std::uint64_t count() const { return count_; }

  RegisterAccess write_config(std::uint64_t raw, std::uint64_t now, bool direct_mode_offered);
  void write_count(std::uint64_t value, std::uint64_t now);

  // When the next expiry is (or was) due; nullopt when the timer is
  // disabled, its COUNT is 0 or the time is beyond the 64-bit range.
  std::optional<std::uint64_t> due() const;

  // The expiry due() named has been handed over at `now` (>= due()).
  // skip_missed: also drop every later expiry already due by `now` (lazy
  // timers, and direct mode, whose interrupt carries no count).
  void consume(std::uint64_t now, bool skip_missed);

 private:
  void set_enabled(bool on);
  void arm(std::uint64_t now);

  StimerConfigReg config_{};
  std::uint64_t count_ = 0;
  std::uint64_t start_ = 0;  // periodic: when the first period began
  std::uint64_t next_ = 1;   // periodic: n of the next expiry
};

}  // namespace softsynic
