// advance_time: deterministic clock stepping through synthetic-timer
// deadlines (TLFS "Synthetic Timers"). See synic/timers/advance_time.h.
#include "synic/timers/advance_time.h"

#include <limits>

#include <boost/asio/post.hpp>

namespace softsynic {

void fire_due_everywhere(SyntheticTimers& timers, DeterministicExecutor& executor) {
  for (std::uint32_t i = 0; i < timers.vp_count(); ++i) {
    StimerVp& vp = timers.vp(i);
    boost::asio::post(vp.strand(), [&vp] { vp.fire_due(); });
  }
  executor.run_until_idle();
}

std::uint64_t advance_time(VirtualClock& clock, SyntheticTimers& timers, DeterministicExecutor& executor,
                           std::uint64_t ticks_100ns, std::uint64_t max_stops) {
  const std::uint64_t start = clock.now();
  const std::uint64_t target =
      ticks_100ns > std::numeric_limits<std::uint64_t>::max() - start ? std::numeric_limits<std::uint64_t>::max()
                                                                      : start + ticks_100ns;
  executor.run_until_idle();
  std::uint64_t stops = 0;
  while (stops < max_stops) {
    const std::optional<std::uint64_t> deadline = timers.next_deadline();
    if (!deadline || *deadline > target) break;
    // An overdue deadline fires at the current time; the clock never goes back.
    if (*deadline > clock.now()) clock.set(*deadline);
    fire_due_everywhere(timers, executor);
    ++stops;
  }
  if (target > clock.now()) clock.set(target);
  fire_due_everywhere(timers, executor);
  return stops;
}

}  // namespace softsynic
