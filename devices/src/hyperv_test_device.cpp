// HypervTestDevice: see devices/pc/hyperv_test_device.h.
#include "devices/pc/hyperv_test_device.h"

#include <boost/asio/post.hpp>

#include "synic/defs/message.h"
#include "synic/partition.h"

namespace softsynic::devices {
namespace {

// Echoes each guest message to (vp, sint).
class EchoPort final : public MessagePort {
 public:
  EchoPort(Partition& partition, std::uint32_t vp, std::uint8_t sint) : partition_(partition), vp_(vp), sint_(sint) {}
  bool on_message(const GuestMessage& m) override {
    // queue_full is backpressure: the guest sees INSUFFICIENT_BUFFERS and
    // retries, as with QEMU's single staging slot.
    return !partition_.post_message(0, vp_, sint_, m.message_type, m.payload);
  }

 private:
  Partition& partition_;
  std::uint32_t vp_;
  std::uint8_t sint_;
};

// Sets flag `connection id` on (vp, sint) for each guest signal.
class FlagPort final : public EventPort {
 public:
  explicit FlagPort(std::unique_ptr<GuestEventPort> port) : port_(std::move(port)) {}
  void on_event(const GuestEvent&) override { port_->signal(); }

 private:
  std::unique_ptr<GuestEventPort> port_;
};

std::string describe(std::uint32_t conn, std::uint8_t control, std::uint32_t vp, std::uint8_t sint) {
  return "control " + std::to_string(control) + " conn " + std::to_string(conn) + " vp " + std::to_string(vp) +
         " sint " + std::to_string(sint);
}

}  // namespace

HypervTestDevice::HypervTestDevice(Partition& partition, std::function<void(const std::string&)> log)
    : partition_(partition), log_(std::move(log)) {}

HypervTestDevice::~HypervTestDevice() = default;

void HypervTestDevice::io_write(std::uint32_t vp, std::uint16_t port, unsigned size, std::uint32_t value) {
  if (port != kPort || size != 4) {
    if (log_) log_("hyperv-testdev: ignored " + std::to_string(size) + "-byte write at port " + std::to_string(port));
    return;
  }
  execute(vp, Command{value >> 24, static_cast<std::uint8_t>(value >> 16), (value >> 8) & 0xFF,
                      static_cast<std::uint8_t>(value)});
}

void HypervTestDevice::reject(const Command& c, const std::string& why) {
  if (log_) log_("hyperv-testdev: ignored " + describe(c.conn, c.control, c.vp, c.sint) + ": " + why);
}

void HypervTestDevice::execute(std::uint32_t writer, const Command& c) {
  if (c.vp >= partition_.vp_count()) return reject(c, "no such VP");
  if (c.sint >= kSintCount) return reject(c, "no such SINT");
  const auto route = std::make_pair(c.vp, c.sint);
  std::unique_lock lock(mutex_);
  switch (static_cast<Control>(c.control)) {
    case Control::sint_route_create:
      if (!routes_.insert(route).second) return reject(c, "route exists");
      return;
    case Control::sint_route_destroy:
      if (routes_.erase(route) == 0) return reject(c, "no such route");
      return;
    case Control::sint_assert:
      if (!routes_.contains(route)) return reject(c, "no such route");
      lock.unlock();
      return assert_sint(writer, c.vp, c.sint);
    case Control::message_connection_create: {
      if (message_connections_.contains(c.conn)) return reject(c, "connection exists");
      auto handle = partition_.add_message_port(c.conn, 0, std::make_shared<EchoPort>(partition_, c.vp, c.sint));
      if (!handle) return reject(c, "connection id taken: " + handle.error().message());
      message_connections_.emplace(c.conn, std::move(*handle));
      return;
    }
    case Control::event_connection_create: {
      if (event_connections_.contains(c.conn)) return reject(c, "connection exists");
      if (c.conn >= kEventFlagsPerSint) return reject(c, "no such flag");
      auto sender = partition_.new_guest_event_port(0, c.vp, c.sint, static_cast<std::uint16_t>(c.conn));
      if (!sender) return reject(c, sender.error().message());
      auto handle = partition_.add_event_port(c.conn, 0, std::make_shared<FlagPort>(std::move(*sender)));
      if (!handle) return reject(c, "connection id taken: " + handle.error().message());
      event_connections_.emplace(c.conn, std::move(*handle));
      return;
    }
    case Control::message_connection_destroy:
    case Control::event_connection_destroy: {
      auto& map = static_cast<Control>(c.control) == Control::message_connection_destroy ? message_connections_
                                                                                          : event_connections_;
      auto it = map.find(c.conn);
      if (it == map.end()) return reject(c, "no such connection");
      PortHandle handle = std::move(it->second);
      map.erase(it);
      lock.unlock();  // unregistering waits for calls in flight
      handle.reset();
      return;
    }
    default:
      return reject(c, "unknown control");
  }
}

void HypervTestDevice::assert_sint(std::uint32_t writer, std::uint32_t vp, std::uint8_t sint) {
  SynicVp& target = partition_.vp(vp);
  if (vp == writer) {
    target.assert_sint(0, sint);  // already on its strand
    return;
  }
  boost::asio::post(target.strand(), [&target, sint] { target.assert_sint(0, sint); });
}

std::size_t HypervTestDevice::route_count() const {
  std::lock_guard lock(mutex_);
  return routes_.size();
}

std::size_t HypervTestDevice::connection_count() const {
  std::lock_guard lock(mutex_);
  return message_connections_.size() + event_connections_.size();
}

}  // namespace softsynic::devices
