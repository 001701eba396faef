// MonitorWriteHook: one engine's watch on the VTL 0 child-to-parent monitor
// page (TLFS "Monitored Notification Facility"; docs/MONITOR.md "Wiring an
// emulator"). MonitorAccess wants guest stores reported after they landed,
// but a Unicorn UC_HOOK_MEM_WRITE runs before the store, so the hook only
// records the range and the engine reports it with flush() at the next
// block boundary (its block hook) and whenever uc_emu_start returns. One
// recorded range is kept: several stores before a flush report the span
// that covers them (an inspection of an untouched trigger word is
// harmless: it only signals bits that are pending).
//
// Moving the hook: the page can move while the engine runs (the guest's own
// command, another VP's). The engine calls stale() at slice start and after
// each hypercall, stops if it is, and calls sync() while stopped; sync()
// flushes the engine's translations so the new hook applies to code that
// was translated before it.
// Not supported: other VTLs' pages; stores by DMA or the host (they are
// not the guest's signals).
//
// Threading: engine-affine (the engine's VP strand), like the engine.
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

namespace softsynic {
class MonitorAccess;
class RamGuestMemory;
}

namespace softsynic::emu {
class MonitorPageWatch;
}

namespace softsynic::emu::unicorn {

class MonitorWriteHook {
 public:
  // monitor or pages null: the hook is inert (no monitor in this machine).
  // after_report runs after each report (it may have armed a latency).
  MonitorWriteHook(MonitorAccess* monitor, const MonitorPageWatch* pages, std::function<void()> after_report = {})
      : monitor_(monitor), pages_(pages), after_report_(std::move(after_report)) {}
  MonitorWriteHook(const MonitorWriteHook&) = delete;
  MonitorWriteHook& operator=(const MonitorWriteHook&) = delete;

  // The page moved (or appeared, or went) since the last sync().
  bool stale() const;
  // With the engine stopped: hooks the current page (or none) and drops
  // the cached translations of guest RAM.
  void sync(uc_engine* uc);
  // Reports the recorded stores, if any. Call once they have landed.
  void flush() {
    if (end_ != 0) report();
  }

 private:
  static void on_write(uc_engine* uc, uc_mem_type type, std::uint64_t address, int size, std::int64_t value, void* user);
  void report();

  MonitorAccess* monitor_;
  const MonitorPageWatch* pages_;
  std::function<void()> after_report_;
  std::uint64_t generation_ = 0;
  std::optional<std::uint64_t> hooked_;
  uc_hook hook_ = 0;
  std::uint64_t begin_ = 0;  // recorded span [begin_, end_); end_ == 0: none
  std::uint64_t end_ = 0;
};

}  // namespace softsynic::emu::unicorn
