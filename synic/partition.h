// Partition: the VPs' SynICs and the host port registry; the host API that
// mirrors SynicPortAccess (add_message_port, add_event_port, post_message,
// new_guest_event_port, prefer_os_events, monitor_support) plus
// backpressure, and the guest side of the registry (HvPostMessage and
// HvSignalEvent after the CPU hooks decoded them).
//
// TLFS sections: "Synthetic Interrupt Controller (SynIC)", "Message
// Buffers", "Event Flags", "HvPostMessage", "HvSignalEvent".
// Monitor pages live in synic/monitor: monitor_support() returns the
// MonitorAccess attached to this partition, nullptr when none is.
// Not supported here: synthetic timers (synic/timers), intercept messages,
// VTL switching.
//
// Threading, per method:
//  - thread-safe: add_message_port, add_event_port, connections, post_message,
//    async_post_message, new_guest_event_port, prefer_os_events,
//    monitor_support, set_monitor_support, vp(), vp_count(), vtl_count(),
//    set_observer (before use).
//  - strand-affine (call on vp(n).strand(), i.e. from the VP's CPU slice or
//    work posted to it): guest_post_message, guest_signal_event, and the
//    SynicVp register methods.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/result.hpp>

#include "synic/defs/message.h"
#include "synic/defs/status.h"
#include "synic/defs/vtl.h"
#include "synic/errors.h"
#include "synic/guest_event_port.h"
#include "synic/guest_memory.h"
#include "synic/observer.h"
#include "synic/ports.h"
#include "synic/synic_vp.h"

namespace softsynic {

class MonitorAccess;  // monitor pages: synic/monitor/monitor_access.h

struct PartitionConfig {
  std::uint32_t vp_count = 1;
  std::uint8_t vtl_count = 1;  // 1..3
  // Host-to-guest messages each (VTL, VP, SINT) queue holds before
  // post_message reports queue_full. 1..65535.
  std::uint32_t sint_queue_capacity = 64;
  // Where port exceptions and other host-side faults are reported. Called
  // from any thread. Default: ignore.
  std::function<void(const std::string&)> on_error;
};

class Partition {
 public:
  using PostHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  // executor_for(vp) gives the executor each VP's strand wraps. Throws
  // std::invalid_argument on a bad config (host misuse).
  Partition(PartitionConfig config, GuestMemory& memory,
            std::function<boost::asio::any_io_executor(std::uint32_t vp)> executor_for);
  Partition(PartitionConfig config, GuestMemory& memory, boost::asio::any_io_executor executor)
      : Partition(std::move(config), memory, [executor](std::uint32_t) { return executor; }) {}
  // Pending async_post_message waiters complete with Error::cancelled.
  // The caller must have stopped posting strand work (quiesce first).
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  std::uint32_t vp_count() const;
  std::uint8_t vtl_count() const;
  SynicVp& vp(std::uint32_t index);  // index < vp_count(), else std::out_of_range
  GuestMemory& memory();
  void set_observer(SynicObserver* observer);  // before the partition runs

  // ---- Host API (thread-safe) ----

  // Errors: connection_id_in_use, invalid_vtl (minimum_vtl >= vtl_count),
  // null_port.
  boost::system::result<PortHandle> add_message_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                     std::shared_ptr<MessagePort> port);
  boost::system::result<PortHandle> add_event_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                   std::shared_ptr<EventPort> port);

  // The registered host ports by connection id, sorted (tools, debuggers).
  std::vector<ConnectionInfo> connections() const;

  // Queues a message for (vtl, vp, sint); it reaches the SIMP slot on the
  // VP's strand. Never blocks. Errors: queue_full (nothing queued: retry or
  // use async_post_message), invalid_vtl, invalid_vp, invalid_sint,
  // payload_too_large, invalid_message_type (type 0).
  boost::system::error_code post_message(Vtl vtl, std::uint32_t vp, std::uint8_t sint,
                                         std::uint32_t message_type, std::span<const std::byte> payload);

  // Like post_message, but when the queue is full waits for room and
  // completes once the message is queued. Completion signature
  // void(error_code); works with callbacks, use_future and use_awaitable.
  // The handler runs on its associated executor. Argument errors complete
  // at once with that error; destroying the partition completes waiters
  // with cancelled.
  template <typename Token>
  auto async_post_message(Vtl vtl, std::uint32_t vp, std::uint8_t sint, std::uint32_t message_type,
                          std::span<const std::byte> payload, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this, vtl, vp, sint, message_type](PostHandler handler, std::vector<std::byte> bytes) {
          start_async_post(vtl, vp, sint, message_type, bytes, std::move(handler));
        },
        token, std::vector<std::byte>(payload.begin(), payload.end()));
  }

  // A host-owned sender of one event flag to the guest. Errors:
  // invalid_vtl, invalid_vp, invalid_sint, invalid_flag.
  boost::system::result<std::unique_ptr<GuestEventPort>> new_guest_event_port(Vtl vtl, std::uint32_t vp,
                                                                              std::uint8_t sint,
                                                                              std::uint16_t flag);

  // Always false: dispatching to a callback is as cheap as an OS event here.
  bool prefer_os_events() const { return false; }
  // The monitor-page object attached with set_monitor_support(); nullptr
  // when none is (monitor pages not offered).
  MonitorAccess* monitor_support();
  // Called by MonitorAccess's constructor (with itself) and destructor
  // (with nullptr); hosts do not call it.
  void set_monitor_support(MonitorAccess* monitor);

  // ---- Guest side (strand-affine on vp's strand) ----

  // A decoded HvPostMessage from `vp` at `vtl`. Returns the hypercall
  // status: INVALID_PARAMETER (payload > 240, type 0 or bit 31 set),
  // INVALID_CONNECTION_ID (unknown id or an event port's id),
  // OPERATION_DENIED (vtl below the port's minimum), INSUFFICIENT_BUFFERS
  // (port full).
  HvStatus guest_post_message(std::uint32_t vp, Vtl vtl, std::uint32_t connection_id, std::uint32_t message_type,
                              std::span<const std::byte> payload);
  // A decoded HvSignalEvent. INVALID_PARAMETER (flag >= 2048),
  // INVALID_CONNECTION_ID, OPERATION_DENIED.
  HvStatus guest_signal_event(std::uint32_t vp, Vtl vtl, std::uint32_t connection_id, std::uint16_t flag);

 private:
  void start_async_post(Vtl vtl, std::uint32_t vp, std::uint8_t sint, std::uint32_t message_type,
                        std::span<const std::byte> payload, PostHandler handler);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace softsynic
