// The local APIC timer: counting in reference time, one-shot and periodic
// expiry, the divide configuration, and the LVT timer vector raised on the
// APIC (devices/apic/apic_timer.h).
#include <doctest/doctest.h>

#include "devices/apic/apic_registers.h"
#include "devices/apic/apic_timer.h"
#include "devices/apic/local_apic.h"
#include "synic/time_source.h"

using softsynic::VirtualClock;
using softsynic::devices::ApicTimer;
using softsynic::devices::LocalApic;
using softsynic::devices::LocalApicConfig;
namespace reg = softsynic::devices::apic::reg;

// 200 MHz: 20 counts per 100 ns tick before the divider.
constexpr std::uint64_t kHz = 200'000'000;

TEST_CASE("apic timer: the divide configuration's codes give 2 to 128, and 1") {
  CHECK(ApicTimer::divisor(0x0) == 2);
  CHECK(ApicTimer::divisor(0x1) == 4);
  CHECK(ApicTimer::divisor(0x2) == 8);
  CHECK(ApicTimer::divisor(0x3) == 16);
  CHECK(ApicTimer::divisor(0x8) == 32);
  CHECK(ApicTimer::divisor(0x9) == 64);
  CHECK(ApicTimer::divisor(0xA) == 128);
  CHECK(ApicTimer::divisor(0xB) == 1);
}

TEST_CASE("apic timer: one-shot counts down in reference time, expires once at its deadline") {
  ApicTimer t(kHz);
  t.start(1000, 2000, 0xB /* divide by 1 */, false);
  CHECK(t.current_count(1000) == 2000);
  CHECK(t.current_count(1050) == 1000);  // 50 ticks x 20 counts
  REQUIRE(t.deadline());
  CHECK(*t.deadline() == 1100);
  CHECK_FALSE(t.expire(1099));
  CHECK(t.expire(1100));
  CHECK(t.current_count(1200) == 0);
  CHECK_FALSE(t.deadline());
  CHECK_FALSE(t.expire(5000));
}

TEST_CASE("apic timer: periodic reloads at each expiry and skips periods it missed") {
  ApicTimer t(kHz);
  t.start(0, 200, 0x0 /* divide by 2 */, true);  // 10 counts per tick: 20 ticks
  CHECK(*t.deadline() == 20);
  CHECK(t.expire(20));
  CHECK(*t.deadline() == 40);
  CHECK(t.current_count(30) == 100);
  CHECK(t.expire(105));                 // three periods late: one expiry
  CHECK(*t.deadline() == 120);
}

TEST_CASE("apic timer: an initial count of 0 stops it; a divide change keeps the count") {
  ApicTimer t(kHz);
  t.start(0, 1000, 0xB, false);
  t.set_divide(25, 0x0);  // 500 counts left, now 10 per tick
  CHECK(t.current_count(25) == 500);
  CHECK(*t.deadline() == 75);
  t.start(30, 0, 0xB, false);
  CHECK_FALSE(t.deadline());
  CHECK(t.current_count(40) == 0);
}

TEST_CASE("apic timer: the local APIC raises the LVT timer vector at expiry, not when masked") {
  VirtualClock clock;
  LocalApicConfig config;
  LocalApic apic(config);
  apic.set_time_source(&clock, kHz);
  apic.mmio_write(reg::kSvr, 0x1FF);                 // software enable
  apic.mmio_write(reg::kTimerDivide, 0xB);
  apic.mmio_write(reg::kLvtTimer, 0x20000 | 0xEC);  // periodic, vector 0xEC
  apic.mmio_write(reg::kTimerInitialCount, 400);    // 20 ticks
  REQUIRE(apic.timer_deadline());
  CHECK(*apic.timer_deadline() == 20);
  clock.set(10);
  CHECK(apic.mmio_read(reg::kTimerCurrentCount) == 200);
  apic.fire_timer(10);
  CHECK_FALSE(apic.pending_vector());
  clock.set(20);
  apic.fire_timer(20);
  REQUIRE(apic.pending_vector());
  CHECK(*apic.pending_vector() == 0xEC);
  CHECK(*apic.timer_deadline() == 40);
  apic.mmio_write(reg::kLvtTimer, 0x30000 | 0xEC);  // masked
  clock.set(40);
  apic.fire_timer(40);
  CHECK(apic.accept() == 0xEC);  // the first expiry only
  CHECK_FALSE(apic.pending_vector());
}
