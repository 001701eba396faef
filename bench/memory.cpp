// Memory: bytes per VP and per queued message, measured as the change in
// the heap in use (glibc mallinfo2) around building a partition and around
// posting messages that cannot be delivered yet (SIMP disabled, so they
// stay queued). Reported as counters of one iteration:
//  - bytes_per_vp: partition of 64 VPs minus partition of 1 VP, over 63,
//    at the default queue capacity (64 per SINT);
//  - bytes_per_capacity_slot: what raising every SINT queue's capacity by
//    one costs per VP, over 16 SINTs (non-zero if queues preallocate);
//  - bytes_per_queued_message: heap growth per message held in a queue
//    (floor: sizeof(HvMessage) = 256).
// Memory outside the heap (guest RAM is the emulator's) is not counted.
#include <malloc.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "bench/rig.h"

namespace softsynic::bench {
namespace {

double heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd);
}

double partition_bytes(std::uint32_t vps, std::uint32_t capacity) {
  RamGuestMemory ram(1 << 20);
  DeterministicExecutor executor;
  PartitionConfig config;
  config.vp_count = vps;
  config.sint_queue_capacity = capacity;
  const double before = heap_in_use();
  auto partition = std::make_unique<Partition>(std::move(config), ram, executor.executor());
  return heap_in_use() - before;
}

// nullopt when the messages did not stay queued.
std::optional<double> queued_message_bytes(std::uint32_t messages) {
  RamGuestMemory ram(1 << 20);
  DeterministicExecutor executor;
  PartitionConfig config;
  config.sint_queue_capacity = messages;
  Partition partition(std::move(config), ram, executor.executor());
  executor.run_until_idle();
  const double before = heap_in_use();
  for (std::uint32_t i = 0; i < messages; ++i) {
    if (partition.post_message(0, 0, kSint, kMessageType, full_payload())) return std::nullopt;
  }
  executor.run_until_idle();
  if (partition.vp(0).queued_messages(0, kSint) != messages) return std::nullopt;
  return (heap_in_use() - before) / messages;
}

void memory_footprint(benchmark::State& state) {
  double per_vp = 0, per_slot = 0;
  std::optional<double> per_message;
  for (auto _ : state) {
    per_vp = (partition_bytes(64, 64) - partition_bytes(1, 64)) / 63;
    per_slot = (partition_bytes(1, 1088) - partition_bytes(1, 64)) / (1024.0 * kSintCount);
    per_message = queued_message_bytes(4096);
  }
  expect(state, per_message.has_value(), "messages did not stay queued");
  state.counters["bytes_per_vp"] = per_vp;
  state.counters["bytes_per_capacity_slot"] = per_slot;
  state.counters["bytes_per_queued_message"] = per_message.value_or(0);
  state.counters["message_floor_bytes"] = sizeof(HvMessage);
}
BENCHMARK(memory_footprint)->Name("memory/footprint")->Iterations(1);

}  // namespace
}  // namespace softsynic::bench
