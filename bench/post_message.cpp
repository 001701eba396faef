// HvPostMessage, guest to host (TLFS "HvPostMessage"): from the input block
// in the guest page to the host message port, beside its floor. The port
// copies the message into a ring the benchmark then pops, as a host queue
// would.
//  - post_message/floor: two 256-byte copies (guest page -> input block,
//    input block -> ring) and the ring push/pop.
//  - post_message/partition: the input block read through GuestMemory, then
//    Partition::guest_post_message.
//  - post_message/x86_slow: X86Hypervisor::hypercall with a slow
//    HvPostMessage (RDX = input GPA): ABI decode, page read, same path.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "bench/rig.h"
#ifdef SOFTSYNIC_BENCH_HAVE_CPU_HOOKS
#include "bench/x86_guest.h"
#endif

namespace softsynic::bench {
namespace {

void post_message_floor(benchmark::State& state) {
  alignas(4096) static std::array<std::byte, 4096> page;
  const PostMessageInput in0 = post_input();
  std::memcpy(page.data(), &in0, sizeof in0);
  MessageRing ring;
  bool ok = true;
  for (auto _ : state) {
    std::byte* guest = page.data();
    benchmark::DoNotOptimize(guest);
    PostMessageInput in;
    std::memcpy(&in, guest, sizeof in);
    ok &= ring.push(in.message_type, std::span(in.payload).first(in.payload_size));
    ok &= pop_message(ring);
  }
  expect(state, ok, "floor ring push/pop failed");
  describe_floor(state);
}
BENCHMARK(post_message_floor)->Name("post_message/floor");

void post_message_partition(benchmark::State& state) {
  SynicRig rig({});
  write_post_input(rig, 0);
  Partition& p = rig.partition();
  GuestMemory& memory = rig.ram();
  MessageRing& ring = rig.message_port().rings[0];
  bool ok = true;
  for (auto _ : state) {
    PostMessageInput in;
    ok &= memory.read(SynicRig::input_gpa(0), std::as_writable_bytes(std::span(&in, 1)));
    HvStatus status = p.guest_post_message(0, 0, in.connection_id, in.message_type,
                                           std::span(in.payload).first(std::min<std::size_t>(in.payload_size, kMessagePayloadMax)));
    ok &= status == HvStatus::success;
    ok &= pop_message(ring);
  }
  expect(state, ok, "guest_post_message did not reach the port");
  describe(state, {"post_message/floor", 2.0});
}
BENCHMARK(post_message_partition)->Name("post_message/partition");

#ifdef SOFTSYNIC_BENCH_HAVE_CPU_HOOKS
void post_message_x86_slow(benchmark::State& state) {
  SynicRig rig({});
  write_post_input(rig, 0);
  X86Guest guest(rig);
  X86Hypervisor& hv = guest.hypervisor();
  X86RegisterFile regs = X86Guest::slow_post_message(SynicRig::input_gpa(0));
  MessageRing& ring = rig.message_port().rings[0];
  bool ok = true;
  for (auto _ : state) {
    regs.gpr[static_cast<unsigned>(X86Reg::rax)] = ~0ull;
    hv.hypercall(0, 0, regs);
    ok &= X86Guest::succeeded(regs);
    ok &= pop_message(ring);
  }
  expect(state, ok, "slow HvPostMessage did not reach the port");
  describe(state, {"post_message/floor", 2.0});
}
BENCHMARK(post_message_x86_slow)->Name("post_message/x86_slow");
#endif

}  // namespace
}  // namespace softsynic::bench
