// Host post_message to a free SIMP slot, until the interrupt is requested
// (TLFS "Message Buffers"), beside its floor. Between iterations the guest
// frees the slot (message type back to 0, a 4-byte store counted in both).
//  - host_post/floor: the 256-byte copy into the slot and an atomic OR (the
//    interrupt request).
//  - host_post/partition: Partition::post_message (queue push, strand work
//    posted), DeterministicExecutor::run_until_idle (the strand writes the
//    slot and requests the interrupt).
#include <atomic>
#include <cstdint>
#include <cstring>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "bench/rig.h"

namespace softsynic::bench {
namespace {

void host_post_floor(benchmark::State& state) {
  alignas(4096) static std::array<std::byte, 4096> simp;
  HvMessage message{};
  message.header.message_type = kMessageType;
  message.header.payload_size = kMessagePayloadMax;
  std::memcpy(message.payload.data(), full_payload().data(), kMessagePayloadMax);
  std::atomic<std::uint64_t> irr{0};
  std::byte* slot = simp.data() + kSint * kMessageSize;
  for (auto _ : state) {
    benchmark::DoNotOptimize(slot);
    std::memcpy(slot, &message, sizeof message);
    irr.fetch_or(std::uint64_t{1} << (kVector % 64), std::memory_order_acq_rel);
    benchmark::ClobberMemory();
    std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(slot)).store(0, std::memory_order_release);
  }
  describe_floor(state);
}
BENCHMARK(host_post_floor)->Name("host_post/floor");

void host_post_partition(benchmark::State& state) {
  SynicRig rig({});
  Partition& p = rig.partition();
  DeterministicExecutor& executor = rig.executor_of(0);
  const auto payload = full_payload();
  bool ok = true;
  for (auto _ : state) {
    ok &= !p.post_message(0, 0, kSint, kMessageType, payload);
    executor.run_until_idle();
    rig.free_slot(0);
  }
  expect(state, ok && rig.sink(0).requests.value() == iterations(state),
         "post_message did not end in one interrupt request per message");
  describe(state, {"host_post/floor", 2.0});
}
BENCHMARK(host_post_partition)->Name("host_post/partition");

}  // namespace
}  // namespace softsynic::bench
