// HostTestPorts: the runner's built-in host side for guest programs: the
// echo message port, the event port and the command port of
// emu/host_ports.h, registered on a partition.
//
// Threading: the ports are called on the posting VP's strand, possibly for
// several VPs at once; they only use the partition's thread-safe host API
// and a mutex-guarded cache of guest event ports.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "synic/partition.h"

namespace softsynic::replay {
class HostPortObserver;
}

namespace softsynic::emu {

class HostTestPorts {
 public:
  // Throws std::runtime_error if a connection id is taken. observer
  // (optional, outlives this) sees the ports' registration, what reaches
  // them and the host calls they make (for recording a run).
  explicit HostTestPorts(Partition& partition, replay::HostPortObserver* observer = nullptr);
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

  Partition& partition_;
  replay::HostPortObserver* observer_;
  std::mutex mutex_;
  std::map<std::tuple<Vtl, std::uint32_t, std::uint8_t, std::uint16_t>, std::unique_ptr<GuestEventPort>> event_ports_;
  PortHandle echo_;
  PortHandle events_;
  PortHandle commands_;
};

}  // namespace softsynic::emu
