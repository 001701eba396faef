// MonitorAccess: page pair per VTL, monitor id registrations, the scan of
// the trigger words, latency deadlines and signal dispatch. TLFS
// "Monitored Notification Facility" (HV_MONITOR_PAGE, trigger groups,
// group enable, latency). Not supported: host-to-guest monitored
// notifications, next_check_time, save/restore. Rules: docs/MONITOR.md.
#include "synic/monitor/monitor_access.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>

#include "synic/defs/message.h"
#include "synic/defs/status.h"
#include "synic/partition.h"

namespace softsynic {
namespace {

constexpr std::uint64_t kPageMask = kMonitorPageSize - 1;
constexpr unsigned kAllGroups = (1u << kMonitorGroupCount) - 1;

// One registered id, shared by the table and every signal on its way to the
// port, so that dropping the handle can stop signals already dispatched.
struct Entry {
  Entry(Vtl v, std::uint8_t i, MonitorRegistration r) : vtl(v), id(i), reg(std::move(r)) {}
  const Vtl vtl;
  const std::uint8_t id;
  const MonitorRegistration reg;
  std::atomic<bool> active{true};
  std::atomic<std::uint32_t> in_flight{0};
};

// The entry whose port this thread is calling: a handle dropped from
// inside its own signal must not wait for itself.
thread_local const Entry* tl_calling = nullptr;

using Signals = std::vector<std::shared_ptr<Entry>>;

struct VtlMonitor {
  std::optional<MonitorPageGpas> page;
  std::array<std::shared_ptr<Entry>, kMonitorIdCount> entries{};
  std::array<std::optional<std::uint64_t>, kMonitorIdCount> deadline{};
  bool memory_error_reported = false;  // once per page

  unsigned groups_in_use() const {
    unsigned mask = 0;
    for (unsigned id = 0; id < kMonitorIdCount; ++id)
      if (entries[id]) mask |= 1u << monitor_group(id);
    return mask;
  }
  void drop_deadlines(unsigned group) {
    for (unsigned b = 0; b < kMonitorIdsPerGroup; ++b) deadline[monitor_id(group, b)].reset();
  }
};

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return b > std::numeric_limits<std::uint64_t>::max() - a ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

template <typename T>
bool write_value(GuestMemory& memory, std::uint64_t gpa, const T& value) {
  std::array<std::byte, sizeof(T)> bytes{};
  std::memcpy(bytes.data(), &value, sizeof(T));
  return memory.write(gpa, bytes);
}

}  // namespace

namespace detail {

struct MonitorState {
  MonitorState(Partition& p, const TimeSource& t, MonitorConfig c) : partition(p), time(t), config(std::move(c)) {}

  Partition& partition;
  const TimeSource& time;
  const MonitorConfig config;

  std::mutex change_mutex;  // serializes page changes, including on_page_change
  mutable std::mutex mutex;  // the tables below
  std::array<VtlMonitor, kMaxVtlCount> vtls;

  std::atomic<std::uint64_t> write_reports{0};
  std::atomic<std::uint64_t> signals{0};
  std::atomic<std::uint64_t> unknown_ids{0};
  std::atomic<std::uint64_t> cancelled{0};
  std::atomic<std::uint64_t> undelivered{0};
  std::atomic<std::uint64_t> memory_errors{0};

  GuestMemory& memory() { return partition.memory(); }

  void report(const std::string& what) const {
    if (config.on_error) config.on_error(what);
  }

  void memory_error(VtlMonitor& v, const char* what) {
    memory_errors.fetch_add(1, std::memory_order_relaxed);
    if (!v.memory_error_reported) {
      v.memory_error_reported = true;
      report(std::string("monitor page: ") + what + " is not guest RAM");
    }
  }

  // Parameter and latency of `id` as the registration says (zeros when
  // unregistered). Informational for the guest: the monitor never reads
  // them back, since the guest can write them.
  void publish(VtlMonitor& v, unsigned id) {
    const std::uint64_t base = v.page->child_to_parent;
    HvMonitorParameter parameter{};
    std::uint16_t latency = 0;
    if (const auto& e = v.entries[id]) {
      parameter.connection_id = e->reg.connection_id;
      parameter.flag_number = e->reg.flag;
      latency = e->reg.latency_100ns;
    }
    if (!write_value(memory(), base + monitor_parameter_offset(id), parameter) ||
        !write_value(memory(), base + monitor_latency_offset(id), latency))
      memory_error(v, "parameter or latency");
  }

  void enable_groups(VtlMonitor& v, unsigned groups) {
    if (groups == 0) return;
    if (!memory().fetch_or_u64(v.page->child_to_parent + kMonitorTriggerStateOffset, groups))
      memory_error(v, "trigger state");
  }

  void disable_group(VtlMonitor& v, unsigned group) {
    if (!memory().fetch_and_u64(v.page->child_to_parent + kMonitorTriggerStateOffset, ~(std::uint64_t{1} << group)))
      memory_error(v, "trigger state");
  }

  // Inspects the trigger words of `groups` at `now`: consumes pending bits
  // that are due (latency 0, or armed and past the deadline), arms the
  // ones seen for the first time or modified since arming, and drops
  // deadlines the guest cancelled by clearing its pending bit.
  void scan(VtlMonitor& v, unsigned groups, std::uint64_t now, Signals& out) {
    if (!v.page || groups == 0) return;
    const std::uint64_t base = v.page->child_to_parent;
    const auto state_raw = memory().fetch_or_u64(base + kMonitorTriggerStateOffset, 0);  // atomic read
    if (!state_raw) {
      for (unsigned g = 0; g < kMonitorGroupCount; ++g) v.drop_deadlines(g);
      memory_error(v, "trigger state");
      return;
    }
    const MonitorTriggerState trigger_state(*state_raw);
    for (unsigned g = 0; g < kMonitorGroupCount; ++g) {
      if ((groups & (1u << g)) == 0) continue;
      if (!trigger_state.group_enabled(g)) {
        // Not inspected while disabled; a later scan re-arms what is pending.
        v.drop_deadlines(g);
        continue;
      }
      scan_group(v, g, now, out);
    }
  }

  void scan_group(VtlMonitor& v, unsigned g, std::uint64_t now, Signals& out) {
    const std::uint64_t word_gpa = v.page->child_to_parent + monitor_trigger_group_offset(g);
    const auto raw = memory().fetch_or_u64(word_gpa, 0);
    if (!raw) {
      v.drop_deadlines(g);
      memory_error(v, "trigger group");
      return;
    }
    const MonitorTriggerGroup word(*raw);
    std::uint32_t fire = 0, arm = 0, disarm = 0;
    for (unsigned b = 0; b < kMonitorIdsPerGroup; ++b) {
      const std::uint32_t bit = std::uint32_t{1} << b;
      const unsigned id = monitor_id(g, b);
      const auto& e = v.entries[id];
      auto& deadline = v.deadline[id];
      const bool pending = (word.pending() & bit) != 0;
      const bool armed = (word.armed() & bit) != 0;
      if (!pending) {
        if (deadline) {
          deadline.reset();
          cancelled.fetch_add(1, std::memory_order_relaxed);
          if (armed) disarm |= bit;
        }
        continue;
      }
      if (!e || e->reg.latency_100ns == 0) {
        fire |= bit;
      } else if (!armed) {
        // First sight, or the guest modified it after arming: (re)start.
        arm |= bit;
        deadline = saturating_add(now, e->reg.latency_100ns);
      } else if (!deadline) {
        // Armed by the guest or by an earlier page: wait a full latency.
        deadline = saturating_add(now, e->reg.latency_100ns);
      } else if (*deadline <= now) {
        fire |= bit;
      }
    }
    if (arm != 0 && !memory().fetch_or_u64(word_gpa, MonitorTriggerGroup().with_armed(arm).raw()))
      memory_error(v, "trigger group");
    if (disarm != 0 && !memory().fetch_and_u64(word_gpa, ~MonitorTriggerGroup().with_armed(disarm).raw()))
      memory_error(v, "trigger group");
    if (fire == 0) return;
    // Fetch-and-clear: a bit the guest sets again after this is a new set.
    const auto old = memory().fetch_and_u64(word_gpa, ~MonitorTriggerGroup::both(fire));
    if (!old) {
      v.drop_deadlines(g);
      memory_error(v, "trigger group (atomic clear)");
      return;
    }
    const std::uint32_t consumed = MonitorTriggerGroup(*old).pending() & fire;
    for (unsigned b = 0; b < kMonitorIdsPerGroup; ++b) {
      const std::uint32_t bit = std::uint32_t{1} << b;
      if ((fire & bit) == 0) continue;
      const unsigned id = monitor_id(g, b);
      const bool had_deadline = v.deadline[id].has_value();
      v.deadline[id].reset();
      if ((consumed & bit) == 0) {
        if (had_deadline) cancelled.fetch_add(1, std::memory_order_relaxed);
      } else if (const auto& e = v.entries[id]) {
        signals.fetch_add(1, std::memory_order_relaxed);
        out.push_back(e);
      } else {
        unknown_ids.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  // The old page's registered, pending ids in enabled groups are signalled
  // without touching the page: it may belong to the guest again.
  void drain(VtlMonitor& v, Signals& out) {
    for (auto& d : v.deadline) d.reset();
    if (!v.page) return;
    const std::uint64_t base = v.page->child_to_parent;
    const auto state_raw = memory().fetch_or_u64(base + kMonitorTriggerStateOffset, 0);
    if (!state_raw) return;
    const MonitorTriggerState trigger_state(*state_raw);
    for (unsigned g = 0; g < kMonitorGroupCount; ++g) {
      if (!trigger_state.group_enabled(g)) continue;
      const auto raw = memory().fetch_or_u64(base + monitor_trigger_group_offset(g), 0);
      if (!raw) continue;
      const std::uint32_t pending = MonitorTriggerGroup(*raw).pending();
      for (unsigned b = 0; b < kMonitorIdsPerGroup; ++b) {
        const auto& e = v.entries[monitor_id(g, b)];
        if ((pending & (std::uint32_t{1} << b)) != 0 && e) {
          signals.fetch_add(1, std::memory_order_relaxed);
          out.push_back(e);
        }
      }
    }
  }

  // Caller holds change_mutex.
  void change_page(Vtl vtl, std::optional<MonitorPageGpas> gpas, Signals& out) {
    std::lock_guard lock(mutex);
    auto& v = vtls[vtl];
    if (v.page == gpas) return;
    drain(v, out);
    v.page = gpas;
    v.memory_error_reported = false;
    if (!gpas) return;
    for (unsigned id = 0; id < kMonitorIdCount; ++id)
      if (v.entries[id]) publish(v, id);
    enable_groups(v, v.groups_in_use());
    scan(v, kAllGroups, time.now(), out);
  }

  void unregister(const std::shared_ptr<Entry>& e) {
    std::lock_guard lock(mutex);
    auto& v = vtls[e->vtl];
    if (v.entries[e->id] != e) return;
    v.entries[e->id].reset();
    v.deadline[e->id].reset();
    if (!v.page) return;
    publish(v, e->id);
    const unsigned g = monitor_group(e->id);
    if ((v.groups_in_use() & (1u << g)) == 0) disable_group(v, g);
  }
};

}  // namespace detail

namespace {

void deliver(detail::MonitorState& st, Entry& e);

// Runs each signal on its port's VP strand: inline when the caller is
// already on it, posted otherwise.
void dispatch(const std::shared_ptr<detail::MonitorState>& st, Signals& signals) {
  for (auto& e : signals) {
    auto& strand = st->partition.vp(e->reg.vp).strand();
    boost::asio::dispatch(strand, [weak = std::weak_ptr<detail::MonitorState>(st), e = std::move(e)] {
      if (auto s = weak.lock()) deliver(*s, *e);
    });
  }
  signals.clear();
}

void deliver(detail::MonitorState& st, Entry& e) {
  e.in_flight.fetch_add(1);
  struct Done {
    Entry& e;
    const Entry* previous;
    ~Done() {
      tl_calling = previous;
      e.in_flight.fetch_sub(1);
      e.in_flight.notify_all();
    }
  } done{e, tl_calling};
  if (!e.active.load()) {
    st.undelivered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  tl_calling = &e;
  try {
    if (e.reg.port) {
      e.reg.port->on_event(GuestEvent{e.vtl, e.reg.vp, e.reg.connection_id, e.reg.flag});
    } else if (st.partition.guest_signal_event(e.reg.vp, e.vtl, e.reg.connection_id, e.reg.flag) !=
               HvStatus::success) {
      st.undelivered.fetch_add(1, std::memory_order_relaxed);
    }
  } catch (const std::exception& ex) {
    st.undelivered.fetch_add(1, std::memory_order_relaxed);
    st.report(std::string("monitor id ") + std::to_string(e.id) + ": event port threw: " + ex.what());
  } catch (...) {
    st.undelivered.fetch_add(1, std::memory_order_relaxed);
    st.report("monitor id " + std::to_string(e.id) + ": event port threw");
  }
}

}  // namespace

MonitorAccess::MonitorAccess(Partition& partition, const TimeSource& time, MonitorConfig config)
    : state_(std::make_shared<detail::MonitorState>(partition, time, std::move(config))) {
  partition.set_monitor_support(this);
}

MonitorAccess::~MonitorAccess() {
  if (state_->partition.monitor_support() == this) state_->partition.set_monitor_support(nullptr);
}

boost::system::error_code MonitorAccess::set_monitor_page(Vtl vtl, std::optional<MonitorPageGpas> gpas) {
  if (vtl >= state_->partition.vtl_count()) return Error::invalid_vtl;
  if (gpas) {
    if ((gpas->child_to_parent & kPageMask) != 0 || (gpas->parent_to_child & kPageMask) != 0)
      return Error::invalid_monitor_page;
    std::array<std::byte, kMonitorPageSize> probe{};
    if (!state_->memory().read(gpas->child_to_parent, probe)) return Error::invalid_monitor_page;
  }
  std::lock_guard change(state_->change_mutex);
  Signals out;
  state_->change_page(vtl, gpas, out);
  dispatch(state_, out);
  if (state_->config.on_page_change) state_->config.on_page_change(vtl, gpas);
  return {};
}

boost::system::result<std::optional<MonitorPageGpas>> MonitorAccess::allocate_monitor_page(Vtl vtl) {
  if (vtl >= state_->partition.vtl_count()) return Error::invalid_vtl;
  const auto pages = state_->config.server_pages[vtl];
  if (!pages) return std::optional<MonitorPageGpas>{};
  if ((pages->child_to_parent & kPageMask) != 0 || (pages->parent_to_child & kPageMask) != 0)
    return Error::invalid_monitor_page;
  std::lock_guard change(state_->change_mutex);
  if (monitor_page(vtl) == pages) return pages;
  const std::array<std::byte, kMonitorPageSize> zeros{};
  if (!state_->memory().write(pages->child_to_parent, zeros) || !state_->memory().write(pages->parent_to_child, zeros))
    return Error::invalid_monitor_page;
  Signals out;
  state_->change_page(vtl, pages, out);
  dispatch(state_, out);
  if (state_->config.on_page_change) state_->config.on_page_change(vtl, pages);
  return pages;
}

std::optional<MonitorPageGpas> MonitorAccess::monitor_page(Vtl vtl) const {
  if (vtl >= kMaxVtlCount) return std::nullopt;
  std::lock_guard lock(state_->mutex);
  return state_->vtls[vtl].page;
}

boost::system::result<PortHandle> MonitorAccess::register_monitor(Vtl vtl, std::uint8_t monitor_id,
                                                                   MonitorRegistration registration) {
  auto& st = *state_;
  if (vtl >= st.partition.vtl_count()) return Error::invalid_vtl;
  if (monitor_id >= kMonitorIdCount) return Error::invalid_monitor_id;
  if (registration.vp >= st.partition.vp_count()) return Error::invalid_vp;
  if (registration.flag >= kEventFlagsPerSint) return Error::invalid_flag;
  auto entry = std::make_shared<Entry>(vtl, monitor_id, std::move(registration));
  Signals out;
  {
    std::lock_guard lock(st.mutex);
    auto& v = st.vtls[vtl];
    if (v.entries[monitor_id]) return Error::monitor_id_in_use;
    v.entries[monitor_id] = entry;
    if (v.page) {
      const unsigned g = softsynic::monitor_group(monitor_id);
      st.publish(v, monitor_id);
      st.enable_groups(v, 1u << g);
      st.scan(v, 1u << g, st.time.now(), out);
    }
  }
  dispatch(state_, out);
  return PortHandle([weak = std::weak_ptr<detail::MonitorState>(state_), entry] {
    entry->active.store(false);
    if (auto st = weak.lock()) st->unregister(entry);
    // Signals already dispatched see `active` false; wait for those running.
    const std::uint32_t own = tl_calling == entry.get() ? 1 : 0;
    for (auto n = entry->in_flight.load(); n > own; n = entry->in_flight.load()) entry->in_flight.wait(n);
  });
}

bool MonitorAccess::on_monitor_page_write(Vtl vtl, std::uint64_t gpa, std::uint64_t len) {
  if (vtl >= kMaxVtlCount || len == 0) return false;
  auto& st = *state_;
  Signals out;
  {
    std::lock_guard lock(st.mutex);
    auto& v = st.vtls[vtl];
    if (!v.page) return false;
    const std::uint64_t base = v.page->child_to_parent;
    const std::uint64_t end = len > std::numeric_limits<std::uint64_t>::max() - gpa ? std::numeric_limits<std::uint64_t>::max()
                                                                                  : gpa + len;
    if (end <= base || gpa >= base + kMonitorPageSize) return false;
    const std::uint64_t lo = std::max(gpa, base) - base;
    const std::uint64_t hi = std::min(end, base + kMonitorPageSize) - base;
    unsigned groups = 0;
    if (lo < kMonitorTriggerGroupOffset) groups = kAllGroups;  // trigger state: enables may have changed
    for (unsigned g = 0; g < kMonitorGroupCount; ++g) {
      const std::uint64_t w = monitor_trigger_group_offset(g);
      if (lo < w + 8 && hi > w) groups |= 1u << g;
    }
    if (groups == 0) return true;  // elsewhere in the page: nothing to inspect
    st.write_reports.fetch_add(1, std::memory_order_relaxed);
    st.scan(v, groups, st.time.now(), out);
  }
  dispatch(state_, out);
  return true;
}

void MonitorAccess::poll(std::uint64_t now) {
  auto& st = *state_;
  Signals out;
  {
    std::lock_guard lock(st.mutex);
    for (auto& v : st.vtls) {
      unsigned groups = 0;
      for (unsigned id = 0; id < kMonitorIdCount; ++id)
        if (v.deadline[id] && *v.deadline[id] <= now) groups |= 1u << monitor_group(id);
      st.scan(v, groups, now, out);
    }
  }
  dispatch(state_, out);
}

std::optional<std::uint64_t> MonitorAccess::next_deadline() const {
  std::lock_guard lock(state_->mutex);
  std::optional<std::uint64_t> earliest;
  for (const auto& v : state_->vtls)
    for (const auto& d : v.deadline)
      if (d && (!earliest || *d < *earliest)) earliest = d;
  return earliest;
}

MonitorStats MonitorAccess::stats() const {
  const auto& st = *state_;
  MonitorStats s;
  s.write_reports = st.write_reports.load(std::memory_order_relaxed);
  s.signals = st.signals.load(std::memory_order_relaxed);
  s.unknown_ids = st.unknown_ids.load(std::memory_order_relaxed);
  s.cancelled = st.cancelled.load(std::memory_order_relaxed);
  s.undelivered = st.undelivered.load(std::memory_order_relaxed);
  s.memory_errors = st.memory_errors.load(std::memory_order_relaxed);
  return s;
}

}  // namespace softsynic
