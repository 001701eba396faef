// Partition: configuration checks, the host API (ports, posts, guest event
// ports, backpressure) and the guest side of the port registry.
// TLFS: "Synthetic Interrupt Controller (SynIC)", "HvPostMessage",
// "HvSignalEvent". Monitor pages are synic/monitor's (monitor_support()
// returns the attached MonitorAccess). Not supported: intercept messages,
// VTL switching.
#include "synic/partition.h"

#include <atomic>
#include <cstring>
#include <stdexcept>

#include "synic/src/guest_event_port_impl.h"
#include "synic/src/partition_state.h"
#include "synic/src/port_registry.h"
#include "synic/src/synic_vp_impl.h"
#include "synic/src/vp_core.h"

namespace softsynic {
namespace detail {

PartitionState::~PartitionState() = default;

}  // namespace detail

namespace {

constexpr std::uint32_t kMaxQueueCapacity = 65535;

Error check_target(const PartitionConfig& c, Vtl vtl, std::uint32_t vp, std::uint8_t sint) {
  if (vtl >= c.vtl_count) return Error::invalid_vtl;
  if (vp >= c.vp_count) return Error::invalid_vp;
  if (sint >= kSintCount) return Error::invalid_sint;
  return Error::ok;
}

Error check_post(const PartitionConfig& c, Vtl vtl, std::uint32_t vp, std::uint8_t sint, std::uint32_t message_type,
                 std::span<const std::byte> payload) {
  if (const Error e = check_target(c, vtl, vp, sint); e != Error::ok) return e;
  if (payload.size() > kMessagePayloadMax) return Error::payload_too_large;
  if (message_type == 0) return Error::invalid_message_type;
  return Error::ok;
}

// Host messages carry origination id 0: the host is not a port.
HvMessage make_message(std::uint32_t message_type, std::span<const std::byte> payload) {
  HvMessage m{};
  m.header.message_type = message_type;
  m.header.payload_size = static_cast<std::uint8_t>(payload.size());
  // An empty span may carry a null pointer, which memcpy must never see.
  if (!payload.empty()) std::memcpy(m.payload.data(), payload.data(), payload.size());
  return m;
}

SynicEvent guest_event(SynicEventKind kind, std::uint32_t vp, Vtl vtl, std::uint32_t connection_id, HvStatus status) {
  SynicEvent ev{};
  ev.kind = kind;
  ev.vtl = vtl;
  ev.vp = vp;
  ev.connection_id = connection_id;
  ev.status = status;
  return ev;
}

// Out of line: the event is built only for an observer, off the guest's
// hot path.
[[gnu::noinline]] void report_guest_post(SynicObserver& o, std::uint32_t vp, Vtl vtl, std::uint32_t connection_id,
                                         std::uint32_t message_type, std::span<const std::byte> payload,
                                         HvStatus status) {
  SynicEvent ev = guest_event(SynicEventKind::guest_post_message, vp, vtl, connection_id, status);
  ev.message_type = message_type;
  ev.payload = payload;
  o.on_synic_event(ev);
}

[[gnu::noinline]] void report_guest_signal(SynicObserver& o, std::uint32_t vp, Vtl vtl, std::uint32_t connection_id,
                                           std::uint16_t flag, HvStatus status) {
  SynicEvent ev = guest_event(SynicEventKind::guest_signal_event, vp, vtl, connection_id, status);
  ev.flag = flag;
  o.on_synic_event(ev);
}

bool guest_message_type_ok(std::uint32_t message_type) {
  return message_type != 0 && (message_type & kHvMessageTypeHypervisorBit) == 0;
}

void check_config(const PartitionConfig& c) {
  if (c.vp_count == 0) throw std::invalid_argument("PartitionConfig: vp_count must be at least 1");
  if (c.vtl_count < 1 || c.vtl_count > kMaxVtlCount) throw std::invalid_argument("PartitionConfig: vtl_count must be 1..3");
  if (c.sint_queue_capacity == 0 || c.sint_queue_capacity > kMaxQueueCapacity)
    throw std::invalid_argument("PartitionConfig: sint_queue_capacity must be 1..65535");
}

}  // namespace

struct Partition::Impl {
  std::shared_ptr<detail::PartitionState> state;
  std::vector<std::unique_ptr<SynicVp>> vps;
  std::atomic<MonitorAccess*> monitor{nullptr};

  detail::VpCore& core(std::uint32_t vp) { return *state->vps[vp]; }
  const PartitionConfig& config() const { return state->config; }
};

Partition::Partition(PartitionConfig config, GuestMemory& memory,
                     std::function<boost::asio::any_io_executor(std::uint32_t vp)> executor_for)
    : impl_(std::make_unique<Impl>()) {
  check_config(config);
  if (!executor_for) throw std::invalid_argument("Partition: executor_for is empty");
  auto state = std::make_shared<detail::PartitionState>(std::move(config), memory);
  state->registry = std::make_shared<detail::PortRegistry>(state->config.vtl_count, state->config.on_error);
  for (std::uint32_t i = 0; i < state->config.vp_count; ++i) {
    auto executor = executor_for(i);
    if (!executor) throw std::invalid_argument("Partition: executor_for returned an empty executor");
    state->vps.push_back(std::make_unique<detail::VpCore>(*state, i, std::move(executor)));
    impl_->vps.push_back(std::unique_ptr<SynicVp>(new SynicVp(std::make_unique<SynicVp::Impl>(state->vps.back().get()))));
  }
  impl_->state = std::move(state);
}

Partition::~Partition() {
  for (auto& core : impl_->state->vps) core->cancel_waiters();
}

std::uint32_t Partition::vp_count() const { return impl_->config().vp_count; }
std::uint8_t Partition::vtl_count() const { return impl_->config().vtl_count; }

SynicVp& Partition::vp(std::uint32_t index) {
  if (index >= impl_->vps.size()) throw std::out_of_range("Partition::vp: index out of range");
  return *impl_->vps[index];
}

GuestMemory& Partition::memory() { return impl_->state->memory; }

MonitorAccess* Partition::monitor_support() { return impl_->monitor.load(std::memory_order_acquire); }

void Partition::set_monitor_support(MonitorAccess* monitor) { impl_->monitor.store(monitor, std::memory_order_release); }

void Partition::set_observer(SynicObserver* observer) { impl_->state->observer.store(observer, std::memory_order_release); }

boost::system::result<PortHandle> Partition::add_message_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                              std::shared_ptr<MessagePort> port) {
  return impl_->state->registry->add_message_port(connection_id, minimum_vtl, std::move(port));
}

std::vector<ConnectionInfo> Partition::connections() const { return impl_->state->registry->connections(); }

boost::system::result<PortHandle> Partition::add_event_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                            std::shared_ptr<EventPort> port) {
  return impl_->state->registry->add_event_port(connection_id, minimum_vtl, std::move(port));
}

namespace {
void notify_host_post(const detail::PartitionState& state, Error e, Vtl vtl, std::uint32_t vp, std::uint8_t sint,
                      std::uint32_t message_type, std::span<const std::byte> payload) {
  if (state.observer.load(std::memory_order_relaxed) == nullptr) return;
  SynicEvent ev{};
  ev.kind = e == Error::ok ? SynicEventKind::host_post_queued : SynicEventKind::host_post_rejected;
  ev.vtl = vtl;
  ev.vp = vp;
  ev.sint = sint;
  ev.message_type = message_type;
  ev.error = static_cast<int>(e);
  ev.payload = payload;
  state.notify(ev);
}
}  // namespace

namespace {
// Everything but the direct delivery, out of line so that path stays short:
// report a rejection, or queue, report and deliver now (on the VP's own
// strand) or schedule a drain.
[[gnu::noinline]] boost::system::error_code post_queued(detail::PartitionState& state, Error e, Vtl vtl,
                                                        std::uint32_t vp, std::uint8_t sint, std::uint32_t message_type,
                                                        std::span<const std::byte> payload) {
  if (e != Error::ok) {
    notify_host_post(state, e, vtl, vp, sint, message_type, payload);
    return detail::to_error_code(e);
  }
  detail::VpCore& core = *state.vps[vp];
  const bool now = core.on_own_strand();
  e = core.push(vtl, sint, make_message(message_type, payload));
  notify_host_post(state, e, vtl, vp, sint, message_type, payload);
  if (e == Error::ok) core.kick(vtl, sint, now);
  return detail::to_error_code(e);
}
}  // namespace

boost::system::error_code Partition::post_message(Vtl vtl, std::uint32_t vp, std::uint8_t sint,
                                                  std::uint32_t message_type, std::span<const std::byte> payload) {
  const Error e = check_post(impl_->config(), vtl, vp, sint, message_type, payload);
  // Posted on the VP's own strand (a port or timer replying on the vCPU):
  // straight into a free slot when nothing is queued, no strand hop.
  if (e == Error::ok) {
    detail::VpCore& core = impl_->core(vp);
    if (core.on_own_strand() && core.post_direct(vtl, sint, message_type, payload)) return {};
  }
  return post_queued(*impl_->state, e, vtl, vp, sint, message_type, payload);
}

void Partition::start_async_post(Vtl vtl, std::uint32_t vp, std::uint8_t sint, std::uint32_t message_type,
                                 std::span<const std::byte> payload, PostHandler handler) {
  const Error e = check_post(impl_->config(), vtl, vp, sint, message_type, payload);
  if (e != Error::ok) {
    notify_host_post(*impl_->state, e, vtl, vp, sint, message_type, payload);
    // No valid VP to name: VP 0's strand runs it unless the handler says otherwise.
    const boost::asio::any_io_executor fallback = impl_->core(vp < vp_count() ? vp : 0).strand();
    detail::complete_post(std::move(handler), make_error_code(e), fallback);
    return;
  }
  // A post that has to wait is reported when it enters the queue.
  if (impl_->core(vp).post_or_wait(vtl, sint, make_message(message_type, payload), std::move(handler)))
    notify_host_post(*impl_->state, Error::ok, vtl, vp, sint, message_type, payload);
}

boost::system::result<std::unique_ptr<GuestEventPort>> Partition::new_guest_event_port(Vtl vtl, std::uint32_t vp,
                                                                                       std::uint8_t sint,
                                                                                       std::uint16_t flag) {
  Error e = check_target(impl_->config(), vtl, vp, sint);
  if (e == Error::ok && flag >= kEventFlagsPerSint) e = Error::invalid_flag;
  if (e != Error::ok) return make_error_code(e);
  return detail::make_guest_event_port(impl_->state, GuestEventTarget{vtl, vp, sint, flag});
}

HvStatus Partition::guest_post_message(std::uint32_t vp, Vtl vtl, std::uint32_t connection_id,
                                       std::uint32_t message_type, std::span<const std::byte> payload) {
  const auto& c = impl_->config();
  HvStatus status = HvStatus::invalid_parameter;
  if (vp < c.vp_count && vtl < c.vtl_count && payload.size() <= kMessagePayloadMax &&
      guest_message_type_ok(message_type))
    status = impl_->state->registry->post(GuestMessage{vtl, vp, connection_id, message_type, payload});
  // The event is built only for an observer: this is the guest's hot path.
  if (auto* o = impl_->state->observer.load(std::memory_order_acquire))
    report_guest_post(*o, vp, vtl, connection_id, message_type, payload, status);
  return status;
}

HvStatus Partition::guest_signal_event(std::uint32_t vp, Vtl vtl, std::uint32_t connection_id, std::uint16_t flag) {
  const auto& c = impl_->config();
  HvStatus status = HvStatus::invalid_parameter;
  if (vp < c.vp_count && vtl < c.vtl_count && flag < kEventFlagsPerSint)
    status = impl_->state->registry->signal(GuestEvent{vtl, vp, connection_id, flag});
  if (auto* o = impl_->state->observer.load(std::memory_order_acquire))
    report_guest_signal(*o, vp, vtl, connection_id, flag, status);
  return status;
}

}  // namespace softsynic
