// Event flag host to guest through GuestEventPort::signal (TLFS "Event
// Flags"), beside its floor. The guest clears the flag between iterations
// (one store, counted in both), so every signal sets the bit 0 -> 1 and
// requests the interrupt.
//  - event_flag/floor: an atomic OR into the SIEFP word.
//  - event_flag/partition: GuestEventPort::signal on the calling thread.
#include <atomic>
#include <cstdint>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "bench/rig.h"

namespace softsynic::bench {
namespace {

constexpr std::uint16_t kFlag = 5;

void event_flag_floor(benchmark::State& state) {
  alignas(64) static std::uint64_t word = 0;
  std::atomic_ref<std::uint64_t> flags(word);
  bool ok = true;
  for (auto _ : state) {
    ok &= (flags.fetch_or(std::uint64_t{1} << kFlag, std::memory_order_acq_rel) & (std::uint64_t{1} << kFlag)) == 0;
    flags.store(0, std::memory_order_release);
  }
  expect(state, ok, "floor flag was already set");
  describe_floor(state);
}
BENCHMARK(event_flag_floor)->Name("event_flag/floor");

void event_flag_partition(benchmark::State& state) {
  SynicRig rig({});
  auto port = rig.partition().new_guest_event_port(0, 0, kSint, kFlag);
  if (!expect(state, port.has_value(), "new_guest_event_port failed")) return;
  GuestEventPort& sender = **port;
  auto flags = rig.flag_word(0, kFlag);
  bool ok = true;
  for (auto _ : state) {
    ok &= !sender.signal();
    flags.store(0, std::memory_order_release);
  }
  expect(state, ok && rig.sink(0).requests.value() == iterations(state),
         "signal did not set the flag and request the interrupt each time");
  describe(state, {"event_flag/floor", 2.0});
}
BENCHMARK(event_flag_partition)->Name("event_flag/partition");

}  // namespace
}  // namespace softsynic::bench
