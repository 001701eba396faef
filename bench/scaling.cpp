// The same paths under 1, 2, 8 and 64 VPs driven by 1 and 2 host threads,
// each path beside a floor that does the irreducible work on per-VP state.
// Thread t owns VPs t, t + T, ... (T threads) and one DeterministicExecutor
// that runs their strand work, as a vCPU thread would; each iteration is
// one operation on the thread's next VP, round robin, so the working set
// grows with the VP count.
// Reported as wall time per operation over all threads (UseRealTime):
// items_per_second is the partition's throughput, divided by T it is the
// throughput per core. Targets: throughput grows with T (up to the core
// count) and ns/op stays flat from 1 to 64 VPs.
// Names: scale/<path>/vps:<n>/real_time/threads:<T>.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "bench/rig.h"

namespace softsynic::bench {
namespace {

constexpr std::uint32_t kConnection = kEventConnection + 5;
constexpr std::uint16_t kFlag = 7;

// ---- HvSignalEvent, guest to host ----
struct SignalEventFloor {
  static constexpr const char* kName = "scale/signal_event_floor";
  struct alignas(64) VpWord {
    std::atomic<std::uint64_t> bits{0};
  };
  struct Shared {
    Shared(std::uint32_t, unsigned) {
      for (std::uint32_t c = 0; c < kEventPorts; ++c) registry[kEventConnection + c] = &port;
    }
    CountingEventPort port;
    std::unordered_map<std::uint32_t, EventPort*> registry;
    std::array<VpWord, kMaxVps> words;
  };
  static bool op(Shared& s, std::uint32_t vp) {
    std::uint32_t connection = kConnection;
    benchmark::DoNotOptimize(connection);
    auto it = s.registry.find(connection);
    if (it == s.registry.end()) return false;
    s.words[vp].bits.fetch_or(1, std::memory_order_acq_rel);
    EventPort* target = it->second;
    benchmark::DoNotOptimize(target);
    target->on_event(GuestEvent{0, vp, connection, kFlag});
    return true;
  }
  static bool verify(Shared& s, std::uint64_t ops) { return s.port.total() == ops; }
};

struct SignalEventPartition {
  static constexpr const char* kName = "scale/signal_event";
  static constexpr Target kTarget{"scale/signal_event_floor", 2.0};
  struct Shared {
    Shared(std::uint32_t vps, unsigned threads) : rig({vps, threads}) {}
    SynicRig rig;
  };
  static bool op(Shared& s, std::uint32_t vp) {
    return s.rig.partition().guest_signal_event(vp, 0, kConnection, kFlag) == HvStatus::success;
  }
  static bool verify(Shared& s, std::uint64_t ops) { return s.rig.event_port().total() == ops; }
};

// ---- Event flag, host to guest ----
struct EventFlagFloor {
  static constexpr const char* kName = "scale/event_flag_floor";
  struct Shared {
    Shared(std::uint32_t, unsigned) {}
    std::array<SignalEventFloor::VpWord, kMaxVps> words;
  };
  static bool op(Shared& s, std::uint32_t vp) {
    const bool was_clear = (s.words[vp].bits.fetch_or(1u << kFlag, std::memory_order_acq_rel) & (1u << kFlag)) == 0;
    s.words[vp].bits.store(0, std::memory_order_release);
    return was_clear;
  }
  static bool verify(Shared&, std::uint64_t) { return true; }
};

struct EventFlagPartition {
  static constexpr const char* kName = "scale/event_flag";
  static constexpr Target kTarget{"scale/event_flag_floor", 2.0};
  struct Shared {
    Shared(std::uint32_t vps, unsigned threads) : rig({vps, threads}) {
      for (std::uint32_t vp = 0; vp < vps; ++vp) {
        auto port = rig.partition().new_guest_event_port(0, vp, kSint, kFlag);
        if (!port) throw std::runtime_error("bench: new_guest_event_port failed");
        ports.push_back(std::move(*port));
      }
    }
    SynicRig rig;
    std::vector<std::unique_ptr<GuestEventPort>> ports;
  };
  static bool op(Shared& s, std::uint32_t vp) {
    const bool ok = !s.ports[vp]->signal();
    s.rig.flag_word(vp, kFlag).store(0, std::memory_order_release);
    return ok;
  }
  static bool verify(Shared& s, std::uint64_t ops) { return s.rig.interrupt_requests() == ops; }
};

// ---- Host post_message to a free slot ----
struct HostPostFloor {
  static constexpr const char* kName = "scale/host_post_floor";
  struct Shared {
    Shared(std::uint32_t vps, unsigned threads) : rig({vps, threads}) {
      message.header.message_type = kMessageType;
      message.header.payload_size = kMessagePayloadMax;
    }
    SynicRig rig;  // for its SIMP pages
    HvMessage message{};
    std::array<SignalEventFloor::VpWord, kMaxVps> irr;
  };
  static bool op(Shared& s, std::uint32_t vp) {
    std::memcpy(s.rig.message_slot(vp), &s.message, sizeof s.message);
    s.irr[vp].bits.fetch_or(1, std::memory_order_acq_rel);
    s.rig.free_slot(vp);
    return true;
  }
  static bool verify(Shared&, std::uint64_t) { return true; }
};

struct HostPostPartition {
  static constexpr const char* kName = "scale/host_post";
  static constexpr Target kTarget{"scale/host_post_floor", 2.0};
  struct Shared {
    Shared(std::uint32_t vps, unsigned threads) : rig({vps, threads}) {}
    SynicRig rig;
  };
  static bool op(Shared& s, std::uint32_t vp) {
    const bool ok = !s.rig.partition().post_message(0, vp, kSint, kMessageType, full_payload());
    s.rig.executor_of(vp).run_until_idle();
    s.rig.free_slot(vp);
    return ok;
  }
  static bool verify(Shared& s, std::uint64_t ops) { return s.rig.interrupt_requests() == ops; }
};

// ---- HvPostMessage, guest to host ----
struct PostMessageFloor {
  static constexpr const char* kName = "scale/post_message_floor";
  struct Shared {
    Shared(std::uint32_t vps, unsigned threads) : rig({vps, threads}) {
      for (std::uint32_t vp = 0; vp < vps; ++vp) write_post_input(rig, vp);
    }
    SynicRig rig;  // for its input pages
    std::array<MessageRing, kMaxVps> rings;
  };
  static bool op(Shared& s, std::uint32_t vp) {
    PostMessageInput in;
    std::memcpy(&in, s.rig.ram().host_pointer(SynicRig::input_gpa(vp), sizeof in), sizeof in);
    return s.rings[vp].push(in.message_type, std::span(in.payload).first(in.payload_size)) && pop_message(s.rings[vp]);
  }
  static bool verify(Shared&, std::uint64_t) { return true; }
};

struct PostMessagePartition {
  static constexpr const char* kName = "scale/post_message";
  static constexpr Target kTarget{"scale/post_message_floor", 2.0};
  struct Shared {
    Shared(std::uint32_t vps, unsigned threads) : rig({vps, threads}) {
      for (std::uint32_t vp = 0; vp < vps; ++vp) write_post_input(rig, vp);
    }
    SynicRig rig;
  };
  static bool op(Shared& s, std::uint32_t vp) {
    PostMessageInput in;
    if (!s.rig.ram().read(SynicRig::input_gpa(vp), std::as_writable_bytes(std::span(&in, 1)))) return false;
    const HvStatus status = s.rig.partition().guest_post_message(
        vp, 0, in.connection_id, in.message_type,
        std::span(in.payload).first(std::min<std::size_t>(in.payload_size, kMessagePayloadMax)));
    return status == HvStatus::success && pop_message(s.rig.message_port().rings[vp]);
  }
  static bool verify(Shared&, std::uint64_t) { return true; }
};

// Shared state of the running benchmark: thread 0 publishes it before the
// loop and takes it down after; the others wait for it.
template <typename Path>
std::atomic<typename Path::Shared*> g_shared{nullptr};

template <typename Path>
void scale(benchmark::State& state) {
  const auto vps = static_cast<std::uint32_t>(state.range(0));
  const auto threads = static_cast<unsigned>(state.threads());
  const auto me = static_cast<unsigned>(state.thread_index());
  if (me == 0) g_shared<Path>.store(new typename Path::Shared(vps, threads), std::memory_order_release);
  typename Path::Shared* shared;
  while (!(shared = g_shared<Path>.load(std::memory_order_acquire))) std::this_thread::yield();

  const std::uint32_t mine = vps / threads;  // VPs me, me + T, ...
  std::uint32_t k = 0;
  bool ok = true;
  for (auto _ : state) {
    ok &= Path::op(*shared, me + k * threads);
    if (++k == mine) k = 0;
  }
  static std::atomic<std::uint64_t> total_ops{0};
  static std::atomic<bool> all_ok{true};
  total_ops.fetch_add(static_cast<std::uint64_t>(state.iterations()));
  if (!ok) all_ok.store(false);
  // Every thread has left the loop (its end is a barrier), but not every
  // thread has added its count: thread 0 waits for them.
  static std::atomic<unsigned> reported{0};
  reported.fetch_add(1);
  if (me == 0) {
    while (reported.load() != threads) std::this_thread::yield();
    expect(state, all_ok.load() && Path::verify(*shared, total_ops.load()), "operations did not all take effect");
    g_shared<Path>.store(nullptr, std::memory_order_release);
    delete shared;
    total_ops.store(0);
    all_ok.store(true);
    reported.store(0);
  }
  if constexpr (requires { Path::kTarget; }) {
    describe(state, Path::kTarget);
  } else {
    describe_floor(state);
  }
}

template <typename Path>
void register_path() {
  for (int vps : {1, 2, 8, 64}) {
    for (int threads : {1, 2}) {
      if (vps < threads) continue;
      benchmark::RegisterBenchmark(Path::kName, scale<Path>)->ArgName("vps")->Arg(vps)->Threads(threads)->UseRealTime();
    }
  }
}

const bool registered = [] {
  register_path<SignalEventFloor>();
  register_path<SignalEventPartition>();
  register_path<EventFlagFloor>();
  register_path<EventFlagPartition>();
  register_path<HostPostFloor>();
  register_path<HostPostPartition>();
  register_path<PostMessageFloor>();
  register_path<PostMessagePartition>();
  return true;
}();

}  // namespace
}  // namespace softsynic::bench
