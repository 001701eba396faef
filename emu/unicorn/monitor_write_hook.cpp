// The engines' monitor-page store watch; see monitor_write_hook.h.
#include "emu/unicorn/monitor_write_hook.h"

#include <algorithm>

#include "emu/monitor_page_watch.h"
#include "emu/unicorn/uc_engine.h"
#include "synic/defs/monitor_page.h"
#include "synic/guest_memory.h"
#include "synic/monitor/monitor_access.h"

namespace softsynic::emu::unicorn {

bool MonitorWriteHook::stale() const { return pages_ != nullptr && pages_->generation() != generation_; }

void MonitorWriteHook::sync(uc_engine* uc) {
  if (monitor_ == nullptr || pages_ == nullptr) return;
  flush();
  generation_ = pages_->generation();
  const std::optional<std::uint64_t> page = pages_->page();
  if (page == hooked_) return;
  if (hooked_) uc_hook_del(uc, hook_);
  hooked_.reset();
  if (page) {
    check(uc_hook_add(uc, &hook_, UC_HOOK_MEM_WRITE, reinterpret_cast<void*>(&MonitorWriteHook::on_write), this, *page,
                      *page + kMonitorPageSize - 1),
          "monitor page write hook");
    hooked_ = page;
  }
  // Code translated before the change might not call the new hook.
  flush_code(uc);
}

void MonitorWriteHook::on_write(uc_engine*, uc_mem_type, std::uint64_t address, int size, std::int64_t, void* user) {
  auto& self = *static_cast<MonitorWriteHook*>(user);
  const std::uint64_t end = address + static_cast<std::uint64_t>(size > 0 ? size : 1);
  if (self.end_ == 0) {
    self.begin_ = address;
    self.end_ = end;
  } else {
    self.begin_ = std::min(self.begin_, address);
    self.end_ = std::max(self.end_, end);
  }
}

void MonitorWriteHook::report() {
  const std::uint64_t begin = begin_;
  const std::uint64_t len = end_ - begin_;
  end_ = 0;
  monitor_->on_monitor_page_write(0, begin, len);
  if (after_report_) after_report_();
}

}  // namespace softsynic::emu::unicorn
