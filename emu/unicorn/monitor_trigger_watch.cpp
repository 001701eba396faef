// The engines' watch on the monitor triggers; see monitor_trigger_watch.h.
#include "emu/unicorn/monitor_trigger_watch.h"

#include "emu/monitor_page_watch.h"
#include "synic/defs/monitor_page.h"
#include "synic/guest_memory.h"
#include "synic/monitor/monitor_access.h"

namespace softsynic::emu::unicorn {

namespace {
constexpr std::uint64_t kTriggerBytes = kMonitorGroupCount * sizeof(std::uint64_t);
static_assert(kMonitorGroupCount == 4);
}  // namespace

void MonitorTriggerWatch::resync() {
  synced_ = true;
  generation_ = pages_->generation();
  page_ = pages_->page();
  words_ = nullptr;
  seen_.fill(0);
  if (!page_ || monitor_ == nullptr || memory_ == nullptr) return;
  std::byte* host = memory_->stable_host_range(*page_ + kMonitorTriggerGroupOffset, kTriggerBytes);
  words_ = reinterpret_cast<std::uint64_t*>(host);
  check();
}

void MonitorTriggerWatch::slice_start() {
  if (pages_ == nullptr) return;
  if (stale()) resync();
  if (!page_ || monitor_ == nullptr) return;
  if (words_ == nullptr) return report();
  bool any = false;
  for (std::size_t g = 0; g < seen_.size(); ++g) {
    seen_[g] = load_pending(g);
    any = any || seen_[g] != 0;
  }
  if (any) report();
}

void MonitorTriggerWatch::report() {
  monitor_->on_monitor_page_write(0, *page_ + kMonitorTriggerGroupOffset, kTriggerBytes);
  if (after_report_) after_report_();
}

}  // namespace softsynic::emu::unicorn
