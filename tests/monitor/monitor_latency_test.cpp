// Latency in reference time (VirtualClock): armed bits, deadlines, poll,
// coalescing of sets made while an id waits, cancellation and re-arming.
#include <doctest/doctest.h>

#include "tests/monitor/monitor_rig.h"

using namespace softsynic;
using softsynic::test::kPageA;
using softsynic::test::MonitorRig;

TEST_CASE("monitor latency: the signal waits for the id's latency in virtual time") {
  MonitorRig rig;
  rig.use_page();
  rig.clock.set(1000);
  auto h = rig.reg(3, 33, /*latency=*/250);
  CHECK_FALSE(rig.monitor.next_deadline());
  rig.guest_set(3);
  CHECK(rig.seen.empty());
  CHECK(rig.pending(0) == (1u << 3));
  CHECK(rig.armed(0) == (1u << 3));  // armed while deferred
  CHECK(rig.monitor.next_deadline() == 1250);
  rig.advance_and_poll(249);
  CHECK(rig.seen.empty());
  rig.advance_and_poll(1);
  REQUIRE(rig.seen.size() == 1);
  CHECK(rig.seen[0].event.connection_id == 33);
  CHECK(rig.word(kPageA, 0) == 0);  // pending and armed cleared together
  CHECK_FALSE(rig.monitor.next_deadline());
}

TEST_CASE("monitor latency: sets made while the id waits coalesce into its one signal") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(3, 33, 100);
  rig.guest_set(3);
  rig.advance_and_poll(50);
  rig.guest_set(3);  // the bit is still set: the TLFS lets these merge
  rig.guest_set(3);
  CHECK(rig.monitor.next_deadline() == 100);  // not pushed back by the sets
  rig.advance_and_poll(50);
  CHECK(rig.seen.size() == 1);
  rig.guest_set(3);  // after the clear: a new set, a new signal
  rig.advance_and_poll(100);
  CHECK(rig.seen.size() == 2);
}

TEST_CASE("monitor latency: ids keep their own deadlines; poll fires each at its time") {
  MonitorRig rig;
  rig.use_page();
  auto fast = rig.reg(1, 1, 10);
  auto slow = rig.reg(2, 2, 30);
  auto now = rig.reg(4, 4, 0);
  rig.guest_or(0, (1u << 1) | (1u << 2) | (1u << 4));
  rig.report(kPageA + monitor_trigger_group_offset(0), 4);
  CHECK(rig.seen_connections() == std::vector<std::uint32_t>{4});
  CHECK(rig.monitor.next_deadline() == 10);
  rig.advance_and_poll(10);
  CHECK(rig.seen_connections() == std::vector<std::uint32_t>{4, 1});
  CHECK(rig.monitor.next_deadline() == 30);
  rig.advance_and_poll(25);
  CHECK(rig.seen_connections() == std::vector<std::uint32_t>{4, 1, 2});
}

TEST_CASE("monitor latency: a poll later than the deadline fires once") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(7, 7, 10);
  rig.guest_set(7);
  rig.advance_and_poll(1'000'000);
  rig.advance_and_poll(1'000'000);
  CHECK(rig.seen.size() == 1);
}

TEST_CASE("monitor latency: a guest that clears the pending bit first cancels the signal") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(3, 33, 100);
  rig.guest_set(3);
  rig.guest_and(0, ~std::uint64_t{1u << 3});
  rig.advance_and_poll(100);
  CHECK(rig.seen.empty());
  CHECK(rig.monitor.stats().cancelled == 1);
  CHECK(rig.word(kPageA, 0) == 0);  // the stale armed bit went too
  CHECK_FALSE(rig.monitor.next_deadline());
}

TEST_CASE("monitor latency: clearing armed marks the bit modified and restarts the latency") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(3, 33, 100);
  rig.guest_set(3);
  rig.advance_and_poll(60);
  // Both bits updated at once, as the TLFS asks: pending 1, armed 0.
  rig.guest_and(0, ~(std::uint64_t{1u << 3} << 32));
  rig.report(kPageA + monitor_trigger_group_offset(0), 8);
  CHECK(rig.monitor.next_deadline() == 160);
  rig.advance_and_poll(40);  // the first deadline (100) passed: nothing
  CHECK(rig.seen.empty());
  rig.advance_and_poll(60);
  CHECK(rig.seen.size() == 1);
}

TEST_CASE("monitor latency: a bit the guest set together with armed waits a full latency") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(3, 33, 100);
  rig.guest_or(0, MonitorTriggerGroup::both(1u << 3));
  rig.report(kPageA + monitor_trigger_group_offset(0), 8);
  CHECK(rig.monitor.next_deadline() == 100);
  rig.advance_and_poll(100);
  CHECK(rig.seen.size() == 1);
}

TEST_CASE("monitor latency: deadlines saturate at the end of time") {
  MonitorRig rig;
  rig.use_page();
  rig.clock.set(~std::uint64_t{0} - 5);
  auto h = rig.reg(3, 33, 100);
  rig.guest_set(3);
  CHECK(rig.monitor.next_deadline() == ~std::uint64_t{0});
  rig.advance_and_poll(5);
  CHECK(rig.seen.size() == 1);
}
