// Host port interfaces: what the host registers to hear from the guest
// (MessagePort for HvPostMessage, EventPort for HvSignalEvent), and the RAII
// handle that keeps a registration alive. The C++ counterpart of the
// MessagePort / EventPort objects of a SynicPortAccess host.
//
// Threading: on_message/on_event are called on the strand of the VP whose
// guest made the hypercall, synchronously inside that hypercall. They may be
// called concurrently for different VPs, so a port shared by several VPs must
// be thread-safe. A port must not block for long: it stalls its VP.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>

#include "synic/defs/vtl.h"

namespace softsynic {

struct GuestMessage {
  Vtl vtl;                         // VTL the guest called from
  std::uint32_t vp;                // posting VP
  std::uint32_t connection_id;
  std::uint32_t message_type;
  std::span<const std::byte> payload;  // valid only during the call
};

struct GuestEvent {
  Vtl vtl;
  std::uint32_t vp;
  std::uint32_t connection_id;
  std::uint16_t flag;
};

class MessagePort {
 public:
  virtual ~MessagePort() = default;
  // true: the port took the message (the guest sees HV_STATUS_SUCCESS).
  // false: the port is full; the guest sees HV_STATUS_INSUFFICIENT_BUFFERS
  // and may retry. An exception counts as false and is reported to the
  // partition's error hook.
  virtual bool on_message(const GuestMessage& message) = 0;
};

// One registered connection, as Partition::connections() lists it.
struct ConnectionInfo {
  std::uint32_t connection_id = 0;
  bool message = false;  // a MessagePort (HvPostMessage); else an EventPort (HvSignalEvent)
  Vtl minimum_vtl = 0;
};

class EventPort {
 public:
  virtual ~EventPort() = default;
  // An exception is caught and reported to the partition's error hook; the
  // guest still sees HV_STATUS_SUCCESS (events carry no reply).
  virtual void on_event(const GuestEvent& event) = 0;
};

// Registration handle. Move-only. Destroying (or reset()) unregisters the
// port and waits until no call into it is in flight, so once it returns the
// port is never called again. Safe to destroy from inside the port's own
// callback (it then waits for other VPs' calls only). Thread-safe.
class PortHandle {
 public:
  PortHandle() = default;
  explicit PortHandle(std::function<void()> release) : release_(std::move(release)) {}
  PortHandle(PortHandle&& o) noexcept : release_(std::exchange(o.release_, nullptr)) {}
  PortHandle& operator=(PortHandle&& o) noexcept {
    if (this != &o) {
      reset();
      release_ = std::exchange(o.release_, nullptr);
    }
    return *this;
  }
  PortHandle(const PortHandle&) = delete;
  PortHandle& operator=(const PortHandle&) = delete;
  ~PortHandle() { reset(); }

  void reset() {
    if (auto r = std::exchange(release_, nullptr)) r();
  }
  explicit operator bool() const { return static_cast<bool>(release_); }

 private:
  std::function<void()> release_;
};

}  // namespace softsynic
