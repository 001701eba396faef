// Pending bits to signals: one bit, several bits in one write, all 128 ids,
// unknown ids, the VP strand the port runs on, the registry route, and
// what a write report covers.
#include <doctest/doctest.h>

#include <stdexcept>

#include "tests/monitor/monitor_rig.h"

using namespace softsynic;
using softsynic::test::kPageA;
using softsynic::test::kPageB;
using softsynic::test::MonitorRig;

TEST_CASE("monitor: monitor_support() is the attached monitor, and nullptr once it is gone") {
  RamGuestMemory memory(0x10000);
  DeterministicExecutor executor;
  VirtualClock clock;
  Partition partition(PartitionConfig{}, memory, executor.executor());
  CHECK(partition.monitor_support() == nullptr);
  {
    MonitorAccess monitor(partition, clock);
    CHECK(partition.monitor_support() == &monitor);
  }
  CHECK(partition.monitor_support() == nullptr);
}

TEST_CASE("monitor: a single pending bit signals its port once and is cleared") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(5, 0x2005);
  CHECK(rig.guest_set(5));
  REQUIRE(rig.seen.size() == 1);
  CHECK(rig.seen[0].event.connection_id == 0x2005);
  CHECK(rig.seen[0].event.flag == 5);
  CHECK(rig.seen[0].event.vp == 0);
  CHECK(rig.seen[0].event.vtl == 0);
  CHECK(rig.pending(0) == 0);
  CHECK(rig.armed(0) == 0);
  CHECK(rig.monitor.stats().signals == 1);
  CHECK(rig.monitor.stats().write_reports == 1);
  // The next set is a new signal.
  rig.guest_set(5);
  CHECK(rig.seen.size() == 2);
}

TEST_CASE("monitor: several bits set in one write signal each id once, lowest id first") {
  MonitorRig rig;
  rig.use_page();
  auto a = rig.reg(33, 100);
  auto b = rig.reg(40, 200);
  auto c = rig.reg(63, 300);
  rig.guest_or(1, (1u << 1) | (1u << 8) | (1u << 31));
  CHECK(rig.report(kPageA + monitor_trigger_group_offset(1), 4));
  CHECK(rig.seen_connections() == std::vector<std::uint32_t>{100, 200, 300});
  CHECK(rig.pending(1) == 0);
}

TEST_CASE("monitor: all 128 ids signal their own connection, once each") {
  MonitorRig rig;
  rig.use_page();
  std::vector<PortHandle> handles;
  for (unsigned id = 0; id < kMonitorIdCount; ++id) handles.push_back(rig.reg(static_cast<std::uint8_t>(id), 1000 + id));
  CHECK(rig.group_enable() == 0xF);
  // One 32-byte store covering the four trigger words.
  for (unsigned g = 0; g < kMonitorGroupCount; ++g) rig.guest_or(g, 0xFFFFFFFFu);
  CHECK(rig.report(kPageA + monitor_trigger_group_offset(0), 32));
  REQUIRE(rig.seen.size() == kMonitorIdCount);
  for (unsigned id = 0; id < kMonitorIdCount; ++id) {
    CHECK(rig.seen[id].event.connection_id == 1000 + id);
    CHECK(rig.seen[id].event.flag == id);
  }
  for (unsigned g = 0; g < kMonitorGroupCount; ++g) CHECK(rig.word(kPageA, g) == 0);
  CHECK(rig.monitor.stats().signals == kMonitorIdCount);
}

TEST_CASE("monitor: an unknown id is ignored, its bit cleared and counted") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(0, 7);  // enables group 0
  rig.guest_or(0, (1u << 3) | (1u << 0));
  CHECK(rig.report(kPageA + monitor_trigger_group_offset(0), 4));
  CHECK(rig.seen_connections() == std::vector<std::uint32_t>{7});
  CHECK(rig.pending(0) == 0);
  CHECK(rig.monitor.stats().unknown_ids == 1);
  CHECK(rig.monitor.stats().signals == 1);
  rig.guest_set(3);
  CHECK(rig.monitor.stats().unknown_ids == 2);
  CHECK(rig.seen.size() == 1);
}

TEST_CASE("monitor: the signal runs on the registration's VP strand, whichever VP wrote") {
  MonitorRig rig(3);
  rig.use_page();
  auto h = rig.reg(9, 1, 0, /*vp=*/2);
  rig.guest_set(9, kPageA, /*writer vp=*/0);
  rig.guest_set(9, kPageA, /*writer vp=*/2);
  REQUIRE(rig.seen.size() == 2);
  for (const auto& s : rig.seen) {
    CHECK((s.strands & 0x4) != 0);
    CHECK(s.event.vp == 2);
  }
}

TEST_CASE("monitor: without a port the signal is the guest's HvSignalEvent through the port registry") {
  MonitorRig rig;
  rig.use_page();
  std::vector<GuestEvent> events;
  auto port = rig.partition.add_event_port(0x4001, 0, make_callback_event_port([&](const GuestEvent& e) {
    events.push_back(e);
  }));
  REQUIRE(port.has_value());
  MonitorRegistration r;
  r.connection_id = 0x4001;
  r.flag = 17;
  auto h = rig.monitor.register_monitor(0, 12, r);
  REQUIRE(h.has_value());
  r.connection_id = 0x4002;  // no port registered for it
  auto h2 = rig.monitor.register_monitor(0, 13, r);
  REQUIRE(h2.has_value());
  rig.guest_set(12);
  rig.guest_set(13);
  REQUIRE(events.size() == 1);
  CHECK(events[0].connection_id == 0x4001);
  CHECK(events[0].flag == 17);
  CHECK(rig.monitor.stats().signals == 2);
  CHECK(rig.monitor.stats().undelivered == 1);  // INVALID_CONNECTION_ID
}

TEST_CASE("monitor: a port that throws is reported and counted; the guest sees nothing") {
  MonitorRig rig;
  rig.use_page();
  MonitorRegistration r;
  r.connection_id = 1;
  r.port = make_callback_event_port([](const GuestEvent&) { throw std::runtime_error("boom"); });
  auto h = rig.monitor.register_monitor(0, 1, r);
  REQUIRE(h.has_value());
  rig.guest_set(1);
  CHECK(rig.monitor.stats().undelivered == 1);
  CHECK(rig.pending(0) == 0);
  REQUIRE(rig.errors.size() == 1);
  CHECK(rig.errors[0].find("boom") != std::string::npos);
}

TEST_CASE("monitor: write reports — what they cover and what they return") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(2, 2);
  SUBCASE("a write elsewhere in the page is the monitor's but inspects nothing") {
    rig.guest_or(0, 1u << 2);
    CHECK(rig.report(kPageA + 0x800, 8));
    CHECK(rig.seen.empty());
    CHECK(rig.monitor.stats().write_reports == 0);
    CHECK(rig.pending(0) == (1u << 2));
  }
  SUBCASE("a write to another group's word does not inspect group 0") {
    rig.guest_or(0, 1u << 2);
    CHECK(rig.report(kPageA + monitor_trigger_group_offset(1), 8));
    CHECK(rig.seen.empty());
  }
  SUBCASE("a write to the trigger state inspects every group") {
    rig.guest_or(0, 1u << 2);
    CHECK(rig.report(kPageA, 4));
    CHECK(rig.seen.size() == 1);
  }
  SUBCASE("a write that starts before the page and reaches into it counts") {
    rig.guest_or(0, 1u << 2);
    CHECK(rig.report(kPageA - 4, 16));
    CHECK(rig.seen.size() == 1);
  }
  SUBCASE("writes outside the page, to the parent-to-child page, or of length 0 are not the monitor's") {
    CHECK_FALSE(rig.report(kPageA + 4096, 8));
    CHECK_FALSE(rig.report(kPageA - 8, 8));
    CHECK_FALSE(rig.report(kPageB, 8));
    CHECK_FALSE(rig.report(kPageA, 0));
    CHECK_FALSE(rig.report(~std::uint64_t{0} - 3, 100));
    CHECK_FALSE(rig.report(kPageA, 8, 0, /*vtl=*/1));
  }
}

TEST_CASE("monitor: a disabled group is not inspected until the enable bit is back") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(40, 40);
  REQUIRE(rig.group_enable() == 0x2);
  rig.memory.fetch_and_u64(kPageA, ~std::uint64_t{0x2});  // the guest disables group 1
  rig.guest_set(40);
  CHECK(rig.seen.empty());
  CHECK(rig.pending(1) == (1u << 8));
  rig.memory.fetch_or_u64(kPageA, 0x2);
  CHECK(rig.report(kPageA, 4));  // the enable write is reported
  CHECK(rig.seen.size() == 1);
  CHECK(rig.pending(1) == 0);
}
