// The EOM round trip with queued messages (TLFS "End of Message"): the
// slot holds a message and more wait in the SINT queue (message pending);
// the guest frees the slot and writes EOM; the SynIC moves the oldest
// queued message into the slot, sets message_pending in it (others still
// wait) and requests the interrupt.
//  - eom/floor: the 4-byte free, a ring pop with its 256-byte copy into
//    the slot, an atomic OR of message_pending into the slot and an atomic
//    OR (the interrupt request).
//  - eom/partition: free, SynicVp::write_register(EOM), then the executor
//    drained when delivery was left to the strand.
// The queue is refilled outside the timed region every kBatch round trips.
#include <atomic>
#include <cstdint>
#include <cstring>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "bench/rig.h"

namespace softsynic::bench {
namespace {

constexpr std::uint32_t kBatch = 1024;
constexpr std::uint64_t kPendingBit = std::uint64_t{kMessageFlagPending} << (8 * kMessageFlagsOffset);

void eom_floor(benchmark::State& state) {
  alignas(4096) static std::array<std::byte, 4096> simp;
  static std::array<HvMessage, 16> queue;
  for (auto& m : queue) {
    m.header.message_type = kMessageType;
    m.header.payload_size = kMessagePayloadMax;
  }
  std::atomic<std::uint64_t> irr{0};
  std::byte* slot = simp.data() + kSint * kMessageSize;
  std::uint32_t tail = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(slot);
    std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(slot)).store(0, std::memory_order_release);
    std::memcpy(slot, &queue[tail++ % queue.size()], sizeof(HvMessage));
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(slot)).fetch_or(kPendingBit, std::memory_order_acq_rel);
    irr.fetch_or(std::uint64_t{1} << (kVector % 64), std::memory_order_acq_rel);
    benchmark::ClobberMemory();
  }
  describe_floor(state);
}
BENCHMARK(eom_floor)->Name("eom/floor");

void eom_partition(benchmark::State& state) {
  SynicRig rig({.vps = 1, .executors = 1, .queue_capacity = kBatch + 1});
  Partition& p = rig.partition();
  SynicVp& vp = p.vp(0);
  DeterministicExecutor& executor = rig.executor_of(0);
  const auto payload = full_payload();
  bool ok = true;
  auto refill = [&] {
    for (std::uint32_t i = 0; i < kBatch; ++i) ok &= !p.post_message(0, 0, kSint, kMessageType, payload);
    executor.run_until_idle();  // the first lands in the slot if free; the rest stay queued
    ok &= rig.slot_busy(0);
  };
  refill();
  std::uint64_t queued = vp.queued_messages(0, kSint);
  for (auto _ : state) {
    if (queued == 0) {
      state.PauseTiming();
      refill();
      queued = vp.queued_messages(0, kSint);
      state.ResumeTiming();
    }
    rig.free_slot(0);
    ok &= vp.write_register(0, HvRegisterName::eom, 0) == RegisterAccess::ok;
    if (!rig.slot_busy(0)) executor.run_until_idle();
    --queued;
  }
  ok &= rig.slot_busy(0);
  // Messages still wait, so the slot says so.
  std::uint64_t first_word = 0;
  std::memcpy(&first_word, rig.message_slot(0), sizeof first_word);
  ok &= vp.queued_messages(0, kSint) == 0 || (first_word & kPendingBit) != 0;
  // One request for the first delivery, then one per round trip.
  ok &= rig.sink(0).requests.value() == iterations(state) + 1;
  expect(state, ok, "EOM did not deliver the queued message");
  describe(state, {"eom/floor", 2.0});
}
BENCHMARK(eom_partition)->Name("eom/partition");

}  // namespace
}  // namespace softsynic::bench
