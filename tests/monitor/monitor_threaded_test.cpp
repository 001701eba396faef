// Several VPs on a thread pool set pending bits in the same trigger words at
// once while a host thread polls and registers other ids: every set is
// consumed exactly once (the clear is an atomic fetch-and-clear, so bits
// other VPs set in between survive it).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <atomic>
#include <cstdlib>
#include <future>
#include <thread>

#include <boost/asio/post.hpp>

#include "synic/defs/monitor_page.h"
#include "synic/executor.h"
#include "synic/monitor/callback_event_port.h"
#include "synic/monitor/monitor_access.h"
#include "synic/partition.h"

using namespace softsynic;

TEST_CASE("monitor threaded: 4 VPs setting bits in shared trigger words get one signal per set") {
  constexpr std::uint32_t kVps = 4;
  constexpr unsigned kIdsPerVp = 8;  // ids vp, vp + 4, ... : every word is shared by all VPs
  unsigned sets = 20000;
  if (const char* s = std::getenv("SOFTSYNIC_STRESS_SCALE")) sets /= static_cast<unsigned>(std::max(1, std::atoi(s)));
  sets = std::max(kIdsPerVp, sets - sets % kIdsPerVp);
  constexpr std::uint64_t kPage = 0x10000;

  RamGuestMemory memory(0x40000);
  ThreadPoolExecutor pool(2);
  VirtualClock clock;
  PartitionConfig pc;
  pc.vp_count = kVps;
  Partition partition(pc, memory, pool.executor());
  MonitorAccess monitor(partition, clock);
  REQUIRE_FALSE(monitor.set_monitor_page(0, MonitorPageGpas{kPage + 0x1000, kPage}));

  std::array<std::atomic<unsigned>, kMonitorIdCount> counts{};
  std::vector<PortHandle> handles;
  for (std::uint32_t vp = 0; vp < kVps; ++vp) {
    for (unsigned k = 0; k < kIdsPerVp; ++k) {
      const unsigned id = vp + k * kVps;
      MonitorRegistration r;
      r.connection_id = id;
      r.vp = (vp + k) % kVps;  // half the signals run on another VP's strand
      r.port = make_callback_event_port([&counts, id](const GuestEvent&) { counts[id].fetch_add(1); });
      handles.push_back(monitor.register_monitor(0, static_cast<std::uint8_t>(id), r).value());
    }
  }

  std::vector<std::future<void>> guests;
  for (std::uint32_t vp = 0; vp < kVps; ++vp) {
    std::promise<void> done;
    guests.push_back(done.get_future());
    boost::asio::post(partition.vp(vp).strand(), [&, vp, done = std::move(done)]() mutable {
      for (unsigned i = 0; i < sets; ++i) {
        const unsigned id = vp + (i % kIdsPerVp) * kVps;
        const std::uint64_t word = kPage + monitor_trigger_group_offset(monitor_group(id));
        memory.fetch_or_u64(word, std::uint64_t{1} << monitor_bit(id));  // lock bts
        monitor.on_monitor_page_write(0, word, 4);
      }
      done.set_value();
    });
  }
  // The host meanwhile polls and churns ids 120..127 (latency, never set).
  std::atomic<bool> stop{false};
  std::atomic<bool> stray_deadline{false};
  std::thread host([&] {
    while (!stop.load()) {
      MonitorRegistration r;
      r.latency_100ns = 10;
      auto h = monitor.register_monitor(0, 120, r);
      monitor.poll(clock.now());
      if (monitor.next_deadline()) stray_deadline.store(true);
    }
  });
  for (auto& g : guests) g.wait();
  stop.store(true);
  host.join();
  CHECK_FALSE(stray_deadline.load());
  // Let signals posted to other strands finish.
  for (int spin = 0; spin < 10000; ++spin) {
    unsigned total = 0;
    for (auto& c : counts) total += c.load();
    if (total == sets * kVps) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (std::uint32_t vp = 0; vp < kVps; ++vp)
    for (unsigned k = 0; k < kIdsPerVp; ++k) {
      const unsigned id = vp + k * kVps;
      CAPTURE(id);
      CHECK(counts[id].load() == sets / kIdsPerVp);
    }
  CHECK(monitor.stats().signals == std::uint64_t{sets} * kVps);
  CHECK(monitor.stats().unknown_ids == 0);
  handles.clear();
}
