// The local APIC timer's counting; see devices/apic/apic_timer.h.
#include "devices/apic/apic_timer.h"

namespace softsynic::devices {
namespace {
constexpr std::uint64_t kTicksPerSecond = 10'000'000;  // reference time: 100 ns
}  // namespace

std::uint64_t ApicTimer::ticks_for(std::uint64_t counts) const {
  // counts * divide / hz seconds, rounded up to whole ticks.
  const unsigned __int128 num = static_cast<unsigned __int128>(counts) * divide_ * kTicksPerSecond;
  return static_cast<std::uint64_t>((num + hz_ - 1) / hz_);
}

void ApicTimer::start(std::uint64_t now, std::uint32_t initial, std::uint32_t divide_config, bool periodic) {
  initial_ = initial;
  divide_ = divisor(divide_config);
  periodic_ = periodic;
  running_ = initial != 0;
  start_ = now;
  start_count_ = initial;
}

void ApicTimer::set_divide(std::uint64_t now, std::uint32_t divide_config) {
  const std::uint32_t count = current_count(now);
  divide_ = divisor(divide_config);
  if (running_) {
    start_ = now;
    start_count_ = count;
  }
}

std::uint32_t ApicTimer::current_count(std::uint64_t now) const {
  if (!running_ || now < start_) return running_ ? start_count_ : 0;
  const unsigned __int128 elapsed = static_cast<unsigned __int128>(now - start_) * hz_ / (divide_ * kTicksPerSecond);
  if (elapsed >= start_count_) return 0;
  return static_cast<std::uint32_t>(start_count_ - static_cast<std::uint64_t>(elapsed));
}

std::optional<std::uint64_t> ApicTimer::deadline() const {
  if (!running_) return std::nullopt;
  return start_ + ticks_for(start_count_);
}

bool ApicTimer::expire(std::uint64_t now) {
  const auto due = deadline();
  if (!due || *due > now) return false;
  if (!periodic_) {
    running_ = false;
    return true;
  }
  // The next period starts at the expiry; periods that passed unseen are
  // skipped.
  const std::uint64_t period = ticks_for(initial_);
  std::uint64_t next = *due;
  if (period == 0) {
    next = now;
  } else if (now - next >= period) {
    next += (now - next) / period * period;
  }
  start_ = next;
  start_count_ = initial_;
  return true;
}

}  // namespace softsynic::devices
