// Threaded stress test: 5 host threads post to 8 VPs x 16 SINTs on a
// 2-thread pool (one of them through the target VP's strand, as a port
// answering on the vCPU does) while simulated guests consume on each VP's
// strand and write EOM. Every message must arrive exactly once and in order per
// (producer, VP, SINT). SOFTSYNIC_STRESS_SCALE divides the message count
// (for slow sanitizer builds).
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <semaphore>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"

using namespace softsynic;

namespace {

constexpr std::uint32_t kVps = 8;
constexpr unsigned kProducers = 5;
constexpr unsigned kOnStrandProducer = 4;  // a strand round trip per message: sends fewer
constexpr unsigned kPairs = kVps * kSintCount;
constexpr std::uint8_t kVectorBase = 0x40;
constexpr std::uint64_t kPageBase = 0x10000;

std::uint32_t messages_per_producer() {
  std::uint32_t n = 100000;
  if (const char* s = std::getenv("SOFTSYNIC_STRESS_SCALE")) {
    const long div = std::strtol(s, nullptr, 10);
    if (div > 1) n /= static_cast<std::uint32_t>(div);
  }
  return n;
}

struct Stamp {
  std::uint32_t producer;
  std::uint32_t seq;
};

// A guest on one VP: its SINT handler runs on the VP's strand.
class Guest {
 public:
  Guest(Partition& p, RamGuestMemory& m, std::uint32_t vp, std::atomic<std::uint64_t>& received,
        std::promise<void>& all_done, std::uint64_t expected)
      : partition_(p), memory_(m), vp_(vp), received_(received), all_done_(all_done), expected_(expected),
        sink_([this](std::uint32_t vector, bool) {
          // An interrupt is taken later, at the VP's next instruction boundary.
          boost::asio::post(partition_.vp(vp_).strand(), [this, vector] { handle(vector - kVectorBase); });
        }) {}

  FunctionInterruptSink& sink() { return sink_; }
  std::uint64_t simp() const { return kPageBase + vp_ * 0x1000; }
  // Strand-only; read after the pool has quiesced.
  std::array<std::vector<Stamp>, kSintCount> log;
  std::atomic<int> anomalies{0};  // interrupts that found no message

 private:
  void handle(unsigned sint) {
    const std::uint64_t slot = simp() + sint * kMessageSize;
    HvMessage m{};
    // Assertions stay on the test thread: count anomalies here instead.
    if (!memory_.read(slot, std::as_writable_bytes(std::span(&m, 1))) || m.header.message_type == 0 ||
        m.header.payload_size != sizeof(Stamp)) {
      anomalies.fetch_add(1);
      return;
    }
    Stamp s{};
    std::memcpy(&s, m.payload.data(), sizeof s);
    log[sint].push_back(s);
    const std::uint32_t zero = 0;
    memory_.write(slot, std::as_bytes(std::span(&zero, 1)));
    if (m.header.message_flags & kMessageFlagPending) partition_.vp(vp_).write_register(0, HvRegisterName::eom, 0);
    if (received_.fetch_add(1) + 1 == expected_) all_done_.set_value();
  }

  Partition& partition_;
  RamGuestMemory& memory_;
  std::uint32_t vp_;
  std::atomic<std::uint64_t>& received_;
  std::promise<void>& all_done_;
  std::uint64_t expected_;
  FunctionInterruptSink sink_;
};

// Runs `fn` on the VP's strand and waits for it.
template <typename F>
void on_strand(Partition& p, std::uint32_t vp, F fn) {
  std::promise<void> done;
  boost::asio::post(p.vp(vp).strand(), [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace

TEST_CASE("stress: 5 producers x 8 VPs x 16 SINTs, every message exactly once and in order") {
  const std::uint32_t per_producer = messages_per_producer();
  auto count = [&](unsigned p) { return p == kOnStrandProducer ? per_producer / 4 : per_producer; };
  std::uint64_t total = 0;
  for (unsigned p = 0; p < kProducers; ++p) total += count(p);

  ThreadPoolExecutor pool(2);
  RamGuestMemory memory(1 << 20);
  PartitionConfig config;
  config.vp_count = kVps;
  config.sint_queue_capacity = 8;  // small, so producers hit backpressure
  std::atomic<int> host_errors{0};
  config.on_error = [&](const std::string&) { host_errors.fetch_add(1); };
  Partition partition(config, memory, pool.executor());

  std::atomic<std::uint64_t> received{0};
  std::promise<void> all_done;
  std::vector<std::unique_ptr<Guest>> guests;
  for (std::uint32_t vp = 0; vp < kVps; ++vp) {
    guests.push_back(std::make_unique<Guest>(partition, memory, vp, received, all_done, total));
    Guest& g = *guests.back();
    partition.vp(vp).set_interrupt_sink(0, &g.sink());
    on_strand(partition, vp, [&] {
      SynicVp& v = partition.vp(vp);
      REQUIRE(v.write_register(0, HvRegisterName::simp, PageReg{}.with_gpn(g.simp() >> 12).with_enabled(true).raw()) ==
              RegisterAccess::ok);
      for (unsigned s = 0; s < kSintCount; ++s)
        REQUIRE(v.write_register(0, sint_register(s),
                                 SintReg{}.with_masked(false).with_vector(static_cast<std::uint8_t>(kVectorBase + s)).raw()) ==
                RegisterAccess::ok);
      REQUIRE(v.write_register(0, HvRegisterName::scontrol, 1) == RegisterAccess::ok);
    });
  }

  auto stamp = [](unsigned producer, std::uint32_t seq) {
    std::array<std::byte, sizeof(Stamp)> b{};
    const Stamp s{producer, seq};
    std::memcpy(b.data(), &s, sizeof s);
    return b;
  };
  auto target = [](unsigned producer, std::uint32_t seq) {
    const unsigned pair = (seq + producer * 37) % kPairs;
    return std::pair<std::uint32_t, std::uint8_t>{pair / kSintCount, static_cast<std::uint8_t>(pair % kSintCount)};
  };

  std::atomic<std::uint64_t> post_errors{0};
  std::vector<std::thread> producers;
  // Producers 0 and 1 retry on queue_full; 2 waits on a future per
  // message; 3 keeps a window of callbacks in flight; 4 posts on the VP's
  // strand (direct and inline delivery) and retries on queue_full.
  for (unsigned p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::counting_semaphore<64> window(64);
      for (std::uint32_t seq = 0; seq < count(p); ++seq) {
        const auto [vp, sint] = target(p, seq);
        const auto payload = stamp(p, seq);
        if (p < 2) {
          boost::system::error_code ec;
          while ((ec = partition.post_message(0, vp, sint, 1, payload)) == make_error_code(Error::queue_full))
            std::this_thread::yield();
          if (ec) post_errors.fetch_add(1);
        } else if (p == 2) {
          try {
            partition.async_post_message(0, vp, sint, 1, payload, boost::asio::use_future).get();
          } catch (...) {
            post_errors.fetch_add(1);
          }
        } else if (p == kOnStrandProducer) {
          const std::uint32_t v = vp;
          const std::uint8_t n = sint;
          boost::system::error_code ec;
          do {
            on_strand(partition, v, [&] { ec = partition.post_message(0, v, n, 1, payload); });
            if (ec == make_error_code(Error::queue_full)) std::this_thread::yield();
          } while (ec == make_error_code(Error::queue_full));
          if (ec) post_errors.fetch_add(1);
        } else {
          window.acquire();
          partition.async_post_message(0, vp, sint, 1, payload, [&](boost::system::error_code ec) {
            if (ec) post_errors.fetch_add(1);
            window.release();
          });
        }
      }
      for (int i = 0; i < 64 && p == 3; ++i) window.acquire();  // the last callbacks
    });
  }
  for (auto& t : producers) t.join();

  auto done = all_done.get_future();
  // A generous bound so a lost message fails the test instead of hanging it.
  REQUIRE(done.wait_for(std::chrono::minutes(2)) == std::future_status::ready);
  for (std::uint32_t vp = 0; vp < kVps; ++vp) on_strand(partition, vp, [] {});  // quiesce the handlers

  CHECK(post_errors.load() == 0);
  for (const auto& g : guests) CHECK(g->anomalies.load() == 0);
  CHECK(host_errors.load() == 0);
  CHECK(received.load() == total);

  // Rebuild what each (producer, VP, SINT) should have seen, in order.
  std::vector<std::vector<std::uint32_t>> expected(kProducers * kPairs), seen(kProducers * kPairs);
  for (unsigned p = 0; p < kProducers; ++p)
    for (std::uint32_t seq = 0; seq < count(p); ++seq) {
      const auto [vp, sint] = target(p, seq);
      expected[(p * kVps + vp) * kSintCount + sint].push_back(seq);
    }
  for (std::uint32_t vp = 0; vp < kVps; ++vp)
    for (unsigned s = 0; s < kSintCount; ++s)
      for (const Stamp& st : guests[vp]->log[s]) {
        REQUIRE(st.producer < kProducers);
        seen[(st.producer * kVps + vp) * kSintCount + s].push_back(st.seq);
      }
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (expected[i] != seen[i]) ++mismatches;
  CHECK(mismatches == 0);
}
