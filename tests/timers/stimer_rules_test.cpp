// Stimer register rules and schedule, without a partition.
#include <cstdint>
#include <limits>

#include <doctest/doctest.h>

#include "synic/timers/stimer.h"
#include "synic/timers/stimer_registers.h"

using namespace softsynic;

namespace {
constexpr bool kDirectOffered = true;
const StimerConfigReg kMessageSint2 = StimerConfigReg().with_sint(2);
const StimerConfigReg kDirect = StimerConfigReg().with_direct_mode(true).with_apic_vector(0x50);

Stimer armed(StimerConfigReg config, std::uint64_t count, std::uint64_t now) {
  Stimer t;
  t.write_count(count, now);
  REQUIRE(t.write_config(config.raw(), now, kDirectOffered) == RegisterAccess::ok);
  return t;
}
}  // namespace

TEST_CASE("stimer config: a write with reserved bits set is invalid and changes nothing") {
  for (std::uint64_t reserved : {std::uint64_t{1} << 13, std::uint64_t{1} << 15, std::uint64_t{1} << 20,
                                 std::uint64_t{1} << 63}) {
    CAPTURE(reserved);
    Stimer t = armed(kMessageSint2.with_enabled(true), 100, 0);
    CHECK(t.write_config(kMessageSint2.raw() | reserved, 5, kDirectOffered) == RegisterAccess::invalid);
    CHECK(t.config() == kMessageSint2.with_enabled(true));
    CHECK(t.due() == 100u);
  }
}

TEST_CASE("stimer config: direct mode is a reserved bit when it is not offered") {
  Stimer t;
  CHECK(t.write_config(kDirect.raw(), 0, false) == RegisterAccess::invalid);
  CHECK(t.write_config(kDirect.raw(), 0, true) == RegisterAccess::ok);
  CHECK(t.config() == kDirect);
}

TEST_CASE("stimer config: direct mode needs a vector of 16 or more") {
  Stimer t;
  CHECK(t.write_config(kDirect.with_apic_vector(15).raw(), 0, kDirectOffered) == RegisterAccess::invalid);
  CHECK(t.write_config(kDirect.with_apic_vector(16).raw(), 0, kDirectOffered) == RegisterAccess::ok);
  // The vector field means nothing in message mode.
  CHECK(t.write_config(kMessageSint2.with_apic_vector(3).raw(), 0, kDirectOffered) == RegisterAccess::ok);
}

TEST_CASE("stimer config: enabling a message-mode timer on SINT 0 reads back disabled") {
  Stimer t;
  const auto config = StimerConfigReg().with_enabled(true).with_periodic(true).with_sint(0);
  CHECK(t.write_config(config.raw(), 0, kDirectOffered) == RegisterAccess::ok);
  CHECK(t.config() == config.with_enabled(false));
  // Direct mode does not use the SINT, so SINT 0 is fine there.
  CHECK(t.write_config(kDirect.with_enabled(true).raw(), 0, kDirectOffered) == RegisterAccess::ok);
  CHECK(t.config().enabled());
}

TEST_CASE("stimer count: a non-zero COUNT sets enable only with auto-enable") {
  Stimer plain;
  REQUIRE(plain.write_config(kMessageSint2.raw(), 0, kDirectOffered) == RegisterAccess::ok);
  plain.write_count(1000, 0);
  CHECK_FALSE(plain.config().enabled());
  CHECK_FALSE(plain.due());

  Stimer automatic;
  REQUIRE(automatic.write_config(kMessageSint2.with_auto_enable(true).raw(), 0, kDirectOffered) == RegisterAccess::ok);
  automatic.write_count(1000, 0);
  CHECK(automatic.config().enabled());
  CHECK(automatic.due() == 1000u);
}

TEST_CASE("stimer count: auto-enable on SINT 0 in message mode stays disabled") {
  Stimer t;
  REQUIRE(t.write_config(StimerConfigReg().with_auto_enable(true).raw(), 0, kDirectOffered) == RegisterAccess::ok);
  t.write_count(1000, 0);
  CHECK_FALSE(t.config().enabled());
}

TEST_CASE("stimer count: COUNT 0 disables, even with auto-enable") {
  Stimer t = armed(kMessageSint2.with_enabled(true).with_auto_enable(true), 500, 0);
  t.write_count(0, 10);
  CHECK_FALSE(t.config().enabled());
  CHECK(t.count() == 0);
  CHECK_FALSE(t.due());
}

TEST_CASE("stimer count: an enabled timer whose COUNT is 0 is never due") {
  Stimer t;
  REQUIRE(t.write_config(kMessageSint2.with_enabled(true).raw(), 0, kDirectOffered) == RegisterAccess::ok);
  CHECK(t.config().enabled());
  CHECK_FALSE(t.due());
}

TEST_CASE("stimer one-shot: COUNT is an absolute time and the timer disables itself once fired") {
  Stimer t = armed(kMessageSint2.with_enabled(true), 7'000, 2'000);
  CHECK(t.due() == 7'000u);
  t.consume(7'000, false);
  CHECK_FALSE(t.config().enabled());
  CHECK_FALSE(t.due());
  CHECK(t.count() == 7'000u);
}

TEST_CASE("stimer one-shot: a COUNT already in the past is due at once") {
  Stimer t = armed(kMessageSint2.with_enabled(true), 100, 5'000);
  REQUIRE(t.due());
  CHECK(*t.due() <= 5'000u);
}

TEST_CASE("stimer periodic: the n-th expiry is due at start + n * period, however late each is consumed") {
  const std::uint64_t start = 12'345, period = 10'000;
  Stimer t = armed(kMessageSint2.with_enabled(true).with_periodic(true), period, start);
  for (std::uint64_t n = 1; n <= 50; ++n) {
    REQUIRE(t.due() == start + n * period);
    t.consume(start + n * period + 3'333, false);  // serviced a third of a period late
  }
}

TEST_CASE("stimer periodic: a late service skips missed expiries only when lazy") {
  const std::uint64_t period = 1'000;
  const std::uint64_t late = 4'500;  // expiries 1..4 are due
  SUBCASE("lazy: one expiry, then the next one after now on the same grid") {
    Stimer t = armed(kMessageSint2.with_enabled(true).with_periodic(true).with_lazy(true), period, 0);
    CHECK(t.due() == 1'000u);
    t.consume(late, true);
    CHECK(t.due() == 5'000u);
  }
  SUBCASE("non-lazy: each missed expiry in turn") {
    Stimer t = armed(kMessageSint2.with_enabled(true).with_periodic(true), period, 0);
    for (std::uint64_t n = 1; n <= 5; ++n) {
      CHECK(t.due() == n * period);
      t.consume(late, false);
    }
  }
}

TEST_CASE("stimer periodic: a CONFIG or COUNT write restarts the first period at the write") {
  Stimer t = armed(kMessageSint2.with_enabled(true).with_periodic(true), 1'000, 0);
  t.consume(1'000, false);
  t.write_count(2'000, 1'500);
  CHECK(t.due() == 3'500u);
  REQUIRE(t.write_config(t.config().raw(), 1'700, kDirectOffered) == RegisterAccess::ok);
  CHECK(t.due() == 3'700u);
}

TEST_CASE("stimer periodic: an expiry beyond the 64-bit range is never due") {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  Stimer t = armed(kMessageSint2.with_enabled(true).with_periodic(true), max / 2 + 1, max / 2 + 10);
  CHECK_FALSE(t.due());
}

TEST_CASE("stimer registers: names and MSRs map to timer and CONFIG/COUNT") {
  struct Row {
    std::uint32_t msr;
    HvRegisterName name;
    unsigned timer;
    bool count;
  };
  const Row rows[] = {
      {0x400000B0, HvRegisterName(0x000B0000), 0, false}, {0x400000B1, HvRegisterName(0x000B0001), 0, true},
      {0x400000B2, HvRegisterName(0x000B0002), 1, false}, {0x400000B5, HvRegisterName(0x000B0005), 2, true},
      {0x400000B6, HvRegisterName(0x000B0006), 3, false}, {0x400000B7, HvRegisterName(0x000B0007), 3, true},
  };
  for (const Row& r : rows) {
    CAPTURE(r.msr);
    CHECK(stimer_register_for_msr(r.msr) == r.name);
    CHECK(decode_stimer_register(r.name) == StimerRegister{r.timer, r.count});
  }
  CHECK_FALSE(stimer_register_for_msr(0x400000AF));
  CHECK_FALSE(stimer_register_for_msr(0x400000B8));
  CHECK_FALSE(decode_stimer_register(HvRegisterName(0x000B0008)));
  CHECK_FALSE(decode_stimer_register(HvRegisterName::scontrol));
}
