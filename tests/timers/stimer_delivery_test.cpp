// Synthetic timer expiries through a real Partition: TimerExpired messages in
// the SIMP slot, the shared FIFO, busy slots and EOM, direct mode.
#include <cstdint>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "timer_rig.h"

using namespace softsynic;
using namespace softsynic::test;

namespace {
const Interrupt kTimerInterrupt{0, kTimerSintVector};
constexpr auto kTimerExpired = static_cast<std::uint32_t>(HvMessageType::timer_expired);
const std::byte kHostPayload[] = {std::byte{0xAB}};
}  // namespace

TEST_CASE("stimer message mode: a one-shot expiry posts TimerExpired to the configured SINT") {
  TimerRig rig;
  rig.enable_synic(0);
  rig.clock.set(1'000);
  rig.arm_message_timer(0, 2, 6'000, false);
  CHECK_FALSE(rig.timer_message(0));

  rig.advance(4'999);
  CHECK_FALSE(rig.timer_message(0));
  CHECK(rig.take_interrupts().empty());

  rig.advance(1);
  const HvMessage m = rig.slot(0);
  CHECK(m.header.message_type == kTimerExpired);
  CHECK(m.header.payload_size == sizeof(TimerMessagePayload));
  const auto p = rig.timer_message(0);
  REQUIRE(p);
  CHECK(p->timer_index == 2);
  CHECK(p->reserved == 0);
  CHECK(p->expiration_time == 6'000);
  CHECK(p->delivery_time == 6'000);
  CHECK(rig.take_interrupts() == std::vector<Interrupt>{kTimerInterrupt});
  CHECK_FALSE(rig.timers.vp(0).config(0, 2).enabled());
}

TEST_CASE("stimer one-shot: a COUNT in the past fires once, at once") {
  TimerRig rig;
  rig.enable_synic(0);
  rig.clock.set(50'000);
  rig.arm_message_timer(0, 0, 10'000, false);

  // Fired by the CONFIG write itself, before time moved.
  const auto p = rig.take_timer_message(0);
  REQUIRE(p);
  CHECK(p->expiration_time == 10'000);
  CHECK(p->delivery_time == 50'000);
  CHECK(rig.take_interrupts() == std::vector<Interrupt>{kTimerInterrupt});

  rig.advance(100 * kOneMs);
  CHECK_FALSE(rig.timer_message(0));
  CHECK(rig.take_interrupts().empty());
  CHECK_FALSE(rig.timers.vp(0).next_deadline());
}

TEST_CASE("stimer auto-enable: a COUNT write arms the timer, and it fires") {
  TimerRig rig;
  rig.enable_synic(0);
  const auto config = StimerConfigReg().with_auto_enable(true).with_sint(kTimerSint);
  REQUIRE(rig.write_timer(0, stimer_config_register(1), config.raw()) == RegisterAccess::ok);
  CHECK_FALSE(rig.timers.vp(0).config(0, 1).enabled());

  REQUIRE(rig.write_timer(0, stimer_count_register(1), 3 * kOneMs) == RegisterAccess::ok);
  CHECK(rig.read_timer(0, stimer_config_register(1)) == config.with_enabled(true).raw());
  CHECK(rig.timers.vp(0).next_deadline() == 3 * kOneMs);

  rig.advance(3 * kOneMs);
  rig.take_expiry(0, 1, 3 * kOneMs);
}

TEST_CASE("stimer busy slot: the expiry waits for EOM, then exactly one interrupt") {
  TimerRig rig;
  rig.enable_synic(0);
  // Something else already occupies the timer's slot.
  REQUIRE_FALSE(rig.partition.post_message(0, 0, kTimerSint, 0x42, kHostPayload));
  rig.executor.run_until_idle();
  REQUIRE(rig.slot(0).header.message_type == 0x42);
  rig.take_interrupts();

  rig.arm_message_timer(0, 0, kOneMs, false);
  rig.advance(2 * kOneMs);
  CHECK(rig.slot(0).header.message_type == 0x42);
  CHECK((rig.slot(0).header.message_flags & kMessageFlagPending) != 0);
  CHECK(rig.take_interrupts().empty());

  rig.free_slot_and_eom(0);
  const auto p = rig.timer_message(0);
  REQUIRE(p);
  CHECK(p->expiration_time == kOneMs);
  CHECK(p->delivery_time == kOneMs);
  CHECK(rig.take_interrupts() == std::vector<Interrupt>{kTimerInterrupt});
}

TEST_CASE("stimer FIFO: expiries and host messages reach the slot in the order they were posted") {
  TimerRig rig;
  rig.enable_synic(0);
  REQUIRE_FALSE(rig.partition.post_message(0, 0, kTimerSint, 0x11, kHostPayload));
  rig.arm_message_timer(0, 0, kOneMs, false);
  rig.advance(kOneMs);
  REQUIRE_FALSE(rig.partition.post_message(0, 0, kTimerSint, 0x22, kHostPayload));
  rig.executor.run_until_idle();

  std::vector<std::uint32_t> order;
  for (int i = 0; i < 4; ++i) {
    order.push_back(rig.slot(0).header.message_type);
    rig.free_slot_and_eom(0);
  }
  CHECK(order == std::vector<std::uint32_t>{0x11, kTimerExpired, 0x22, 0});
}

TEST_CASE("stimer periodic: 1000 expiries at 1 ms land at exactly start + n * period") {
  TimerRig rig;
  rig.enable_synic(0);
  const std::uint64_t start = 777;  // not a multiple of the period
  rig.clock.set(start);
  rig.arm_message_timer(0, 3, kOneMs, true);

  SUBCASE("the guest handles each expiry as it arrives") {
    for (std::uint64_t n = 1; n <= 1000; ++n) {
      rig.advance(kOneMs);
      const auto p = rig.take_timer_message(0);
      REQUIRE(p);
      CHECK(p->timer_index == 3);
      CHECK(p->expiration_time == start + n * kOneMs);
      CHECK(p->delivery_time == start + n * kOneMs);
    }
    CHECK(rig.take_interrupts().size() == 1000);
  }
  SUBCASE("a guest that looks only after a virtual second still gets every expiry, in turn") {
    rig.advance(1000 * kOneMs);
    for (std::uint64_t n = 1; n <= 1000; ++n) rig.take_expiry(0, 3, start + n * kOneMs);
    CHECK_FALSE(rig.timer_message(0));
    CHECK(rig.take_interrupts().size() == 1000);
  }
}

TEST_CASE("stimer periodic: a full SINT queue parks the expiry until there is room, without drift") {
  TimerRig rig(rig_config(1, 4));
  rig.enable_synic(0);
  rig.arm_message_timer(0, 0, kOneMs, true);
  rig.advance(20 * kOneMs);  // slot + 4 queued + 1 parked; the rest is owed
  CHECK(rig.partition.vp(0).queued_messages(0, kTimerSint) == 4);
  CHECK_FALSE(rig.timers.vp(0).next_deadline());  // nothing to wake for while parked

  for (std::uint64_t n = 1; n <= 20; ++n) rig.take_expiry(0, 0, n * kOneMs);
  CHECK_FALSE(rig.timer_message(0));
  CHECK(rig.timers.vp(0).next_deadline() == 21 * kOneMs);
}

TEST_CASE("stimer periodic catch-up: lazy delivers one late expiry, non-lazy delivers each") {
  for (const bool lazy : {true, false}) {
    CAPTURE(lazy);
    TimerRig rig;
    rig.enable_synic(0);
    rig.arm_message_timer(0, 0, kOneMs, true, lazy);
    // The emulator services the timers 5.5 periods late.
    rig.jump_and_fire(5 * kOneMs + kOneMs / 2);

    std::vector<std::uint64_t> expirations;
    while (auto p = rig.take_timer_message(0)) {
      expirations.push_back(p->expiration_time);
      CHECK(p->delivery_time == 5 * kOneMs + kOneMs / 2);
    }
    if (lazy)
      CHECK(expirations == std::vector<std::uint64_t>{kOneMs});
    else
      CHECK(expirations == std::vector<std::uint64_t>{kOneMs, 2 * kOneMs, 3 * kOneMs, 4 * kOneMs, 5 * kOneMs});
    // Either way the schedule stays on the grid.
    CHECK(rig.timers.vp(0).next_deadline() == 6 * kOneMs);
  }
}

TEST_CASE("stimer direct mode: an expiry raises the configured vector and posts no message") {
  TimerRig rig;
  rig.enable_synic(0);
  const auto config = StimerConfigReg().with_enabled(true).with_periodic(true).with_direct_mode(true).with_apic_vector(0x77);
  REQUIRE(rig.write_timer(0, stimer_count_register(0), kOneMs) == RegisterAccess::ok);
  REQUIRE(rig.write_timer(0, stimer_config_register(0), config.raw()) == RegisterAccess::ok);
  rig.advance(3 * kOneMs);
  CHECK(rig.take_interrupts() == std::vector<Interrupt>(3, Interrupt{0, 0x77}));
  CHECK(rig.slot(0).header.message_type == 0);

  // Missed direct-mode expiries coalesce: the request carries no count.
  rig.jump_and_fire(4 * kOneMs);
  CHECK(rig.take_interrupts() == std::vector<Interrupt>{Interrupt{0, 0x77}});
}

TEST_CASE("stimer direct mode: rejected when the partition does not offer it") {
  TimerRig rig(rig_config(1), SyntheticTimersConfig{.direct_mode = false});
  const auto config = StimerConfigReg().with_direct_mode(true).with_apic_vector(0x77);
  CHECK(rig.write_timer(0, stimer_config_register(0), config.raw()) == RegisterAccess::invalid);
  CHECK(rig.read_timer(0, stimer_config_register(0)) == 0);
}

TEST_CASE("stimer disable: clearing enable or writing COUNT 0 cancels the pending expiry") {
  for (const bool via_count : {true, false}) {
    CAPTURE(via_count);
    TimerRig rig;
    rig.enable_synic(0);
    rig.arm_message_timer(0, 0, kOneMs, true);
    rig.advance(kOneMs / 2);
    if (via_count)
      REQUIRE(rig.write_timer(0, stimer_count_register(0), 0) == RegisterAccess::ok);
    else
      REQUIRE(rig.write_timer(0, stimer_config_register(0), StimerConfigReg().with_sint(kTimerSint).raw()) ==
              RegisterAccess::ok);
    CHECK_FALSE(rig.timers.vp(0).config(0, 0).enabled());
    CHECK_FALSE(rig.timers.vp(0).next_deadline());
    rig.advance(10 * kOneMs);
    CHECK_FALSE(rig.timer_message(0));
    CHECK(rig.take_interrupts().empty());
  }
}

TEST_CASE("stimer registers: reads return what was written, reserved bits leave the timer alone") {
  TimerRig rig;
  const auto config = StimerConfigReg().with_periodic(true).with_lazy(true).with_sint(5);
  REQUIRE(rig.write_timer(0, stimer_config_register(2), config.raw()) == RegisterAccess::ok);
  REQUIRE(rig.write_timer(0, stimer_count_register(2), 12345) == RegisterAccess::ok);
  CHECK(rig.read_timer(0, stimer_config_register(2)) == config.raw());
  CHECK(rig.read_timer(0, stimer_count_register(2)) == 12345);
  CHECK(rig.write_timer(0, stimer_config_register(2), config.raw() | (1u << 14)) == RegisterAccess::invalid);
  CHECK(rig.read_timer(0, stimer_config_register(2)) == config.raw());
}

TEST_CASE("stimer registers: other names are unknown; a VTL or VP out of range is invalid") {
  TimerRig rig;
  std::uint64_t value = 0;
  StimerVp& vp = rig.timers.vp(0);
  CHECK(rig.on_strand(0, [&] { return vp.read_register(0, HvRegisterName::scontrol, value); }) ==
        RegisterAccess::unknown);
  CHECK(rig.on_strand(0, [&] { return vp.write_register(0, HvRegisterName(0x000B0008), 1); }) ==
        RegisterAccess::unknown);
  CHECK(rig.on_strand(0, [&] { return vp.write_register(1, stimer_count_register(0), 1); }) ==
        RegisterAccess::invalid);
  CHECK(rig.timers.read_register(1, 0, stimer_config_register(0), value) == RegisterAccess::invalid);
  CHECK(rig.timers.read_register(1, 0, HvRegisterName::simp, value) == RegisterAccess::unknown);
  CHECK_THROWS_AS(rig.timers.vp(1), std::out_of_range);
}

TEST_CASE("stimer VPs: each VP's timers post to its own SIMP") {
  TimerRig rig(rig_config(2));
  rig.enable_synic(0);
  rig.enable_synic(1);
  rig.arm_message_timer(0, 0, 2 * kOneMs, false);
  rig.arm_message_timer(1, 0, kOneMs, false);
  CHECK(rig.timers.next_deadline() == kOneMs);
  rig.advance(5 * kOneMs);
  CHECK(rig.take_interrupts() == std::vector<Interrupt>{{1, kTimerSintVector}, {0, kTimerSintVector}});
  CHECK(rig.timer_message(0)->expiration_time == 2 * kOneMs);
  CHECK(rig.timer_message(1)->expiration_time == kOneMs);
}
