// A partition with monitor pages on the deterministic executor, a virtual
// clock, and a "guest" that sets pending bits the way a guest's locked
// bit-set does (an atomic OR on the trigger word) and then has the write
// reported from its VP's strand, as an emulator's write hook would.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/post.hpp>
#include <doctest/doctest.h>

#include "synic/defs/monitor_page.h"
#include "synic/executor.h"
#include "synic/monitor/callback_event_port.h"
#include "synic/monitor/monitor_access.h"
#include "synic/partition.h"
#include "synic/time_source.h"

namespace softsynic::test {

inline constexpr std::uint64_t kPageA = 0x10000;  // child-to-parent
inline constexpr std::uint64_t kPageB = 0x11000;  // parent-to-child
inline constexpr std::uint64_t kPageC = 0x20000;
inline constexpr std::uint64_t kPageD = 0x21000;
inline constexpr std::uint64_t kServerC2P = 0x30000;
inline constexpr std::uint64_t kServerP2C = 0x31000;
inline constexpr std::uint64_t kRamSize = 0x40000;

struct Seen {
  GuestEvent event;
  std::uint64_t strands;  // bit n: VP n's strand is held by this thread during the call
};

struct MonitorRig {
  explicit MonitorRig(std::uint32_t vps = 2, std::uint8_t vtls = 1, MonitorConfig config = {})
      : memory(kRamSize),
        partition(make_config(vps, vtls, errors), memory, executor.executor()),
        monitor(partition, clock, with_error_hook(std::move(config), errors)) {}

  static PartitionConfig make_config(std::uint32_t vps, std::uint8_t vtls, std::vector<std::string>& errors) {
    PartitionConfig c;
    c.vp_count = vps;
    c.vtl_count = vtls;
    c.on_error = [&errors](const std::string& e) { errors.push_back(e); };
    return c;
  }
  static MonitorConfig with_error_hook(MonitorConfig c, std::vector<std::string>& errors) {
    if (!c.on_error) c.on_error = [&errors](const std::string& e) { errors.push_back(e); };
    return c;
  }

  // A recording port (direct registration) that notes which strand ran it.
  std::shared_ptr<EventPort> recorder() {
    return make_callback_event_port([this](const GuestEvent& e) { seen.push_back(Seen{e, current_strand()}); });
  }
  // A signal dispatched from one VP's strand to another's may run nested
  // inside the first (Asio runs the second strand inline when it is idle),
  // so more than one bit can be set.
  std::uint64_t current_strand() {
    std::uint64_t mask = 0;
    for (std::uint32_t i = 0; i < partition.vp_count(); ++i)
      if (partition.vp(i).strand().running_in_this_thread()) mask |= std::uint64_t{1} << i;
    return mask;
  }

  PortHandle reg(std::uint8_t id, std::uint32_t connection_id, std::uint16_t latency = 0, std::uint32_t vp = 0,
                 Vtl vtl = 0) {
    MonitorRegistration r;
    r.connection_id = connection_id;
    r.flag = static_cast<std::uint16_t>(id);
    r.latency_100ns = latency;
    r.vp = vp;
    r.port = recorder();
    auto h = monitor.register_monitor(vtl, id, std::move(r));
    REQUIRE(h.has_value());
    return std::move(*h);
  }

  void use_page(std::uint64_t c2p = kPageA, std::uint64_t p2c = kPageB, Vtl vtl = 0) {
    REQUIRE_FALSE(monitor.set_monitor_page(vtl, MonitorPageGpas{p2c, c2p}));
  }

  std::uint64_t word(std::uint64_t page, unsigned group) {
    return memory.fetch_or_u64(page + monitor_trigger_group_offset(group), 0).value();
  }
  std::uint32_t pending(unsigned group, std::uint64_t page = kPageA) { return MonitorTriggerGroup(word(page, group)).pending(); }
  std::uint32_t armed(unsigned group, std::uint64_t page = kPageA) { return MonitorTriggerGroup(word(page, group)).armed(); }
  std::uint8_t group_enable(std::uint64_t page = kPageA) {
    return MonitorTriggerState(memory.fetch_or_u64(page, 0).value()).group_enable();
  }

  // The guest ORs `bits` into group g's trigger word without reporting it.
  void guest_or(unsigned group, std::uint64_t bits, std::uint64_t page = kPageA) {
    memory.fetch_or_u64(page + monitor_trigger_group_offset(group), bits);
  }
  void guest_and(unsigned group, std::uint64_t mask, std::uint64_t page = kPageA) {
    memory.fetch_and_u64(page + monitor_trigger_group_offset(group), mask);
  }
  // The write [gpa, gpa + len) is reported from `vp`'s strand; runs to idle.
  bool report(std::uint64_t gpa, std::uint64_t len, std::uint32_t vp = 0, Vtl vtl = 0) {
    bool hit = false;
    boost::asio::post(partition.vp(vp).strand(), [&] { hit = monitor.on_monitor_page_write(vtl, gpa, len); });
    executor.run_until_idle();
    return hit;
  }
  // lock bts on monitor id `id`'s pending bit (a 4-byte store), reported.
  bool guest_set(unsigned id, std::uint64_t page = kPageA, std::uint32_t vp = 0, Vtl vtl = 0) {
    guest_or(monitor_group(id), std::uint64_t{1} << monitor_bit(id), page);
    return report(page + monitor_trigger_group_offset(monitor_group(id)), 4, vp, vtl);
  }
  void advance_and_poll(std::uint64_t ticks) {
    clock.advance(ticks);
    monitor.poll(clock.now());
    executor.run_until_idle();
  }
  std::vector<std::uint32_t> seen_connections() const {
    std::vector<std::uint32_t> v;
    for (const auto& s : seen) v.push_back(s.event.connection_id);
    return v;
  }

  std::vector<std::string> errors;
  RamGuestMemory memory;
  DeterministicExecutor executor;
  VirtualClock clock;
  Partition partition;
  MonitorAccess monitor;
  std::vector<Seen> seen;
};

}  // namespace softsynic::test
