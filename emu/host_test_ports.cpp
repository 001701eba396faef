// The built-in host ports of the reference emulator (emu/host_ports.h).
#include "emu/host_test_ports.h"

#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "emu/host_ports.h"
#include "emu/replay/host_port_observer.h"
#include "synic/monitor/callback_event_port.h"
#include "synic/monitor/monitor_access.h"

namespace softsynic::emu {
namespace {
// Port ids as recordings name them.
constexpr const char* kEchoId = "echo";
constexpr const char* kEventsId = "events";
constexpr const char* kCommandsId = "commands";
// What a recording says the ports hold; they never fill (every message is
// consumed at once).
constexpr std::uint32_t kRecordedPortCapacity = 64;
}  // namespace

// Replies with the same type and payload on the sender's reply SINT. A full
// reply queue makes the guest's post fail with INSUFFICIENT_BUFFERS.
class HostTestPorts::Echo final : public MessagePort {
 public:
  explicit Echo(HostTestPorts& ports) : ports_(ports) {}
  bool on_message(const GuestMessage& m) override {
    ports_.taken(kEchoId);
    return !ports_.partition_.post_message(m.vtl, m.vp, kReplySint, m.message_type, m.payload);
  }

 private:
  HostTestPorts& ports_;
};

// Answers HvSignalEvent(flag) with the same flag in the sender's SIEFP.
class HostTestPorts::Events final : public EventPort {
 public:
  explicit Events(HostTestPorts& ports) : ports_(ports) {}
  void on_event(const GuestEvent& e) override { ports_.signal(e.vtl, e.vp, kReplySint, e.flag); }

 private:
  HostTestPorts& ports_;
};

// Burst and signal commands (HostCommand). Malformed commands are ignored:
// the guest sees SUCCESS and nothing happens, as with any port that does
// not understand a message.
class HostTestPorts::Commands final : public MessagePort {
 public:
  explicit Commands(HostTestPorts& ports) : ports_(ports) {}
  bool on_message(const GuestMessage& m) override {
    ports_.taken(kCommandsId);
    HostCommand c{};
    if (m.payload.size() < sizeof c) return true;
    std::memcpy(&c, m.payload.data(), sizeof c);
    switch (static_cast<HostCommandOp>(c.op)) {
      case HostCommandOp::monitor_page:
      case HostCommandOp::monitor_register:
      case HostCommandOp::monitor_query:
        ports_.monitor_command(m.vtl, m.vp, m.payload);
        return true;
      default:
        break;
    }
    if (c.sint >= kSintCount || c.target_vp >= ports_.partition_.vp_count()) return true;
    const auto sint = static_cast<std::uint8_t>(c.sint);
    switch (static_cast<HostCommandOp>(c.op)) {
      case HostCommandOp::burst:
        for (std::uint32_t i = 0; i < c.count; ++i) {
          const std::uint32_t body[2] = {i, m.vp};
          if (ports_.partition_.post_message(m.vtl, c.target_vp, sint, c.message_type, std::as_bytes(std::span(body)))) {
            break;  // queue full or bad type: the guest sees fewer messages
          }
        }
        return true;
      case HostCommandOp::signal:
        for (std::uint32_t i = 0; i < c.count; ++i) {
          ports_.signal(m.vtl, c.target_vp, sint, static_cast<std::uint16_t>(c.flag));
        }
        return true;
      default:
        return true;
    }
  }

 private:
  HostTestPorts& ports_;
};

template <typename Port>
PortHandle HostTestPorts::add(const char* id, std::uint32_t connection_id, std::shared_ptr<Port> port) {
  constexpr bool is_message = std::is_base_of_v<MessagePort, Port>;
  if (observer_) observer_->before_host_call();
  boost::system::result<PortHandle> result = [&] {
    if constexpr (is_message) {
      auto wrapped = observer_ ? observer_->wrap_message_port(id, port) : port;
      return partition_.add_message_port(connection_id, 0, wrapped);
    } else {
      auto wrapped = observer_ ? observer_->wrap_event_port(id, port) : port;
      return partition_.add_event_port(connection_id, 0, wrapped);
    }
  }();
  const Error error = result ? Error::ok : static_cast<Error>(result.error().value());
  if (observer_ && is_message) observer_->on_add_message_port(id, connection_id, 0, kRecordedPortCapacity, error);
  if (observer_ && !is_message) observer_->on_add_event_port(id, connection_id, 0, error);
  if (!result) throw std::runtime_error(std::string("cannot register the ") + id + " port: " + result.error().message());
  return std::move(*result);
}

HostTestPorts::HostTestPorts(Partition& partition, replay::HostPortObserver* observer, MonitorAccess* monitor)
    : partition_(partition), observer_(observer), monitor_(monitor) {
  echo_ = add(kEchoId, kEchoConnectionId, std::make_shared<Echo>(*this));
  events_ = add(kEventsId, kEventConnectionId, std::make_shared<Events>(*this));
  commands_ = add(kCommandsId, kCommandConnectionId, std::make_shared<Commands>(*this));
}

// The ports consume every message at once.
void HostTestPorts::taken(const char* id) {
  if (observer_) observer_->on_take_port_message(id, 1);
}

HostTestPorts::~HostTestPorts() {
  // Unregister the monitor ids before the counters they count into go.
  std::lock_guard lock(monitor_mutex_);
  monitor_ids_.clear();
}

void HostTestPorts::monitor_command(Vtl vtl, std::uint32_t vp, std::span<const std::byte> payload) {
  HostMonitorCommand c{};
  HostMonitorReply reply{};
  if (payload.size() < sizeof c) {
    reply.status = kMonitorBadCommand;
  } else if (monitor_ == nullptr) {
    reply.status = kMonitorUnavailable;
  } else {
    std::memcpy(&c, payload.data(), sizeof c);
    reply.status = 0;
    switch (static_cast<HostCommandOp>(c.op)) {
      case HostCommandOp::monitor_page: {
        std::optional<MonitorPageGpas> pages;
        if (c.page_gpa != 0) pages = MonitorPageGpas{0, c.page_gpa};
        reply.status = static_cast<std::uint32_t>(monitor_->set_monitor_page(vtl, pages).value());
        break;
      }
      case HostCommandOp::monitor_register: {
        std::lock_guard lock(monitor_mutex_);
        for (std::uint64_t id = c.first_id; id < std::uint64_t{c.first_id} + c.id_count; ++id) {
          MonitorRegistration r;
          r.connection_id = kMonitorConnectionIdBase + static_cast<std::uint32_t>(id);
          r.latency_100ns = static_cast<std::uint16_t>(std::min<std::uint32_t>(c.latency_100ns, 0xFFFF));
          r.vp = vp;
          r.port = make_callback_event_port([this, id](const GuestEvent&) {
            if (id < monitor_counts_.size()) monitor_counts_[id].fetch_add(1, std::memory_order_relaxed);
            monitor_signals_.fetch_add(1, std::memory_order_relaxed);
          });
          auto handle = monitor_->register_monitor(vtl, static_cast<std::uint8_t>(std::min<std::uint64_t>(id, 0xFF)), r);
          if (!handle) {
            reply.status = static_cast<std::uint32_t>(handle.error().value());
            break;
          }
          monitor_ids_.push_back(std::move(*handle));
        }
        break;
      }
      case HostCommandOp::monitor_query:
      default:
        break;
    }
    const MonitorStats stats = monitor_->stats();
    reply.port_signals = monitor_signals_.load(std::memory_order_relaxed);
    reply.signals = stats.signals;
    reply.unknown_ids = stats.unknown_ids;
    reply.cancelled = stats.cancelled;
    reply.undelivered = stats.undelivered;
    reply.write_reports = stats.write_reports;
    for (std::uint32_t i = 0; i < kMonitorReplyIds; ++i) {
      const std::uint64_t id = std::uint64_t{c.first_id} + i;
      reply.id_counts[i] =
          id < monitor_counts_.size() ? static_cast<std::uint32_t>(monitor_counts_[id].load(std::memory_order_relaxed)) : 0;
    }
  }
  partition_.post_message(vtl, vp, kReplySint, kMonitorReplyType, std::as_bytes(std::span(&reply, 1)));
}

boost::system::error_code HostTestPorts::signal(Vtl vtl, std::uint32_t vp, std::uint8_t sint, std::uint16_t flag) {
  std::lock_guard lock(mutex_);
  auto key = std::make_tuple(vtl, vp, sint, flag);
  const std::string id = "flag-vtl" + std::to_string(vtl) + "-vp" + std::to_string(vp) + "-sint" +
                         std::to_string(sint) + "-" + std::to_string(flag);
  auto it = event_ports_.find(key);
  if (it == event_ports_.end()) {
    if (observer_) observer_->before_host_call();
    auto port = partition_.new_guest_event_port(vtl, vp, sint, flag);
    if (observer_) {
      observer_->on_new_guest_event_port(id, vtl, vp, sint, flag,
                                         port ? Error::ok : static_cast<Error>(port.error().value()));
    }
    if (!port) return port.error();
    it = event_ports_.emplace(key, std::move(*port)).first;
  }
  if (observer_) observer_->before_host_call();
  boost::system::error_code ec = it->second->signal();
  if (observer_) observer_->on_signal_guest_event(id, static_cast<Error>(ec.value()));
  return ec;
}

}  // namespace softsynic::emu
