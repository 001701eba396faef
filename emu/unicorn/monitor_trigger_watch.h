// MonitorTriggerWatch: one engine's watch on the guest's monitor triggers,
// the trigger groups of the VTL 0 child-to-parent page (TLFS "Monitored
// Notification Facility"; docs/MONITOR.md "Wiring an emulator"). A guest
// signals by setting a pending bit with a locked store.
//
// Why it looks instead of hooking stores: a Unicorn UC_HOOK_MEM_WRITE,
// even bounded to one page, sends every store of every translated block
// through Unicorn's slow path (Unicorn 2.1.1, measured: a store loop runs
// about 12 times slower with a hook on an unrelated page), and a Linux
// guest hands over its monitor pages at VMBus connect. So the engine reads
// the four trigger-group words through a host pointer at each block
// boundary (check()) and reports a pending bit that was clear at the last
// look. At each slice start (slice_start()) every pending bit is reported:
// a bit the monitor cleared and the guest set again between two looks is
// then seen within one slice. Reporting a bit the monitor already has is
// harmless (it only signals bits that are pending).
//
// Not supported: other VTLs' pages; guest stores to the page outside the
// trigger groups (only the host writes the rest); a page without a stable
// host pointer (not plain RAM): it is then looked at only at slice start.
//
// Threading: engine-affine (the engine's VP strand), like the engine.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "emu/monitor_page_watch.h"

namespace softsynic {
class GuestMemory;
class MonitorAccess;
}  // namespace softsynic


namespace softsynic::emu::unicorn {

class MonitorTriggerWatch {
 public:
  // monitor, pages or memory null: the watch is inert (no monitor in this
  // machine). after_report runs after each report (it may have armed a
  // latency).
  MonitorTriggerWatch(MonitorAccess* monitor, const MonitorPageWatch* pages, GuestMemory* memory,
                      std::function<void()> after_report = {})
      : monitor_(monitor), pages_(pages), memory_(memory), after_report_(std::move(after_report)) {}
  MonitorTriggerWatch(const MonitorTriggerWatch&) = delete;
  MonitorTriggerWatch& operator=(const MonitorTriggerWatch&) = delete;

  // Whether check() must run at every block boundary: a page is watched.
  // (A page registered while none is watched is found by the next check()
  // the engine makes outside its block hook, or by slice_start().)
  bool watching() const { return words_ != nullptr; }
  // At a block boundary: reports newly set pending bits.
  void check() {
    if (pages_ == nullptr) return;
    if (stale()) return resync();
    if (words_ == nullptr) return;
    bool fresh = false;
    for (std::size_t g = 0; g < seen_.size(); ++g) {
      const std::uint32_t pending = load_pending(g);
      fresh = fresh || (pending & ~seen_[g]) != 0;
      seen_[g] = pending;
    }
    if (fresh) report();
  }
  // Before a slice runs: follows a moved page and reports every pending bit.
  void slice_start();

 private:
  bool stale() const { return !synced_ || pages_->generation() != generation_; }
  void resync();
  std::uint32_t load_pending(std::size_t group) const {
    // The guest's CPU may store concurrently (threaded mode).
    return static_cast<std::uint32_t>(std::atomic_ref<std::uint64_t>(words_[group]).load(std::memory_order_relaxed));
  }
  void report();

  MonitorAccess* monitor_;
  const MonitorPageWatch* pages_;
  GuestMemory* memory_;
  std::function<void()> after_report_;
  std::uint64_t generation_ = 0;
  bool synced_ = false;
  std::optional<std::uint64_t> page_;
  std::uint64_t* words_ = nullptr;  // the trigger groups in host memory, when stable
  std::array<std::uint32_t, 4> seen_{};
};

}  // namespace softsynic::emu::unicorn
