// advance_time: stepping a VirtualClock through timer deadlines.
#include <cstdint>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "timer_rig.h"

using namespace softsynic;
using namespace softsynic::test;

TEST_CASE("advance_time: with no timers the clock lands on the target in one move") {
  TimerRig rig;
  rig.clock.set(40);
  CHECK(rig.advance(1'000) == 0);
  CHECK(rig.clock.now() == 1'040);
}

TEST_CASE("advance_time: every expiry inside the step fires at its own time, in time order across VPs") {
  TimerRig rig(rig_config(2));
  rig.enable_synic(0);
  rig.enable_synic(1);
  // Direct mode on VP 0 (vector 0x60), message mode on VP 1.
  const auto direct = StimerConfigReg().with_enabled(true).with_periodic(true).with_direct_mode(true).with_apic_vector(0x60);
  REQUIRE(rig.write_timer(0, stimer_count_register(0), 3 * kOneMs) == RegisterAccess::ok);
  REQUIRE(rig.write_timer(0, stimer_config_register(0), direct.raw()) == RegisterAccess::ok);
  rig.arm_message_timer(1, 0, 2 * kOneMs, true);

  CHECK(rig.advance(7 * kOneMs) == 4);  // stops at 2, 3, 4 and 6 ms (both VPs at 6)
  CHECK(rig.clock.now() == 7 * kOneMs);
  // 2 ms (VP1), 3 ms (VP0), 4 ms (VP1, slot busy: pending), 6 ms (VP0 and VP1, pending).
  CHECK(rig.take_interrupts() ==
        std::vector<Interrupt>{{1, kTimerSintVector}, {0, 0x60}, {0, 0x60}});
  for (std::uint64_t n = 1; n <= 3; ++n) {
    const auto p = rig.take_timer_message(1);
    REQUIRE(p);
    CHECK(p->expiration_time == n * 2 * kOneMs);
    CHECK(p->delivery_time == n * 2 * kOneMs);  // fired at its own time, not at the end of the step
  }
  CHECK(rig.timers.next_deadline() == 8 * kOneMs);
}

TEST_CASE("advance_time: after max_stops the clock jumps to the target and catch-up rules apply") {
  TimerRig rig;
  rig.enable_synic(0);
  rig.arm_message_timer(0, 0, kOneMs, true, true);  // lazy
  CHECK(advance_time(rig.clock, rig.timers, rig.executor, 100 * kOneMs, 3) == 3);
  CHECK(rig.clock.now() == 100 * kOneMs);
  std::vector<std::uint64_t> expirations;
  while (auto p = rig.take_timer_message(0)) expirations.push_back(p->expiration_time);
  CHECK(expirations == std::vector<std::uint64_t>{kOneMs, 2 * kOneMs, 3 * kOneMs, 4 * kOneMs});
  CHECK(rig.timers.next_deadline() == 101 * kOneMs);
}

TEST_CASE("advance_time: the clock saturates instead of wrapping") {
  TimerRig rig;
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  rig.clock.set(max - 5);
  rig.advance(100);
  CHECK(rig.clock.now() == max);
}
