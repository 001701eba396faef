// advance_time: moves a VirtualClock forward for deterministic runs (trace
// replay, tests) so that every synthetic-timer expiry that falls due on the
// way fires at its own time, in time order across VPs, with the strand work
// it causes run to quiescence before the clock moves on. Used by the
// replayer's `advance_time` step ("timers that fall due inside an
// advance_time step fire within that step"). TLFS "Synthetic Timers".
//
// Each stop sets the clock to the earliest deadline, calls fire_due() on
// every VP's strand and runs the executor until idle. After max_stops stops
// the clock jumps to the target and the remaining expiries fire there
// (lazy / non-lazy catch-up rules apply): a guard against a guest that
// programs a 100 ns period and a trace that advances by hours.
// Not supported: clocks other than VirtualClock, threaded executors.
//
// Threading: call from the thread that drives the DeterministicExecutor,
// with no strand work running.
#pragma once

#include <cstdint>

#include "synic/executor.h"
#include "synic/time_source.h"
#include "synic/timers/synthetic_timers.h"

namespace softsynic {

inline constexpr std::uint64_t kDefaultMaxAdvanceStops = std::uint64_t{1} << 20;

// Returns the number of stops made at deadlines before the target time.
// The clock saturates at 2^64 - 1.
std::uint64_t advance_time(VirtualClock& clock, SyntheticTimers& timers, DeterministicExecutor& executor,
                           std::uint64_t ticks_100ns, std::uint64_t max_stops = kDefaultMaxAdvanceStops);

// Calls fire_due() on every VP's strand and runs the executor until idle.
void fire_due_everywhere(SyntheticTimers& timers, DeterministicExecutor& executor);

}  // namespace softsynic
