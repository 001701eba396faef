// CodeInvalidations: whether guest code was written behind an engine's back
// (VpEngine::invalidate_code), so it must drop its translations before it
// next runs. Only the fact is kept: Unicorn 2.1 finds translated code by
// virtual address and any virtual page may map a guest-physical range, so
// applying it drops everything. Requests may arrive from any thread while
// the engine runs; they are applied between two uc_emu_start calls only, as
// dropping translations while a block of them executes is not something to
// rely on.
//
// Threading: add() and pending() are thread-safe; apply() is engine-affine.
#pragma once

#include <atomic>
#include <cstdint>

#include "emu/unicorn/uc_engine.h"

namespace softsynic::emu::unicorn {

class CodeInvalidations {
 public:
  void add(std::uint64_t /*gpa*/, std::uint64_t /*size*/) { pending_.store(true, std::memory_order_release); }

  bool pending() const { return pending_.load(std::memory_order_acquire); }

  // Drops every translation of `uc` when code was written since the last
  // call. Returns false when nothing was.
  bool apply(uc_engine* uc) {
    if (!pending_.exchange(false, std::memory_order_acq_rel)) return false;
    flush_code(uc);
    return true;
  }

 private:
  std::atomic<bool> pending_{false};
};

}  // namespace softsynic::emu::unicorn
