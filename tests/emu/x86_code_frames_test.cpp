// X86CodeFrames: which frames hold code some VP translated, and the
// requests a store by one VP posts to the others (x86_code_frames.h). The
// threaded case runs in the TSan stage (label concurrency).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "emu/x86/x86_code_frames.h"

using softsynic::emu::x86::X86CodeFrames;

namespace {

using Frames = std::vector<std::uint64_t>;

void check_nothing_pending(X86CodeFrames& frames, std::uint32_t vps) {
  for (std::uint32_t vp = 0; vp < vps; ++vp) {
    CAPTURE(vp);
    CHECK_FALSE(frames.pending(vp));
    CHECK(frames.take(vp).empty());
  }
}

}  // namespace

TEST_CASE("X86CodeFrames: a store to a frame no VP holds, or only the writer, asks nobody") {
  X86CodeFrames frames(16, 3);
  CHECK(frames.frame_count() == 16);
  CHECK_FALSE(frames.written(0, 5, false));
  check_nothing_pending(frames, 3);

  frames.hold(5);  // VP 0 translated code from frame 5
  CHECK_FALSE(frames.written(0, 5, true));
  check_nothing_pending(frames, 3);

  // A frame held before and released since is held by nobody.
  frames.hold(9);
  frames.release(9);
  CHECK_FALSE(frames.written(1, 9, false));
  check_nothing_pending(frames, 3);
}

TEST_CASE("X86CodeFrames: a store to a frame another VP holds asks every other VP, and take() empties the queue") {
  X86CodeFrames frames(16, 3);
  frames.hold(5);  // VP 1
  CHECK(frames.written(0, 5, false));
  CHECK_FALSE(frames.pending(0));  // never the writer
  // Every other VP: the counts do not say which VPs hold the frame.
  for (std::uint32_t vp : {1u, 2u}) {
    CAPTURE(vp);
    CHECK(frames.pending(vp));
    CHECK(frames.take(vp) == Frames{5});
    CHECK_FALSE(frames.pending(vp));
    CHECK(frames.take(vp).empty());
  }

  // The writer holds it too: the other holder still counts.
  frames.hold(5);  // VP 0 as well
  CHECK(frames.written(0, 5, true));
  CHECK(frames.take(1) == Frames{5});
  CHECK(frames.take(2) == Frames{5});
  CHECK(frames.take(0).empty());

  // Requests queue up in order until taken; a release ends them.
  frames.hold(7);
  CHECK(frames.written(2, 7, false));
  CHECK(frames.written(2, 5, false));
  CHECK(frames.written(2, 7, false));
  CHECK(frames.take(0) == Frames{7, 5, 7});
  CHECK(frames.take(1) == Frames{7, 5, 7});
  CHECK_FALSE(frames.pending(2));
  frames.release(5);
  frames.release(5);
  frames.release(7);
  CHECK_FALSE(frames.written(2, 5, false));
  CHECK_FALSE(frames.written(2, 7, false));
  check_nothing_pending(frames, 3);
}

// VPs on threads as the engines use it: a VP holds a frame at most once
// (X86SoftTlb's kHoldsCode), stores to random frames, and drops (releases)
// the frames asked of it when it takes its requests. No request is lost or
// invented: what every VP takes, plus what is left after the threads end,
// is (VPs - 1) requests per store that posted; and with every frame
// released at the end, no store posts. The threads start together and
// keep their frames until all have finished, so that stores meet frames
// other threads hold however the host schedules them.
TEST_CASE("X86CodeFrames: concurrent holds, releases, stores and takes lose no request") {
  constexpr std::uint32_t kVps = 4;
  constexpr std::uint64_t kFrames = 32;
  constexpr int kSteps = 20000;
  X86CodeFrames frames(kFrames, kVps);
  std::atomic<std::uint64_t> posted{0};
  std::vector<std::uint64_t> taken(kVps, 0);
  std::atomic<std::uint32_t> started{0}, finished{0};
  auto wait_for_all = [](std::atomic<std::uint32_t>& count) {
    count.fetch_add(1);
    while (count.load() < kVps) std::this_thread::yield();
  };
  std::vector<std::thread> threads;
  for (std::uint32_t vp = 0; vp < kVps; ++vp) {
    threads.emplace_back([&, vp] {
      wait_for_all(started);
      std::vector<bool> holds(kFrames, false);
      std::mt19937 rng(vp + 1);
      auto drop = [&](std::uint64_t f) {
        if (holds[f]) frames.release(f);
        holds[f] = false;
      };
      for (int step = 0; step < kSteps; ++step) {
        const std::uint64_t f = rng() % kFrames;
        switch (rng() % 4) {
          case 0:
            if (!holds[f]) frames.hold(f);
            holds[f] = true;
            break;
          case 1:
            drop(f);
            break;
          case 2:
            if (frames.written(vp, f, holds[f])) posted.fetch_add(1, std::memory_order_relaxed);
            break;
          default:
            if (frames.pending(vp)) {
              for (std::uint64_t asked : frames.take(vp)) {
                drop(asked);
                ++taken[vp];
              }
            }
            break;
        }
      }
      wait_for_all(finished);
      for (std::uint64_t f = 0; f < kFrames; ++f) drop(f);
    });
  }
  for (auto& t : threads) t.join();
  std::uint64_t total = 0;
  for (std::uint32_t vp = 0; vp < kVps; ++vp) total += taken[vp] + frames.take(vp).size();
  CHECK(posted.load() > 0);
  CHECK(total == posted.load() * (kVps - 1));
  for (std::uint64_t f = 0; f < kFrames; ++f) {
    CAPTURE(f);
    CHECK_FALSE(frames.written(0, f, false));
  }
  check_nothing_pending(frames, kVps);
}
