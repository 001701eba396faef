// MonitorAccess: the host side of monitor pages (TLFS "Monitored
// Notification Facility"; the object a SynicPortAccess host reaches through
// monitor_support()). A guest signals a busy channel by setting its monitor
// id's pending bit in the child-to-parent monitor page instead of calling
// HvSignalEvent; after the id's latency the SynIC clears the bit and signals
// the id's event port once per set. Layout: synic/defs/monitor_page.h;
// rules and their reasons: docs/MONITOR.md.
//
// Pages: VMBus hands the SynIC a pair (InitiateContact's monitor page 1 =
// parent-to-child, page 2 = child-to-parent; or pages the server chooses
// when both sides offer the "server specified monitor pages" feature). Only
// the child-to-parent page has behaviour here; the parent-to-child page is
// recorded and reported, never written.
//
// The emulator reports guest stores into the page (on_monitor_page_write,
// after the store landed) and calls poll() when next_deadline() is reached.
// Unicorn: a UC_HOOK_MEM_WRITE bounded to the child-to-parent page runs
// before the store, so it records the write and the vCPU loop reports it
// after the instruction (or the hook posts the report to the VP's strand);
// on_page_change tells it where to move the hook.
//
// Not supported: host-to-guest monitored notifications (parent-to-child
// page), next_check_time (never written), save/restore.
//
// Threading, per method:
//  - thread-safe: set_monitor_page, allocate_monitor_page, monitor_page,
//    register_monitor (and dropping its handle), poll, next_deadline, stats.
//  - the writing VP's strand: on_monitor_page_write (also safe elsewhere).
//  - signals run on the strand of MonitorRegistration::vp.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "synic/defs/monitor_page.h"
#include "synic/defs/vtl.h"
#include "synic/errors.h"
#include "synic/ports.h"
#include "synic/time_source.h"

namespace softsynic {

class Partition;
namespace detail {
struct MonitorState;
}  // namespace detail

// The VMBus page pair (the wire's MonitorPage1 / MonitorPage2).
struct MonitorPageGpas {
  std::uint64_t parent_to_child = 0;  // host -> guest: recorded only
  std::uint64_t child_to_parent = 0;  // guest -> host: the page the guest sets pending bits in
  friend bool operator==(const MonitorPageGpas&, const MonitorPageGpas&) = default;
};

// What a monitor id signals.
struct MonitorRegistration {
  std::uint32_t connection_id = 0;
  std::uint16_t flag = 0;            // < 2048
  std::uint16_t latency_100ns = 0;   // reference time between seeing the bit and signalling; 0 = at once
  std::uint32_t vp = 0;              // the port's VP: signals run on its strand, and it is the GuestEvent's vp
  // Null: the signal goes through the partition's port registry, exactly
  // like a guest HvSignalEvent(connection_id, flag) from `vp`. Non-null:
  // this port is called directly (its own callback or EventPort).
  std::shared_ptr<EventPort> port;
};

struct MonitorConfig {
  // Pages allocate_monitor_page() hands out, per VTL: GPAs of guest RAM the
  // emulator keeps out of the guest's memory map. None: it answers nullopt.
  std::array<std::optional<MonitorPageGpas>, kMaxVtlCount> server_pages{};
  // After each page change (set or allocate), from the calling thread, with
  // the new pair (nullopt: removed). Emulators move their write hook here.
  // Page changes are serialized through it: it must not change pages
  // itself (other monitor calls are fine).
  std::function<void(Vtl, std::optional<MonitorPageGpas>)> on_page_change;
  // Host-side faults (a port threw, the page left RAM). Any thread.
  std::function<void(const std::string&)> on_error;
};

// Counters since construction (monotonic, thread-safe snapshots).
struct MonitorStats {
  std::uint64_t write_reports = 0;  // on_monitor_page_write calls that touched a trigger word
  std::uint64_t signals = 0;        // pending bits consumed for a registered id (one signal each; drains too)
  std::uint64_t unknown_ids = 0;    // pending bits of unregistered ids: cleared, nothing signalled
  std::uint64_t cancelled = 0;      // deferred ids whose pending bit the guest cleared first
  std::uint64_t undelivered = 0;    // signals no port took (unregistered meanwhile, registry status, port threw)
  std::uint64_t memory_errors = 0;  // page accesses that missed guest RAM
};

class MonitorAccess {
 public:
  // Attaches itself as partition.monitor_support(). Partition and time
  // source must outlive it; destroy it before the partition, with no strand
  // work left (quiesce first).
  MonitorAccess(Partition& partition, const TimeSource& time, MonitorConfig config = {});
  ~MonitorAccess();
  MonitorAccess(const MonitorAccess&) = delete;
  MonitorAccess& operator=(const MonitorAccess&) = delete;

  // ---- Host API (thread-safe) ----

  // Sets (or with nullopt removes) the page pair of `vtl`. The monitor
  // writes each registered id's parameter and latency into the new
  // child-to-parent page and sets the enable bits of the groups that have
  // ids, then looks at its pending bits at once. The old page is drained
  // first: registered ids pending there are signalled (never lost), and it
  // is not written again. Setting the current pair again changes nothing.
  // Errors: invalid_vtl, invalid_monitor_page (a GPA not 4 KiB aligned, or
  // child_to_parent not guest RAM); nothing changes then.
  boost::system::error_code set_monitor_page(Vtl vtl, std::optional<MonitorPageGpas> gpas);

  // Server-chosen pages: zeroes MonitorConfig::server_pages[vtl] and makes
  // them the current pair (as set_monitor_page). nullopt when none are
  // configured for `vtl` (the VMBus server then uses the guest's pages).
  // Already current: returned as they are. Errors: invalid_vtl,
  // invalid_monitor_page (not RAM).
  boost::system::result<std::optional<MonitorPageGpas>> allocate_monitor_page(Vtl vtl);

  std::optional<MonitorPageGpas> monitor_page(Vtl vtl) const;  // nullopt: none, or vtl out of range

  // Registers monitor id 0..127 of `vtl`. Registrations outlive page
  // changes. Dropping the handle unregisters: the id's parameter and
  // latency in the page are zeroed, its group is disabled when it was the
  // last id, and once the drop returns the port is not called for it again
  // (a drop from inside the signal waits only for other calls). Errors:
  // invalid_vtl, invalid_monitor_id, invalid_vp, invalid_flag,
  // monitor_id_in_use.
  boost::system::result<PortHandle> register_monitor(Vtl vtl, std::uint8_t monitor_id, MonitorRegistration registration);

  // ---- Emulator side ----

  // The guest stored [gpa, gpa + len) and the store has landed. True when
  // the range touches a child-to-parent page (the emulator need not look
  // further); the trigger words it covers are inspected at once.
  bool on_monitor_page_write(Vtl vtl, std::uint64_t gpa, std::uint64_t len);

  // Fires every deferred id whose latency ran out at `now` (100 ns
  // reference time, normally the injected TimeSource's now()).
  void poll(std::uint64_t now);
  // Earliest time poll() has work; nullopt when nothing is deferred.
  std::optional<std::uint64_t> next_deadline() const;

  MonitorStats stats() const;

 private:
  std::shared_ptr<detail::MonitorState> state_;
};

}  // namespace softsynic
