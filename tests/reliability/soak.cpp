// softsynic_soak: memory stays flat under endless traffic. For the given
// number of seconds, host posts (plain, and async when a queue is full),
// guest consumes and EOMs, guest HvPostMessage / HvSignalEvent to ports,
// host event signals, SIMP moves and port re-registration run in a loop
// over 4 VPs x 4 SINTs; every message is checked to arrive once and in
// order. RSS (VmRSS from /proc/self/status) is sampled once a second; after
// the warm-up (a tenth of the run, at least 3 s) it must not grow by more
// than the bound (default 4 MiB).
//
// Usage: softsynic_soak <seconds> [bound_kib] [leak_kib_per_s]. Exit 0
// clean, 1 on growth or a lost/duplicated message, 2 on bad arguments.
// leak_kib_per_s makes the tool leak on purpose, to prove the check bites.
// The core itself never reads a clock; this tool does, to know when to stop.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"

namespace {

using namespace softsynic;

constexpr std::uint32_t kVps = 4;
constexpr unsigned kSints = 4;
constexpr std::uint64_t kRamSize = 4 << 20;

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

std::uint64_t simp_gpa(std::uint32_t vp, unsigned generation) { return 0x100000 + (vp * 2 + generation % 2) * 0x2000; }
std::uint64_t siefp_gpa(std::uint32_t vp) { return 0x200000 + vp * 0x1000; }
std::uint64_t page(std::uint64_t gpa) { return PageReg{}.with_gpn(gpa >> 12).with_enabled(true).raw(); }

class CountingPort final : public MessagePort {
 public:
  bool on_message(const GuestMessage& m) override { return m.payload.size() == 8 && ++count > 0; }
  std::uint64_t count = 0;
};
class CountingEvents final : public EventPort {
 public:
  void on_event(const GuestEvent&) override { ++count; }
  std::uint64_t count = 0;
};

struct Soak {
  DeterministicExecutor exec;
  RamGuestMemory ram{kRamSize};
  Partition partition{[] {
                        PartitionConfig c;
                        c.vp_count = kVps;
                        c.sint_queue_capacity = 8;
                        return c;
                      }(),
                      ram, exec.executor()};
  FunctionInterruptSink sink{[this](std::uint32_t, bool) { ++interrupts; }};
  std::uint64_t interrupts = 0;
  std::uint64_t next_id[kVps][kSints] = {};      // next id to post
  std::uint64_t expected_id[kVps][kSints] = {};  // next id the guest must see
  std::uint64_t delivered = 0;
  std::uint64_t async_pending = 0;
  unsigned generation = 0;
  bool failed = false;

  Soak() {
    for (std::uint32_t vp = 0; vp < kVps; ++vp) {
      partition.vp(vp).set_interrupt_sink(0, &sink);
      enable(vp);
    }
  }
  void enable(std::uint32_t vp) {
    SynicVp& v = partition.vp(vp);
    v.write_register(0, HvRegisterName::simp, page(simp_gpa(vp, generation)));
    v.write_register(0, HvRegisterName::siefp, page(siefp_gpa(vp)));
    v.write_register(0, HvRegisterName::scontrol, 1);
    for (unsigned s = 0; s < kSints; ++s)
      v.write_register(0, sint_register(s), SintReg{}.with_masked(false).with_vector(0x40 + s).raw());
  }

  void post(std::uint32_t vp, unsigned sint) {
    const std::uint64_t id = next_id[vp][sint];
    const auto payload = std::as_bytes(std::span(&id, 1));
    const auto ec = partition.post_message(0, vp, static_cast<std::uint8_t>(sint), 1, payload);
    if (!ec) {
      ++next_id[vp][sint];
    } else if (ec == make_error_code(Error::queue_full)) {
      if (async_pending > 4) return;
      ++async_pending;
      ++next_id[vp][sint];
      partition.async_post_message(0, vp, static_cast<std::uint8_t>(sint), 1, payload,
                                   [this](boost::system::error_code e) {
                                     --async_pending;
                                     if (e) fail("async post failed");
                                   });
    } else {
      fail("post refused");
    }
  }

  void consume(std::uint32_t vp, unsigned sint) {
    const std::uint64_t slot = partition.vp(vp).simp(0).gpa() + sint * kMessageSize;
    HvMessage m{};
    ram.read(slot, std::as_writable_bytes(std::span(&m, 1)));
    if (m.header.message_type == 0) return;
    std::uint64_t id = 0;
    std::memcpy(&id, m.payload.data(), sizeof id);
    if (m.header.payload_size != sizeof id || id != expected_id[vp][sint]) fail("message lost, duplicated or reordered");
    ++expected_id[vp][sint];
    ++delivered;
    const std::uint32_t zero = 0;
    ram.write(slot, std::as_bytes(std::span(&zero, 1)));
    if (m.header.message_flags & kMessageFlagPending) partition.vp(vp).write_register(0, HvRegisterName::eom, 0);
  }

  void fail(const char* why) {
    if (!failed) std::fprintf(stderr, "softsynic_soak: %s\n", why);
    failed = true;
  }

  // One round of every kind of traffic.
  void round(std::uint64_t n) {
    for (std::uint32_t vp = 0; vp < kVps; ++vp)
      for (unsigned s = 0; s < kSints; ++s)
        for (int k = 0; k < 3; ++k) post(vp, s);
    exec.run_until_idle();
    for (int k = 0; k < 12; ++k) {
      for (std::uint32_t vp = 0; vp < kVps; ++vp)
        for (unsigned s = 0; s < kSints; ++s) consume(vp, s);
      exec.run_until_idle();
    }
    // Guest to host, through ports registered and dropped every round.
    auto port = std::make_shared<CountingPort>();
    auto events = std::make_shared<CountingEvents>();
    auto mh = partition.add_message_port(0x100, 0, port);
    auto eh = partition.add_event_port(0x200, 0, events);
    if (!mh || !eh) return fail("port registration failed");
    for (std::uint32_t vp = 0; vp < kVps; ++vp) {
      const std::uint64_t v = n;
      if (partition.guest_post_message(vp, 0, 0x100, 1, std::as_bytes(std::span(&v, 1))) != HvStatus::success)
        fail("guest post failed");
      if (partition.guest_signal_event(vp, 0, 0x200, static_cast<std::uint16_t>(n % 2048)) != HvStatus::success)
        fail("guest signal failed");
    }
    // Host event flags (each flag coalesces after its first signal).
    auto ev = partition.new_guest_event_port(0, static_cast<std::uint32_t>(n % kVps), 1, static_cast<std::uint16_t>(n % 2048));
    if (!ev) return fail("event port refused");
    (*ev)->signal();
    // Every 64 rounds the guests move their SIMPs.
    if (n % 64 == 63) {
      ++generation;
      for (std::uint32_t vp = 0; vp < kVps; ++vp)
        partition.vp(vp).write_register(0, HvRegisterName::simp, page(simp_gpa(vp, generation)));
      exec.run_until_idle();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: softsynic_soak <seconds> [bound_kib]\n");
    return 2;
  }
  const long seconds = std::strtol(argv[1], nullptr, 10);
  const long bound_kib = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 4096;
  const long leak_kib = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 0;
  if (seconds <= 0 || bound_kib <= 0 || leak_kib < 0) {
    std::fprintf(stderr, "softsynic_soak: bad arguments\n");
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  const auto warm_up = start + std::chrono::seconds(std::max(3L, seconds / 10));
  auto next_sample = start + std::chrono::seconds(1);

  Soak soak;
  std::vector<std::unique_ptr<char[]>> leaked;  // self-test only
  long baseline = -1, peak = 0;
  std::uint64_t rounds = 0;
  while (Clock::now() < end && !soak.failed) {
    soak.round(rounds++);
    if (Clock::now() < next_sample) continue;
    next_sample += std::chrono::seconds(1);
    if (leak_kib > 0) {
      leaked.push_back(std::make_unique<char[]>(static_cast<std::size_t>(leak_kib) * 1024));
      std::memset(leaked.back().get(), 1, static_cast<std::size_t>(leak_kib) * 1024);  // touch it: RSS
    }
    const long rss = rss_kib();
    const long at = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count());
    if (Clock::now() >= warm_up && baseline < 0) baseline = rss;
    peak = std::max(peak, rss);
    std::printf("t=%lds rss=%ldKiB rounds=%llu delivered=%llu\n", at, rss, static_cast<unsigned long long>(rounds),
                static_cast<unsigned long long>(soak.delivered));
    std::fflush(stdout);
    if (baseline >= 0 && rss - baseline > bound_kib) {
      std::fprintf(stderr, "softsynic_soak: RSS grew from %ld KiB to %ld KiB (bound %ld KiB)\n", baseline, rss,
                   bound_kib);
      return 1;
    }
  }
  if (soak.failed) return 1;
  if (soak.delivered == 0) {
    std::fprintf(stderr, "softsynic_soak: no message was delivered\n");
    return 1;
  }
  std::printf("softsynic_soak: ok, %llu rounds, %llu messages delivered, RSS baseline %ld KiB, peak %ld KiB\n",
              static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(soak.delivered), baseline, peak);
  return 0;
}
