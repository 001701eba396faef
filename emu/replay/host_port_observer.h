// HostPortObserver: the host-side calls of a run that the SynicObserver
// does not see (ports added and removed, a port's consumer taking
// messages, guest event ports created and signalled, time moved), with
// their results. Ports are named by the host's own ids, as traces name
// them. The trace recorder and the timeline implement it; the replayer and
// an emulator's host code call before_host_call() right before each host
// call and the matching on_* right after it.
//
// wrap_message_port/wrap_event_port let an observer see what reaches a
// port (and what the port answered); the default passes the port through.
//
// Threading: the on_* calls come from the host's thread(s); wrapped ports
// are called on VP strands. Implementations must be thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "synic/defs/vtl.h"
#include "synic/errors.h"
#include "synic/ports.h"

namespace softsynic::replay {

class HostPortObserver {
 public:
  virtual ~HostPortObserver() = default;
  // A host call (post, signal, port change, time) is about to run.
  virtual void before_host_call() {}
  // capacity: what the trace's add_message_port says (informational).
  virtual void on_add_message_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl,
                                   std::uint32_t capacity, Error result) = 0;
  virtual void on_add_event_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl,
                                 Error result) = 0;
  virtual void on_remove_port(const std::string& id) = 0;
  // The port's consumer took `count` messages.
  virtual void on_take_port_message(const std::string& id, std::uint32_t count) = 0;
  virtual void on_new_guest_event_port(const std::string& id, Vtl vtl, std::uint32_t vp, std::uint8_t sint,
                                       std::uint16_t flag, Error result) = 0;
  virtual void on_signal_guest_event(const std::string& id, Error result) = 0;
  virtual void on_advance_time(std::uint64_t ticks_100ns) = 0;

  virtual std::shared_ptr<MessagePort> wrap_message_port(const std::string& /*id*/, std::shared_ptr<MessagePort> port) {
    return port;
  }
  virtual std::shared_ptr<EventPort> wrap_event_port(const std::string& /*id*/, std::shared_ptr<EventPort> port) {
    return port;
  }
};

}  // namespace softsynic::replay
