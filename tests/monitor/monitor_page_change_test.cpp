// Page pairs: set, move, remove while ids are registered; server-chosen
// pages; the page-change hook; bad GPAs.
#include <doctest/doctest.h>

#include "tests/monitor/monitor_rig.h"

using namespace softsynic;
using softsynic::test::kPageA;
using softsynic::test::kPageB;
using softsynic::test::kPageC;
using softsynic::test::kPageD;
using softsynic::test::kServerC2P;
using softsynic::test::kServerP2C;
using softsynic::test::MonitorRig;

namespace {
HvMonitorParameter parameter(MonitorRig& rig, std::uint64_t page, unsigned id) {
  HvMonitorParameter p{};
  rig.memory.read(page + monitor_parameter_offset(id), std::as_writable_bytes(std::span(&p, 1)));
  return p;
}
std::uint16_t latency(MonitorRig& rig, std::uint64_t page, unsigned id) {
  std::uint16_t l = 0;
  rig.memory.read(page + monitor_latency_offset(id), std::as_writable_bytes(std::span(&l, 1)));
  return l;
}
}  // namespace

TEST_CASE("monitor page: registering publishes parameter, latency and group enable; dropping clears them") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(70, 0x1234, 55);  // group 2
  CHECK(parameter(rig, kPageA, 70).connection_id == 0x1234);
  CHECK(parameter(rig, kPageA, 70).flag_number == 70);
  CHECK(latency(rig, kPageA, 70) == 55);
  CHECK(rig.group_enable() == 0x4);
  h.reset();
  CHECK(parameter(rig, kPageA, 70).connection_id == 0);
  CHECK(latency(rig, kPageA, 70) == 0);
  CHECK(rig.group_enable() == 0);
}

TEST_CASE("monitor page: ids registered before the page is set are published when it is") {
  MonitorRig rig;
  auto h = rig.reg(1, 11);
  auto h2 = rig.reg(127, 12);
  rig.use_page();
  CHECK(parameter(rig, kPageA, 1).connection_id == 11);
  CHECK(parameter(rig, kPageA, 127).connection_id == 12);
  CHECK(rig.group_enable() == 0x9);
  CHECK(rig.monitor.monitor_page(0) == MonitorPageGpas{kPageB, kPageA});
}

TEST_CASE("monitor page: a bit already pending when the page is set or the id registers is signalled") {
  MonitorRig rig;
  rig.memory.fetch_or_u64(kPageA, 0x1);  // the guest's page arrives with group 0 enabled
  rig.guest_or(0, 1u << 6);
  rig.use_page();                        // no registration yet: an unknown id
  CHECK(rig.monitor.stats().unknown_ids == 1);
  rig.guest_or(0, 1u << 6);
  auto h = rig.reg(6, 6);
  rig.executor.run_until_idle();
  CHECK(rig.seen.size() == 1);
}

TEST_CASE("monitor page: moving the page drains the old one and watches the new one") {
  MonitorRig rig;
  rig.use_page();
  auto deferred = rig.reg(3, 3, 100);
  auto instant = rig.reg(4, 4);
  rig.guest_set(3);  // armed, waiting
  rig.guest_or(0, 1u << 4);  // set, not yet reported
  CHECK(rig.seen.empty());

  rig.use_page(kPageC, kPageD);
  rig.executor.run_until_idle();
  // Nothing the guest set is lost: both pending ids were signalled.
  CHECK(rig.seen_connections() == std::vector<std::uint32_t>{3, 4});
  CHECK_FALSE(rig.monitor.next_deadline());
  // The old page is left alone now.
  CHECK(rig.pending(0, kPageA) == ((1u << 3) | (1u << 4)));
  CHECK_FALSE(rig.guest_set(4, kPageA));
  CHECK(rig.seen.size() == 2);
  // The new page carries the registrations and signals.
  CHECK(parameter(rig, kPageC, 3).connection_id == 3);
  CHECK(latency(rig, kPageC, 3) == 100);
  CHECK(rig.group_enable(kPageC) == 0x1);
  CHECK(rig.guest_set(4, kPageC));
  CHECK(rig.seen.size() == 3);
  CHECK(rig.pending(0, kPageC) == 0);
}

TEST_CASE("monitor page: removing the page drains it; registrations stay for the next page") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(5, 5, 100);
  rig.guest_set(5);
  REQUIRE_FALSE(rig.monitor.set_monitor_page(0, std::nullopt));
  rig.executor.run_until_idle();
  CHECK(rig.seen.size() == 1);
  CHECK_FALSE(rig.monitor.monitor_page(0));
  CHECK_FALSE(rig.monitor.next_deadline());
  CHECK_FALSE(rig.guest_set(5));
  rig.advance_and_poll(1000);
  CHECK(rig.seen.size() == 1);
  rig.use_page(kPageC, kPageD);
  CHECK(rig.guest_set(5, kPageC));
  rig.advance_and_poll(100);
  CHECK(rig.seen.size() == 2);
}

TEST_CASE("monitor page: setting the current pair again changes nothing") {
  MonitorRig rig;
  rig.use_page();
  auto h = rig.reg(5, 5, 100);
  rig.guest_set(5);
  rig.use_page();
  CHECK(rig.seen.empty());
  CHECK(rig.monitor.next_deadline() == 100);
}

TEST_CASE("monitor page: bad pairs are refused and change nothing") {
  MonitorRig rig;
  rig.use_page();
  struct Case {
    Vtl vtl;
    MonitorPageGpas gpas;
    Error expected;
  };
  for (const auto c : {Case{0, {kPageD, kPageC + 8}, Error::invalid_monitor_page},
                       Case{0, {kPageD + 1, kPageC}, Error::invalid_monitor_page},
                       Case{0, {kPageD, 0x100000}, Error::invalid_monitor_page},  // not RAM
                       Case{1, {kPageD, kPageC}, Error::invalid_vtl}}) {
    CAPTURE(error_name(c.expected));
    CHECK(rig.monitor.set_monitor_page(c.vtl, c.gpas) == make_error_code(c.expected));
  }
  CHECK(rig.monitor.monitor_page(0) == MonitorPageGpas{kPageB, kPageA});
  CHECK_FALSE(rig.monitor.monitor_page(7));
}

TEST_CASE("monitor page: allocate_monitor_page zeroes and uses the configured server pages") {
  MonitorConfig config;
  config.server_pages[0] = MonitorPageGpas{kServerP2C, kServerC2P};
  std::vector<std::optional<MonitorPageGpas>> changes;
  config.on_page_change = [&](Vtl vtl, std::optional<MonitorPageGpas> g) {
    CHECK(vtl == 0);
    changes.push_back(g);
  };
  MonitorRig rig(1, 2, config);
  rig.memory.fetch_or_u64(kServerC2P + 0x100, 0xFF);  // stale bytes
  auto h = rig.reg(0, 9);
  auto r = rig.monitor.allocate_monitor_page(0);
  REQUIRE(r.has_value());
  CHECK(*r == MonitorPageGpas{kServerP2C, kServerC2P});
  CHECK(rig.memory.fetch_or_u64(kServerC2P + 0x100, 0) == 0u);
  CHECK(rig.group_enable(kServerC2P) == 0x1);
  CHECK(rig.guest_set(0, kServerC2P));
  CHECK(rig.seen.size() == 1);
  // Again: the same pages, not zeroed again, no change reported.
  rig.guest_or(0, 1u << 31, kServerC2P);
  CHECK(rig.monitor.allocate_monitor_page(0).value() == MonitorPageGpas{kServerP2C, kServerC2P});
  CHECK(rig.pending(0, kServerC2P) == (1u << 31));
  CHECK(changes.size() == 1);
  // VTL 1 has none configured: nullopt, the server uses the guest's pages.
  auto none = rig.monitor.allocate_monitor_page(1);
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
  CHECK(rig.monitor.allocate_monitor_page(2).error() == make_error_code(Error::invalid_vtl));
  // Replacing them with guest pages and removing are both reported.
  rig.use_page();
  REQUIRE_FALSE(rig.monitor.set_monitor_page(0, std::nullopt));
  REQUIRE(changes.size() == 3);
  CHECK(changes[1] == MonitorPageGpas{kPageB, kPageA});
  CHECK_FALSE(changes[2]);
}

TEST_CASE("monitor page: each VTL has its own page and its own 128 ids") {
  MonitorRig rig(1, 2);
  rig.use_page(kPageA, kPageB, 0);
  rig.use_page(kPageC, kPageD, 1);
  auto h0 = rig.reg(8, 80, 0, 0, 0);
  auto h1 = rig.reg(8, 81, 0, 0, 1);
  CHECK(rig.guest_set(8, kPageC, 0, 1));
  CHECK(rig.guest_set(8, kPageA, 0, 0));
  REQUIRE(rig.seen.size() == 2);
  CHECK(rig.seen[0].event.connection_id == 81);
  CHECK(rig.seen[0].event.vtl == 1);
  CHECK(rig.seen[1].event.connection_id == 80);
  CHECK(rig.seen[1].event.vtl == 0);
}
