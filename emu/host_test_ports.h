// HostTestPorts: the runner's built-in host side for guest programs: the
// echo message port, the event port and the command port of
// emu/host_ports.h, registered on a partition; with a MonitorAccess, the
// command port's monitor ops and the counting port behind monitor ids.
//
// Threading: the ports are called on the posting VP's strand, possibly for
// several VPs at once; they only use the partition's and the monitor's
// thread-safe host API, a mutex-guarded cache of guest event ports and
// mutex-guarded monitor registrations; the counters are atomic.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <tuple>
#include <vector>

#include "synic/defs/monitor_page.h"
#include "synic/partition.h"

namespace softsynic {
class MonitorAccess;
}

namespace softsynic::replay {
class HostPortObserver;
}

namespace softsynic::emu {

class HostTestPorts {
 public:
  // Throws std::runtime_error if a connection id is taken. observer
  // (optional, outlives this) sees the ports' registration, what reaches
  // them and the host calls they make (for recording a run).
  // monitor (optional, outlives this): serves the monitor ops.
  explicit HostTestPorts(Partition& partition, replay::HostPortObserver* observer = nullptr,
                         MonitorAccess* monitor = nullptr);
  ~HostTestPorts();
  HostTestPorts(const HostTestPorts&) = delete;
  HostTestPorts& operator=(const HostTestPorts&) = delete;

  // Sets (vtl, vp, sint, flag) through a cached GuestEventPort.
  boost::system::error_code signal(Vtl vtl, std::uint32_t vp, std::uint8_t sint, std::uint16_t flag);

 private:
  class Echo;
  class Events;
  class Commands;

  template <typename Port>
  PortHandle add(const char* id, std::uint32_t connection_id, std::shared_ptr<Port> port);
  void taken(const char* id);
  // A monitor op from (vtl, vp); answers on (vtl, vp, kReplySint).
  void monitor_command(Vtl vtl, std::uint32_t vp, std::span<const std::byte> payload);

  Partition& partition_;
  replay::HostPortObserver* observer_;
  std::mutex mutex_;
  std::map<std::tuple<Vtl, std::uint32_t, std::uint8_t, std::uint16_t>, std::unique_ptr<GuestEventPort>> event_ports_;
  PortHandle echo_;
  PortHandle events_;
  PortHandle commands_;
  MonitorAccess* monitor_;
  std::mutex monitor_mutex_;
  std::vector<PortHandle> monitor_ids_;  // guarded by monitor_mutex_
  std::array<std::atomic<std::uint64_t>, kMonitorIdCount> monitor_counts_{};
  std::atomic<std::uint64_t> monitor_signals_{0};
};

}  // namespace softsynic::emu
