// PortRegistry: connection ids, minimum VTLs and safe unregistration.
// TLFS: "HvPostMessage", "HvSignalEvent". Not supported: port ids.
#include "synic/src/port_registry.h"

#include <exception>
#include <mutex>

#include "synic/errors.h"

namespace softsynic::detail {

struct PortRegistry::Entry {
  bool message_kind;
  Vtl minimum_vtl = 0;
  std::shared_ptr<MessagePort> message_port;
  std::shared_ptr<EventPort> event_port;
  std::atomic<std::uint32_t> active{0};  // calls in flight
};

namespace {

// The entry this thread is calling into, so that a port releasing its own
// handle from its callback does not wait for itself.
thread_local const PortRegistry::Entry* t_dispatching = nullptr;

class InFlight {
 public:
  explicit InFlight(std::shared_ptr<PortRegistry::Entry> e) : entry_(std::move(e)), outer_(t_dispatching) {
    t_dispatching = entry_.get();
  }
  ~InFlight() {
    t_dispatching = outer_;
    entry_->active.fetch_sub(1, std::memory_order_acq_rel);
    entry_->active.notify_all();
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::shared_ptr<PortRegistry::Entry> entry_;
  const PortRegistry::Entry* outer_;
};

std::string exception_text(const char* where) {
  try {
    throw;
  } catch (const std::exception& e) {
    return std::string(where) + " threw: " + e.what();
  } catch (...) {
    return std::string(where) + " threw a non-standard exception";
  }
}

}  // namespace

PortRegistry::PortRegistry(std::uint8_t vtl_count, ErrorHook on_error)
    : vtl_count_(vtl_count), on_error_(std::move(on_error)) {}

boost::system::result<PortHandle> PortRegistry::add_message_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                                 std::shared_ptr<MessagePort> port) {
  if (!port) return make_error_code(Error::null_port);
  auto e = std::make_shared<Entry>();
  e->message_kind = true;
  e->message_port = std::move(port);
  return add(connection_id, minimum_vtl, std::move(e));
}

boost::system::result<PortHandle> PortRegistry::add_event_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                               std::shared_ptr<EventPort> port) {
  if (!port) return make_error_code(Error::null_port);
  auto e = std::make_shared<Entry>();
  e->message_kind = false;
  e->event_port = std::move(port);
  return add(connection_id, minimum_vtl, std::move(e));
}

boost::system::result<PortHandle> PortRegistry::add(std::uint32_t connection_id, Vtl minimum_vtl,
                                                    std::shared_ptr<Entry> entry) {
  if (minimum_vtl >= vtl_count_) return make_error_code(Error::invalid_vtl);
  entry->minimum_vtl = minimum_vtl;
  {
    std::unique_lock lock(mutex_);
    if (!ports_.emplace(connection_id, entry).second) return make_error_code(Error::connection_id_in_use);
  }
  // The handle may outlive the partition: it then has nothing to remove.
  std::weak_ptr<PortRegistry> weak = weak_from_this();
  return PortHandle([weak, connection_id, entry = std::move(entry)] {
    if (auto self = weak.lock()) self->release(connection_id, entry);
  });
}

void PortRegistry::release(std::uint32_t connection_id, const std::shared_ptr<Entry>& entry) {
  {
    std::unique_lock lock(mutex_);
    auto it = ports_.find(connection_id);
    if (it != ports_.end() && it->second == entry) ports_.erase(it);
  }
  // New calls can no longer find the entry; wait for those in flight,
  // except our own when a port drops its handle from its callback.
  const std::uint32_t own = t_dispatching == entry.get() ? 1 : 0;
  for (auto n = entry->active.load(std::memory_order_acquire); n > own; n = entry->active.load(std::memory_order_acquire))
    entry->active.wait(n, std::memory_order_acquire);
}

template <typename Call>
HvStatus PortRegistry::dispatch(std::uint32_t connection_id, Vtl vtl, bool message_kind, Call&& call) {
  std::shared_ptr<Entry> entry;
  {
    std::shared_lock lock(mutex_);
    auto it = ports_.find(connection_id);
    if (it == ports_.end() || it->second->message_kind != message_kind) return HvStatus::invalid_connection_id;
    if (vtl < it->second->minimum_vtl) return HvStatus::operation_denied;
    entry = it->second;
    entry->active.fetch_add(1, std::memory_order_acq_rel);
  }
  InFlight in_flight(entry);
  return call(*entry);
}

HvStatus PortRegistry::post(const GuestMessage& message) {
  return dispatch(message.connection_id, message.vtl, true, [&](Entry& e) {
    try {
      return e.message_port->on_message(message) ? HvStatus::success : HvStatus::insufficient_buffers;
    } catch (...) {
      if (on_error_) on_error_(exception_text("MessagePort::on_message"));
      return HvStatus::insufficient_buffers;
    }
  });
}

HvStatus PortRegistry::signal(const GuestEvent& event) {
  return dispatch(event.connection_id, event.vtl, false, [&](Entry& e) {
    try {
      e.event_port->on_event(event);
    } catch (...) {
      if (on_error_) on_error_(exception_text("EventPort::on_event"));
    }
    return HvStatus::success;
  });
}

}  // namespace softsynic::detail
