// X86CodeFrames: which guest-physical frames hold code that some VP's
// engine has translated, and the requests between VPs to drop it. Each VP
// is its own Unicorn engine with its own translations, so a store by one VP
// to code another VP has translated must reach that other engine (Intel SDM
// vol. 3, 8.1.3 "Handling Self- and Cross-Modifying Code": the executing
// processor sees the new code once it has executed a serializing
// instruction after the store). X86SoftTlb keeps each VP's own view and
// counts it here, with the VPs that may have a writable TLB entry for the
// frame:
//  - a fill that grants write rights to a frame other VPs hold asks each of
//    them to drop it;
//  - a VP that translates from a frame another VP may still write through
//    an entry it already has drops that code again at its next interrupt or
//    slice start, whatever was stored meanwhile.
// Both happen before the VP next takes an interrupt or starts a slice (an
// interrupt's entry and IRET serialize; Linux's text_poke sends every CPU
// an IPI after each store).
//
// Threading: every method is thread-safe (per-frame counts are atomic; the
// request queues take a mutex only when a request is posted or taken).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace softsynic::emu::x86 {

class X86CodeFrames {
 public:
  // Frames [0, frame_count), VPs [0, vp_count) (at most 255).
  X86CodeFrames(std::uint64_t frame_count, std::uint32_t vp_count)
      : holders_(static_cast<std::size_t>(frame_count)), writers_(static_cast<std::size_t>(frame_count)), queues_(vp_count) {
    for (auto& q : queues_) q = std::make_unique<Queue>();
  }

  std::uint64_t frame_count() const { return holders_.size(); }

  // A VP now holds translated code from `frame`, or no longer does.
  // (Sequentially consistent with the writer counts: a VP that holds, then
  // looks for writers, and a VP that becomes a writer, then looks for
  // holders, cannot both miss each other.)
  void hold(std::uint64_t frame) { holders_[frame].fetch_add(1); }
  void release(std::uint64_t frame) { holders_[frame].fetch_sub(1); }

  // A VP may now have a writable TLB entry for `frame`, or no longer has.
  void grant_write(std::uint64_t frame) { writers_[frame].fetch_add(1); }
  void revoke_write(std::uint64_t frame) { writers_[frame].fetch_sub(1); }
  // Whether a VP other than `vp` (which has one itself when `vp_writes`)
  // may store to the frame without a fill.
  bool other_writers(std::uint64_t frame, bool vp_writes) const {
    return writers_[frame].load() > (vp_writes ? 1u : 0u);
  }

  // VP `writer` (holding the frame itself or not, as `writer_holds` says)
  // is about to store to `frame`: every other VP is asked to drop its code
  // from it. Returns whether any request was posted.
  bool written(std::uint32_t writer, std::uint64_t frame, bool writer_holds) {
    const unsigned others = holders_[frame].load() - (writer_holds ? 1u : 0u);
    if (others == 0) return false;
    for (std::uint32_t vp = 0; vp < queues_.size(); ++vp) {
      if (vp == writer) continue;
      Queue& q = *queues_[vp];
      std::lock_guard lock(q.mutex);
      q.frames.push_back(frame);
      q.pending.store(true, std::memory_order_release);
    }
    return true;
  }

  // Cheap check, then the requests for `vp` (empty when none).
  bool pending(std::uint32_t vp) const { return queues_[vp]->pending.load(std::memory_order_acquire); }
  std::vector<std::uint64_t> take(std::uint32_t vp) {
    Queue& q = *queues_[vp];
    std::lock_guard lock(q.mutex);
    q.pending.store(false, std::memory_order_release);
    return std::exchange(q.frames, {});
  }

 private:
  struct Queue {
    std::mutex mutex;
    std::vector<std::uint64_t> frames;
    std::atomic<bool> pending{false};
  };
  std::vector<std::atomic<std::uint8_t>> holders_;
  std::vector<std::atomic<std::uint8_t>> writers_;
  std::vector<std::unique_ptr<Queue>> queues_;
};

}  // namespace softsynic::emu::x86
