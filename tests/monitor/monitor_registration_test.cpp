// Registration rules: ids in use, argument errors, unregistering while a
// signal is on its way or from inside the signal.
#include <doctest/doctest.h>

#include "tests/monitor/monitor_rig.h"

using namespace softsynic;
using softsynic::test::kPageA;
using softsynic::test::MonitorRig;

TEST_CASE("monitor registration: an id already in use is monitor_id_in_use, free again once the handle drops") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(10, 1);
  MonitorRegistration r;
  r.connection_id = 2;
  auto again = rig.monitor.register_monitor(0, 10, r);
  REQUIRE(again.has_error());
  CHECK(again.error() == make_error_code(Error::monitor_id_in_use));
  rig.guest_set(10);
  CHECK(rig.seen_connections() == std::vector<std::uint32_t>{1});  // the first registration is untouched
  h.reset();
  rig.guest_set(10);
  CHECK(rig.seen.size() == 1);  // unregistered: group disabled, nothing signalled
  auto third = rig.monitor.register_monitor(0, 10, r);
  CHECK(third.has_value());
}

TEST_CASE("monitor registration: bad arguments are typed errors") {
  MonitorRig rig(2, 1);
  struct Case {
    Vtl vtl;
    unsigned id;
    std::uint32_t vp;
    std::uint16_t flag;
    Error expected;
  };
  for (const auto c : {Case{1, 0, 0, 0, Error::invalid_vtl}, Case{0, 128, 0, 0, Error::invalid_monitor_id},
                       Case{0, 255, 0, 0, Error::invalid_monitor_id}, Case{0, 0, 2, 0, Error::invalid_vp},
                       Case{0, 0, 0, 2048, Error::invalid_flag}}) {
    CAPTURE(error_name(c.expected));
    MonitorRegistration r;
    r.vp = c.vp;
    r.flag = c.flag;
    auto h = rig.monitor.register_monitor(c.vtl, static_cast<std::uint8_t>(c.id), r);
    REQUIRE(h.has_error());
    CHECK(h.error() == make_error_code(c.expected));
  }
}

TEST_CASE("monitor registration: a signal still queued when the handle drops does not reach the port") {
  MonitorRig rig(2);
  rig.use_page();
  auto h = rig.reg(1, 1, 0, /*vp=*/1);
  rig.guest_or(0, 1u << 1);
  // Reported from outside VP 1's strand: the signal is posted, not run.
  CHECK(rig.monitor.on_monitor_page_write(0, kPageA + monitor_trigger_group_offset(0), 4));
  CHECK(rig.pending(0) == 0);
  h.reset();
  rig.executor.run_until_idle();
  CHECK(rig.seen.empty());
  CHECK(rig.monitor.stats().signals == 1);
  CHECK(rig.monitor.stats().undelivered == 1);
}

TEST_CASE("monitor registration: a port may drop its own handle from inside its signal") {
  MonitorRig rig;
  rig.use_page();
  PortHandle handle;
  int calls = 0;
  MonitorRegistration r;
  r.connection_id = 1;
  r.port = make_callback_event_port([&](const GuestEvent&) {
    ++calls;
    handle.reset();
  });
  handle = rig.monitor.register_monitor(0, 1, r).value();
  rig.guest_set(1);
  CHECK(calls == 1);
  CHECK_FALSE(handle);
  rig.guest_set(1);
  CHECK(calls == 1);
}

TEST_CASE("monitor registration: a handle that outlives the monitor releases nothing") {
  RamGuestMemory memory(0x10000);
  DeterministicExecutor executor;
  VirtualClock clock;
  Partition partition(PartitionConfig{}, memory, executor.executor());
  PortHandle h;
  {
    MonitorAccess monitor(partition, clock);
    h = monitor.register_monitor(0, 1, MonitorRegistration{}).value();
  }
  h.reset();
  CHECK_FALSE(h);
}
