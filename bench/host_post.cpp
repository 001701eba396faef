// Host post_message to a free SIMP slot, until the interrupt is requested
// (TLFS "Message Buffers"), beside its floor. Between iterations the guest
// frees the slot (message type back to 0, a 4-byte store counted in both).
//  - host_post/floor: the 256-byte copy into the slot and an atomic OR (the
//    interrupt request).
//  - host_post/partition: Partition::post_message made on the VP's strand
//    (a port or timer replying on the vCPU), which needs no handoff: the
//    post writes the slot and requests the interrupt before it returns.
//  - host_post/cross_thread: the post made off the strand, then
//    DeterministicExecutor::run_until_idle (the strand writes the slot and
//    requests the interrupt). Its floor, host_post/cross_thread_floor, adds
//    the handoff any design needs to what host_post/floor does: a copy into
//    a queue, one post to the executor (any_io_executor, as the partition
//    is given) and run_until_idle.
#include <atomic>
#include <cstdint>
#include <cstring>

#include <boost/asio/post.hpp>
#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "bench/rig.h"

namespace softsynic::bench {
namespace {

HvMessage full_message() {
  HvMessage message{};
  message.header.message_type = kMessageType;
  message.header.payload_size = kMessagePayloadMax;
  std::memcpy(message.payload.data(), full_payload().data(), kMessagePayloadMax);
  return message;
}

void host_post_floor(benchmark::State& state) {
  alignas(4096) static std::array<std::byte, 4096> simp;
  const HvMessage message = full_message();
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
  const auto payload = full_payload();
  bool ok = true;
  rig.on_strand(0, [&] {
    for (auto _ : state) {
      ok &= !p.post_message(0, 0, kSint, kMessageType, payload);
      rig.free_slot(0);
    }
  });
  expect(state, ok && rig.sink(0).requests.value() == iterations(state),
         "post_message did not end in one interrupt request per message");
  describe(state, {"host_post/floor", 2.0});
}
BENCHMARK(host_post_partition)->Name("host_post/partition");

void host_post_cross_thread_floor(benchmark::State& state) {
  alignas(4096) static std::array<std::byte, 4096> simp;
  const HvMessage message = full_message();
  HvMessage queued{};
  std::atomic<std::uint64_t> irr{0};
  std::byte* slot = simp.data() + kSint * kMessageSize;
  DeterministicExecutor executor;
  const boost::asio::any_io_executor ex = executor.executor();
  for (auto _ : state) {
    benchmark::DoNotOptimize(slot);
    std::memcpy(&queued, &message, sizeof message);
    boost::asio::post(ex, [&] {
      std::memcpy(slot, &queued, sizeof queued);
      irr.fetch_or(std::uint64_t{1} << (kVector % 64), std::memory_order_acq_rel);
    });
    executor.run_until_idle();
    benchmark::ClobberMemory();
    std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(slot)).store(0, std::memory_order_release);
  }
  describe_floor(state);
}
BENCHMARK(host_post_cross_thread_floor)->Name("host_post/cross_thread_floor");

void host_post_cross_thread(benchmark::State& state) {
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
  describe(state, {"host_post/cross_thread_floor", 2.0});
}
BENCHMARK(host_post_cross_thread)->Name("host_post/cross_thread");

}  // namespace
}  // namespace softsynic::bench
