// CodeInvalidations: guest code ranges whose translations an engine must
// drop before it next runs (VpEngine::invalidate_code). Ranges may arrive
// from any thread while the engine runs; they are applied between two
// uc_emu_start calls only, as dropping translations while a block of them
// executes is not something to rely on.
//
// Threading: add() is thread-safe; apply() is engine-affine.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "emu/unicorn/uc_engine.h"

namespace softsynic::emu::unicorn {

class CodeInvalidations {
 public:
  void add(std::uint64_t gpa, std::uint64_t size) {
    std::lock_guard lock(mutex_);
    ranges_.emplace_back(gpa, size);
    pending_.store(true, std::memory_order_release);
  }

  bool pending() const { return pending_.load(std::memory_order_acquire); }

  // Drops the translations of every queued range from `uc` and calls
  // also(gpa, size) for each (engines that keep per-block state). Returns
  // false when nothing was queued.
  template <typename F>
  bool apply(uc_engine* uc, F&& also) {
    if (!pending_.exchange(false, std::memory_order_acq_rel)) return false;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    {
      std::lock_guard lock(mutex_);
      ranges.swap(ranges_);
    }
    for (auto [gpa, size] : ranges) {
      remove_cache(uc, gpa, size);
      also(gpa, size);
    }
    return true;
  }
  bool apply(uc_engine* uc) {
    return apply(uc, [](std::uint64_t, std::uint64_t) {});
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges_;  // guarded by mutex_
  std::atomic<bool> pending_{false};
};

}  // namespace softsynic::emu::unicorn
