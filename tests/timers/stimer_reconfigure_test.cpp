// Drop on reconfigure: writing a timer's CONFIG or COUNT drops its expiries
// that have not reached the guest's slot, queued or waiting for room; what
// is already in the slot, host messages and other timers' expiries stay.
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "timer_rig.h"

using namespace softsynic;
using namespace softsynic::test;

namespace {
constexpr std::uint32_t kHostType = 0x42;
const std::byte kHostPayload[] = {std::byte{0xAB}};

// Guest: the slot's message type (and its timer index for an expiry),
// then frees the slot with EOM, until the slot stays empty.
std::vector<std::uint32_t> drain(TimerRig& rig) {
  std::vector<std::uint32_t> seen;
  for (int i = 0; i < 100; ++i) {
    const HvMessage m = rig.slot(0);
    if (m.header.message_type == 0) break;
    if (auto p = rig.timer_message(0))
      seen.push_back(0x100 + p->timer_index);
    else
      seen.push_back(m.header.message_type);
    rig.free_slot_and_eom(0);
  }
  return seen;
}

// The slot holds a host message, so expiries queue behind it.
void occupy_slot(TimerRig& rig) {
  REQUIRE_FALSE(rig.partition.post_message(0, 0, kTimerSint, kHostType, kHostPayload));
  rig.executor.run_until_idle();
  REQUIRE(rig.slot(0).header.message_type == kHostType);
}
}  // namespace

TEST_CASE("stimer reconfigure: stopping a timer drops its queued expiries; the slot's message stays") {
  for (const bool via_count : {false, true}) {
    CAPTURE(via_count);
    TimerRig rig;
    rig.enable_synic(0);
    occupy_slot(rig);
    rig.arm_message_timer(0, 0, kOneMs, true);
    rig.advance(3 * kOneMs);
    REQUIRE(rig.partition.vp(0).queued_messages(0, kTimerSint) == 3);
    rig.take_interrupts();

    if (via_count)
      REQUIRE(rig.write_timer(0, stimer_count_register(0), 0) == RegisterAccess::ok);
    else
      REQUIRE(rig.write_timer(0, stimer_config_register(0), 0) == RegisterAccess::ok);

    CHECK(rig.partition.vp(0).queued_messages(0, kTimerSint) == 0);
    CHECK(drain(rig) == std::vector<std::uint32_t>{kHostType});
    rig.advance(5 * kOneMs);
    CHECK_FALSE(rig.timer_message(0));
    CHECK(rig.take_interrupts().empty());
  }
}

TEST_CASE("stimer reconfigure: an expiry already in the slot is the guest's and stays") {
  TimerRig rig;
  rig.enable_synic(0);
  rig.arm_message_timer(0, 0, kOneMs, true);
  rig.advance(kOneMs);
  REQUIRE(rig.timer_message(0));
  REQUIRE(rig.write_timer(0, stimer_config_register(0), 0) == RegisterAccess::ok);
  rig.take_expiry(0, 0, kOneMs);
}

TEST_CASE("stimer reconfigure: re-arming drops the old schedule's expiries and starts the new one at the write") {
  TimerRig rig;
  rig.enable_synic(0);
  occupy_slot(rig);
  rig.arm_message_timer(0, 0, kOneMs, true);
  rig.advance(2 * kOneMs + kOneMs / 2);
  REQUIRE(rig.partition.vp(0).queued_messages(0, kTimerSint) == 2);

  const std::uint64_t rearmed_at = rig.clock.now();
  REQUIRE(rig.write_timer(0, stimer_count_register(0), 2 * kOneMs) == RegisterAccess::ok);
  CHECK(rig.partition.vp(0).queued_messages(0, kTimerSint) == 0);
  rig.free_slot_and_eom(0);
  rig.advance(2 * kOneMs);
  rig.take_expiry(0, 0, rearmed_at + 2 * kOneMs);
}

TEST_CASE("stimer reconfigure: host messages and other timers' expiries on the SINT keep their order") {
  TimerRig rig;
  rig.enable_synic(0);
  occupy_slot(rig);
  rig.arm_message_timer(0, 0, kOneMs, true);
  rig.arm_message_timer(0, 1, kOneMs, true);
  rig.advance(kOneMs);
  REQUIRE_FALSE(rig.partition.post_message(0, 0, kTimerSint, 0x43, kHostPayload));
  rig.advance(kOneMs);
  rig.executor.run_until_idle();
  REQUIRE(rig.partition.vp(0).queued_messages(0, kTimerSint) == 5);

  REQUIRE(rig.write_timer(0, stimer_config_register(0), 0) == RegisterAccess::ok);
  REQUIRE(rig.write_timer(0, stimer_config_register(1), 0) == RegisterAccess::ok);
  // Both timers stopped: only the host messages are left, in order.
  CHECK(drain(rig) == std::vector<std::uint32_t>{kHostType, 0x43});
}

TEST_CASE("stimer reconfigure: the other timer's expiries stay when one timer is stopped") {
  TimerRig rig;
  rig.enable_synic(0);
  occupy_slot(rig);
  rig.arm_message_timer(0, 0, kOneMs, true);
  rig.arm_message_timer(0, 1, kOneMs, false);  // one-shot at 1 ms
  rig.advance(2 * kOneMs);
  REQUIRE(rig.write_timer(0, stimer_config_register(0), 0) == RegisterAccess::ok);
  CHECK(drain(rig) == std::vector<std::uint32_t>{kHostType, 0x101});
}

TEST_CASE("stimer reconfigure: an expiry waiting for queue room is dropped, and the re-armed timer runs") {
  TimerRig rig(rig_config(1, 2));
  rig.enable_synic(0);
  occupy_slot(rig);
  rig.arm_message_timer(0, 0, kOneMs, true);
  rig.advance(4 * kOneMs);  // 2 queued, 1 waiting for room
  REQUIRE(rig.partition.vp(0).queued_messages(0, kTimerSint) == 2);
  REQUIRE_FALSE(rig.timers.vp(0).next_deadline());

  REQUIRE(rig.write_timer(0, stimer_config_register(0), 0) == RegisterAccess::ok);
  CHECK(drain(rig) == std::vector<std::uint32_t>{kHostType});

  // Armed again: the dropped wait leaves nothing behind that would block it.
  const std::uint64_t armed_at = rig.clock.now();
  rig.arm_message_timer(0, 0, kOneMs, true);
  rig.advance(kOneMs);
  rig.take_expiry(0, 0, armed_at + kOneMs);
  rig.advance(kOneMs);
  rig.take_expiry(0, 0, armed_at + 2 * kOneMs);
}

TEST_CASE("stimer reconfigure: a write that changes the SINT drops what went to the old SINT") {
  TimerRig rig;
  rig.enable_synic(0);
  rig.write_synic(0, sint_register(4), SintReg().with_masked(false).with_vector(0x44).raw());
  occupy_slot(rig);
  rig.arm_message_timer(0, 0, kOneMs, true);
  rig.advance(2 * kOneMs);
  REQUIRE(rig.partition.vp(0).queued_messages(0, kTimerSint) == 2);
  const auto moved = StimerConfigReg().with_enabled(true).with_periodic(true).with_sint(4);
  REQUIRE(rig.write_timer(0, stimer_config_register(0), moved.raw()) == RegisterAccess::ok);
  CHECK(rig.partition.vp(0).queued_messages(0, kTimerSint) == 0);
}
