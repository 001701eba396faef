// Stimer: one synthetic timer's register rules and schedule (TLFS
// "Synthetic Timers"). See synic/timers/stimer.h for the rules.
#include "synic/timers/stimer.h"

#include <limits>

namespace softsynic {

namespace {
constexpr std::uint64_t kDirectModeBit = std::uint64_t{1} << 12;
}  // namespace

RegisterAccess Stimer::write_config(std::uint64_t raw, std::uint64_t now, bool direct_mode_offered) {
  std::uint64_t defined = StimerConfigReg::kDefinedBits;
  if (!direct_mode_offered) defined &= ~kDirectModeBit;
  if ((raw & ~defined) != 0) return RegisterAccess::invalid;
  const StimerConfigReg config(raw);
  if (config.direct_mode() && config.apic_vector() < kMinDirectVector) return RegisterAccess::invalid;
  config_ = config;
  set_enabled(config.enabled());
  arm(now);
  return RegisterAccess::ok;
}

void Stimer::write_count(std::uint64_t value, std::uint64_t now) {
  count_ = value;
  if (value == 0)
    set_enabled(false);
  else if (config_.auto_enable())
    set_enabled(true);
  arm(now);
}

void Stimer::set_enabled(bool on) {
  // An enabled message-mode timer needs a SINT other than 0.
  const bool allowed = config_.direct_mode() || config_.sint() != 0;
  config_ = config_.with_enabled(on && allowed);
}

void Stimer::arm(std::uint64_t now) {
  start_ = now;
  next_ = 1;
}

std::optional<std::uint64_t> Stimer::due() const {
  if (!config_.enabled() || count_ == 0) return std::nullopt;
  if (!config_.periodic()) return count_;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  if (next_ > (kMax - start_) / count_) return std::nullopt;
  return start_ + next_ * count_;
}

void Stimer::consume(std::uint64_t now, bool skip_missed) {
  if (!config_.periodic() || count_ == 0) {
    config_ = config_.with_enabled(false);
    return;
  }
  // The first n whose expiry lies after `now`; never moves backwards.
  const std::uint64_t after_now = now >= start_ ? (now - start_) / count_ + 1 : 1;
  next_ = skip_missed && after_now > next_ ? after_now : next_ + 1;
}

}  // namespace softsynic
