// CodeInvalidations: guest code ranges whose translations an engine must
// drop before it next runs (VpEngine::invalidate_code). The ranges are
// kept for diagnostics only: applying them drops everything. Ranges may arrive
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

  // Drops every translation of `uc` when a range was queued (Unicorn 2.1
  // finds translated code by virtual address, and any virtual page may
  // map a guest-physical range, so nothing narrower is safe). Returns
  // false when nothing was queued.
  bool apply(uc_engine* uc) {
    if (!pending_.exchange(false, std::memory_order_acq_rel)) return false;
    {
      std::lock_guard lock(mutex_);
      ranges_.clear();
    }
    flush_code(uc);
    return true;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges_;  // guarded by mutex_
  std::atomic<bool> pending_{false};
};

}  // namespace softsynic::emu::unicorn
