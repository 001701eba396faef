// Monitor page layout (synic/defs/monitor_page.h), the value types over
// its trigger words, the GuestMemory primitive the monitor clears bits
// with, and the error names the monitor added.
#include <doctest/doctest.h>

#include "synic/defs/monitor_page.h"
#include "synic/errors.h"
#include "synic/guest_memory.h"

using namespace softsynic;

TEST_CASE("monitor page: fields sit at the architected offsets") {
  CHECK(monitor_trigger_group_offset(0) == 8);
  CHECK(monitor_trigger_group_offset(3) == 32);
  CHECK(monitor_latency_offset(0) == 576);
  CHECK(monitor_latency_offset(127) == 576 + 254);
  CHECK(monitor_parameter_offset(0) == 1088);
  CHECK(monitor_parameter_offset(127) == 1088 + 127 * 8);
  CHECK(sizeof(HvMonitorPage) == 4096);
}

TEST_CASE("monitor page: monitor id = group * 32 + bit") {
  struct Case {
    unsigned id, group, bit;
  };
  for (const auto c : {Case{0, 0, 0}, Case{31, 0, 31}, Case{32, 1, 0}, Case{77, 2, 13}, Case{127, 3, 31}}) {
    CAPTURE(c.id);
    CHECK(monitor_group(c.id) == c.group);
    CHECK(monitor_bit(c.id) == c.bit);
    CHECK(monitor_id(c.group, c.bit) == c.id);
  }
}

TEST_CASE("monitor page: trigger group keeps pending in the low and armed in the high half") {
  const auto g = MonitorTriggerGroup().with_pending(0x80000001u).with_armed(0x2u);
  CHECK(g.raw() == 0x0000000280000001ull);
  CHECK(g.pending() == 0x80000001u);
  CHECK(g.armed() == 0x2u);
  CHECK(MonitorTriggerGroup::both(0x5u) == 0x0000000500000005ull);
  const auto s = MonitorTriggerState().with_group_enable(0xA);
  CHECK(s.group_enable() == 0xA);
  CHECK_FALSE(s.group_enabled(0));
  CHECK(s.group_enabled(1));
  CHECK(s.group_enabled(3));
}

TEST_CASE("guest memory: fetch_and_u64 clears bits atomically and returns the previous value") {
  RamGuestMemory m(0x2000);
  REQUIRE(m.fetch_or_u64(16, 0xF0F0) == 0u);
  CHECK(m.fetch_and_u64(16, ~std::uint64_t{0x00F0}) == 0xF0F0u);
  CHECK(m.fetch_or_u64(16, 0) == 0xF000u);
  CHECK_FALSE(m.fetch_and_u64(12, 0));      // misaligned
  CHECK_FALSE(m.fetch_and_u64(0x2000, 0));  // not RAM
}

TEST_CASE("guest memory: an implementation without fetch_and_u64 answers nullopt") {
  struct Minimal final : GuestMemory {
    bool read(std::uint64_t, std::span<std::byte>) override { return true; }
    bool write(std::uint64_t, std::span<const std::byte>) override { return true; }
    std::optional<std::uint64_t> fetch_or_u64(std::uint64_t, std::uint64_t) override { return 0; }
  } m;
  CHECK_FALSE(m.fetch_and_u64(0, 0));
}

TEST_CASE("errors: the monitor errors have stable snake_case names") {
  struct Case {
    Error e;
    std::string_view name;
  };
  for (const auto c : {Case{Error::monitor_id_in_use, "monitor_id_in_use"},
                       Case{Error::invalid_monitor_id, "invalid_monitor_id"},
                       Case{Error::invalid_monitor_page, "invalid_monitor_page"}}) {
    CHECK(error_name(c.e) == c.name);
    CHECK(error_from_name(c.name) == c.e);
    CHECK(make_error_code(c.e).message() == c.name);
  }
}
