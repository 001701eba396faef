// HvSignalEvent, guest to host (TLFS "HvSignalEvent"): from the decoded call
// to the host event port's on_event, beside its floor.
//  - signal_event/floor: an unordered_map lookup of the connection id, an
//    atomic OR and an indirect call: what any port registry must do.
//  - signal_event/partition: Partition::guest_signal_event (the call already
//    decoded).
//  - signal_event/x86_fast: X86Hypervisor::hypercall with a fast
//    HvSignalEvent in an X86RegisterFile: the ABI decode, then the same path.
#include <atomic>
#include <cstdint>
#include <unordered_map>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "bench/rig.h"
#ifdef SOFTSYNIC_BENCH_HAVE_CPU_HOOKS
#include "bench/x86_guest.h"
#endif

namespace softsynic::bench {
namespace {

constexpr std::uint32_t kConnection = kEventConnection + 5;
constexpr std::uint16_t kFlag = 3;

struct FloorPort {
  EventPort* port = nullptr;
  Vtl minimum_vtl = 0;
  std::atomic<std::uint64_t> calls{0};
};

void signal_event_floor(benchmark::State& state) {
  CountingEventPort port;
  std::unordered_map<std::uint32_t, FloorPort> registry;
  for (std::uint32_t c = 0; c < kEventPorts; ++c) registry[kEventConnection + c].port = &port;
  std::uint32_t connection = kConnection;
  for (auto _ : state) {
    benchmark::DoNotOptimize(connection);
    auto it = registry.find(connection);
    if (it == registry.end()) break;
    it->second.calls.fetch_or(1, std::memory_order_acq_rel);
    EventPort* target = it->second.port;
    benchmark::DoNotOptimize(target);  // keep the call indirect
    target->on_event(GuestEvent{0, 0, connection, kFlag});
  }
  expect(state, port.total() == iterations(state), "floor port not called once per iteration");
  describe_floor(state);
}
BENCHMARK(signal_event_floor)->Name("signal_event/floor");

void signal_event_partition(benchmark::State& state) {
  SynicRig rig({});
  Partition& p = rig.partition();
  bool ok = true;
  for (auto _ : state) {
    HvStatus status = p.guest_signal_event(0, 0, kConnection, kFlag);
    ok &= status == HvStatus::success;
  }
  expect(state, ok && rig.event_port().total() == iterations(state), "guest_signal_event did not reach the port");
  describe(state, {"signal_event/floor", 2.0, 40.0});
}
BENCHMARK(signal_event_partition)->Name("signal_event/partition");

#ifdef SOFTSYNIC_BENCH_HAVE_CPU_HOOKS
void signal_event_x86_fast(benchmark::State& state) {
  SynicRig rig({});
  X86Guest guest(rig);
  X86Hypervisor& hv = guest.hypervisor();
  X86RegisterFile regs = X86Guest::fast_signal_event(kConnection, kFlag);
  bool ok = true;
  for (auto _ : state) {
    regs.gpr[static_cast<unsigned>(X86Reg::rax)] = ~0ull;  // so a missing result shows
    hv.hypercall(0, 0, regs);
    ok &= X86Guest::succeeded(regs);
  }
  expect(state, ok && rig.event_port().total() == iterations(state), "fast HvSignalEvent did not reach the port");
  describe(state, {"signal_event/floor", 2.0, 40.0});
}
BENCHMARK(signal_event_x86_fast)->Name("signal_event/x86_fast");
#endif

}  // namespace
}  // namespace softsynic::bench
