// TimerRig: a real Partition on a DeterministicExecutor with RAM, a
// VirtualClock and SyntheticTimers, plus a scripted "guest" that enables
// the SynIC, reads SIMP slots and writes EOM, for the timer tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <doctest/doctest.h>

#include "synic/defs/message.h"
#include "synic/defs/register_values.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/interrupt_sink.h"
#include "synic/partition.h"
#include "synic/time_source.h"
#include "synic/timers/advance_time.h"
#include "synic/timers/synthetic_timers.h"

namespace softsynic::test {

inline constexpr std::uint64_t kSimpBase = 0x10000;  // VP n's SIMP page: kSimpBase + n * 4096
inline constexpr std::uint8_t kTimerSint = 3;
inline constexpr std::uint8_t kTimerSintVector = 0x40;
inline constexpr std::uint64_t kOneMs = 10'000;  // 100 ns units

struct Interrupt {
  std::uint32_t vp;
  std::uint32_t vector;
  friend bool operator==(const Interrupt&, const Interrupt&) = default;
};

inline PartitionConfig rig_config(std::uint32_t vps, std::uint32_t capacity = 64) {
  PartitionConfig c;
  c.vp_count = vps;
  c.sint_queue_capacity = capacity;
  return c;
}

class TimerRig {
 public:
  explicit TimerRig(PartitionConfig config = rig_config(1), SyntheticTimersConfig timers_config = {})
      : partition(std::move(config), memory, executor.executor()), timers(partition, clock, timers_config) {
    for (std::uint32_t vp = 0; vp < partition.vp_count(); ++vp) {
      sinks.push_back(std::make_unique<FunctionInterruptSink>(
          [this, vp](std::uint32_t vector, bool) { interrupts.push_back({vp, vector}); }));
      partition.vp(vp).set_interrupt_sink(0, sinks.back().get());
      timers.vp(vp).set_interrupt_sink(0, sinks.back().get());
    }
  }

  // Runs f on vp's strand and the executor to quiescence; returns f's result.
  template <typename F>
  auto on_strand(std::uint32_t vp, F f) {
    using R = decltype(f());
    std::optional<R> result;
    boost::asio::post(partition.vp(vp).strand(), [&] { result.emplace(f()); });
    executor.run_until_idle();
    return *result;
  }

  RegisterAccess write_synic(std::uint32_t vp, HvRegisterName name, std::uint64_t value) {
    return on_strand(vp, [&] { return partition.vp(vp).write_register(0, name, value); });
  }
  RegisterAccess write_timer(std::uint32_t vp, HvRegisterName name, std::uint64_t value) {
    return on_strand(vp, [&] { return timers.vp(vp).write_register(0, name, value); });
  }
  std::uint64_t read_timer(std::uint32_t vp, HvRegisterName name) {
    std::uint64_t value = 0;
    on_strand(vp, [&] { return timers.vp(vp).read_register(0, name, value); });
    return value;
  }

  // Guest: SIMP on, SINT `sint` unmasked with `vector`, SCONTROL on.
  void enable_synic(std::uint32_t vp, std::uint8_t sint = kTimerSint, std::uint8_t vector = kTimerSintVector) {
    write_synic(vp, HvRegisterName::simp, PageReg().with_enabled(true).with_gpn(simp_gpa(vp) >> 12).raw());
    write_synic(vp, sint_register(sint), SintReg().with_masked(false).with_vector(vector).raw());
    write_synic(vp, HvRegisterName::scontrol, ScontrolReg().with_enabled(true).raw());
  }

  // Message-mode timer n on `sint`: CONFIG then COUNT.
  void arm_message_timer(std::uint32_t vp, unsigned n, std::uint64_t count, bool periodic, bool lazy = false,
                         std::uint8_t sint = kTimerSint) {
    const auto config = StimerConfigReg().with_enabled(true).with_periodic(periodic).with_lazy(lazy).with_sint(sint);
    write_timer(vp, stimer_count_register(n), count);
    write_timer(vp, stimer_config_register(n), config.raw());
  }

  static std::uint64_t simp_gpa(std::uint32_t vp) { return kSimpBase + std::uint64_t{vp} * 4096; }

  HvMessage slot(std::uint32_t vp, std::uint8_t sint = kTimerSint) {
    HvMessage m{};
    std::vector<std::byte> raw(sizeof m);
    memory.read(simp_gpa(vp) + sint * kMessageSize, raw);
    std::memcpy(&m, raw.data(), sizeof m);
    return m;
  }

  // The TimerExpired payload in the slot, or nullopt when the slot holds
  // something else (or nothing).
  std::optional<TimerMessagePayload> timer_message(std::uint32_t vp, std::uint8_t sint = kTimerSint) {
    const HvMessage m = slot(vp, sint);
    if (m.header.message_type != static_cast<std::uint32_t>(HvMessageType::timer_expired)) return std::nullopt;
    TimerMessagePayload p{};
    std::memcpy(&p, m.payload.data(), sizeof p);
    return p;
  }

  // Guest: frees the slot and writes EOM (always, which the rules allow).
  void free_slot_and_eom(std::uint32_t vp, std::uint8_t sint = kTimerSint) {
    const std::uint32_t none = 0;
    memory.write(simp_gpa(vp) + sint * kMessageSize, std::as_bytes(std::span(&none, 1)));
    write_synic(vp, HvRegisterName::eom, 0);
  }

  // Guest: takes the timer message out of the slot (nullopt when there is
  // none) and acknowledges it.
  std::optional<TimerMessagePayload> take_timer_message(std::uint32_t vp, std::uint8_t sint = kTimerSint) {
    auto p = timer_message(vp, sint);
    if (p) free_slot_and_eom(vp, sint);
    return p;
  }

  // Guest: the slot holds timer `index`'s expiry that was due at
  // `expiration`; takes it out and acknowledges it.
  void take_expiry(std::uint32_t vp, unsigned index, std::uint64_t expiration) {
    const auto p = take_timer_message(vp);
    REQUIRE(p);
    CHECK(p->timer_index == index);
    CHECK(p->expiration_time == expiration);
  }

  std::uint64_t advance(std::uint64_t ticks) { return advance_time(clock, timers, executor, ticks); }

  // Moves the clock without stepping through deadlines, then services the
  // timers once: an emulator that was late.
  void jump_and_fire(std::uint64_t ticks) {
    clock.advance(ticks);
    fire_due_everywhere(timers, executor);
  }

  std::vector<Interrupt> take_interrupts() { return std::exchange(interrupts, {}); }

  RamGuestMemory memory{std::uint64_t{1} << 20};
  DeterministicExecutor executor;
  VirtualClock clock;
  Partition partition;
  SyntheticTimers timers;
  std::vector<std::unique_ptr<FunctionInterruptSink>> sinks;
  std::vector<Interrupt> interrupts;
};

}  // namespace softsynic::test
