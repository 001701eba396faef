// MonitorPageWatch: where the VTL 0 child-to-parent monitor page is (TLFS
// "Monitored Notification Facility"), published by the runner from
// MonitorConfig::on_page_change for the engines' trigger watches
// (emu/unicorn/monitor_trigger_watch.h). A generation number lets an engine
// notice a move with one atomic load per check instead of asking the
// monitor (which takes its lock).
// Not supported: monitor pages of VTLs other than 0 (the reference
// emulator runs VTL 0 only).
//
// Threading: every method is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

namespace softsynic::emu {

class MonitorPageWatch {
 public:
  // The page moved to `gpa` (nullopt: removed).
  void set_page(std::optional<std::uint64_t> gpa) {
    page_.store(gpa ? *gpa : kNone, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  std::optional<std::uint64_t> page() const {
    const std::uint64_t p = page_.load(std::memory_order_acquire);
    return p == kNone ? std::nullopt : std::optional<std::uint64_t>(p);
  }
  // Changes with every set_page(); read it before page().
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  // Monitor pages are 4 KiB aligned, so an all-ones GPA never names one.
  static constexpr std::uint64_t kNone = ~std::uint64_t{0};
  std::atomic<std::uint64_t> page_{kNone};
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace softsynic::emu
