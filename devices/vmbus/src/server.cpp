// VmbusServer: control-plane state machine, GPADLs and the channel data
// path; see server.h.
#include "devices/vmbus/server.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "devices/vmbus/defs/channel_messages.h"
#include "devices/vmbus/defs/versions.h"
#include "devices/vmbus/gpadl.h"
#include "devices/vmbus/message_text.h"
#include "synic/errors.h"
#include "synic/monitor/monitor_access.h"
#include "synic/partition.h"
#include "synic/time_source.h"

namespace softsynic::vmbus {
namespace {

// GPADLs above 1 GiB are refused (ring buffers are far smaller).
constexpr std::uint32_t kMaxGpadlPfns = 1u << 18;
// Relid n gets monitor id n - 1 while ids last.
constexpr std::uint32_t kMonitorIds = 128;

template <typename T>
T read_as(std::span<const std::byte> p) {
  T v{};
  std::memcpy(&v, p.data(), std::min(p.size(), sizeof v));
  return v;
}

template <typename T>
std::span<const std::byte> bytes_of(const T& v) {
  return std::as_bytes(std::span<const T, 1>(&v, 1));
}

template <typename T>
T message(ChannelMessageType type) {
  T m{};
  m.header.message_type = static_cast<std::uint32_t>(type);
  return m;
}

// Minimum payload of each guest-to-host message (its fixed part).
std::optional<std::size_t> guest_message_size(ChannelMessageType t) {
  switch (t) {
    case ChannelMessageType::initiate_contact: return sizeof(InitiateContact);
    case ChannelMessageType::request_offers: return sizeof(HeaderOnly);
    case ChannelMessageType::gpadl_header: return sizeof(GpadlHeader) + sizeof(GpaRange);
    case ChannelMessageType::gpadl_body: return sizeof(GpadlBody);
    case ChannelMessageType::gpadl_teardown: return sizeof(GpadlTeardown);
    case ChannelMessageType::open_channel: return offsetof(OpenChannel, user_data);
    case ChannelMessageType::close_channel: return sizeof(CloseChannel);
    case ChannelMessageType::relid_released: return sizeof(RelidReleased);
    case ChannelMessageType::unload: return sizeof(HeaderOnly);
    default: return std::nullopt;  // not a message the guest sends (or unknown)
  }
}

// One channel's timer. Its own (leaf) lock: devices set it from any
// thread, also after the server is gone.
class Timer final : public ChannelTimer {
 public:
  explicit Timer(const TimeSource* time) : time_(time) {}
  std::uint64_t now() const override { return time_ != nullptr ? time_->now() : 0; }
  void set(std::uint64_t due, std::uint64_t period) override {
    std::lock_guard lock(mutex_);
    due_ = due;
    period_ = period;
    armed_ = true;
  }
  void cancel() override {
    std::lock_guard lock(mutex_);
    armed_ = false;
  }
  // Due time while armed and not posted.
  std::optional<std::uint64_t> deadline() const {
    std::lock_guard lock(mutex_);
    if (!armed_ || posted_) return std::nullopt;
    return due_;
  }
  // Marks a due timer as posted; false when it is not due (or posted).
  bool mark_posted(std::uint64_t now) {
    std::lock_guard lock(mutex_);
    if (!armed_ || posted_ || due_ > now) return false;
    posted_ = true;
    return true;
  }
  // On the strand: true when on_timer should run now; moves a periodic
  // timer to its next due time after `now`, disarms a one-shot. `run`
  // false (the channel closed meanwhile): leaves it as it is.
  bool take_due(std::uint64_t now, bool run) {
    std::lock_guard lock(mutex_);
    posted_ = false;
    if (!run || !armed_ || due_ > now) return false;
    if (period_ == 0) {
      armed_ = false;
    } else {
      due_ += ((now - due_) / period_ + 1) * period_;
    }
    return true;
  }

 private:
  const TimeSource* time_;
  mutable std::mutex mutex_;
  bool armed_ = false;
  bool posted_ = false;
  std::uint64_t due_ = 0;
  std::uint64_t period_ = 0;
};

}  // namespace

struct VmbusServer::Impl {
  struct Channel;

  // Lets on_timer tasks still queued on a strand find out that the server
  // has gone.
  struct TimerGate {
    std::mutex mutex;
    Impl* server = nullptr;
  };

  struct Io final : ChannelIo {
    Impl* server = nullptr;
    Channel* channel = nullptr;
    std::uint32_t needed = 0;  // size of the last packet that did not fit
    SendStatus send(PacketType type, std::uint64_t transaction_id, std::span<const std::byte> payload,
                    std::uint16_t flags) override;
    std::uint32_t relid() const override;
    ChannelTimer& timer() override;
    void log(const std::string& line) override;
    void error(const std::string& line) override;
  };

  struct Channel {
    std::uint32_t relid = 0;
    std::uint32_t connection_id = 0;
    std::shared_ptr<VmbusDevice> device;
    DeviceIdentity identity;
    PortHandle event_port;
    bool offered = false;
    bool rescinded = false;
    bool open = false;
    bool broken = false;        // a ring was corrupt: the host stopped using it
    bool waiting_room = false;  // host set pending_send_size on the inbound ring
    std::uint32_t open_id = 0;
    std::uint32_t gpadl = 0;
    std::optional<GuestRing> outbound;  // guest -> host
    std::optional<GuestRing> inbound;   // host -> guest
    std::unique_ptr<GuestEventPort> signal;
    PortHandle monitor;  // registration of monitor id relid - 1, while offered with one
    std::uint32_t open_vp = 0;  // OPENCHANNEL's target VP: timers run on its strand
    std::shared_ptr<Timer> timer;
    Io io;
    std::uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  };

  struct ControlPort final : MessagePort {
    Impl* server;
    explicit ControlPort(Impl* s) : server(s) {}
    bool on_message(const GuestMessage& m) override { return server->on_message(m); }
  };
  struct ChannelPort final : EventPort {
    Impl* server;
    std::uint32_t relid;
    ChannelPort(Impl* s, std::uint32_t r) : server(s), relid(r) {}
    void on_event(const GuestEvent& e) override { server->on_channel_event(relid, e); }
  };

  Impl(Partition& p, ServerOptions o) : partition(p), options(std::move(o)) {
    if (options.max_waiting_replies == 0) options.max_waiting_replies = 1;
  }

  bool on_message(const GuestMessage& m);
  void handle(const GuestMessage& m, std::vector<PortHandle>& drop);
  void on_channel_event(std::uint32_t relid, const GuestEvent& e);

  void initiate_contact(const GuestMessage& m);
  void request_offers();
  void gpadl_header(std::span<const std::byte> p);
  void gpadl_body(std::span<const std::byte> p);
  void gpadl_teardown(std::span<const std::byte> p);
  void open_channel(std::span<const std::byte> p);
  void close_channel(std::span<const std::byte> p);
  void relid_released(std::span<const std::byte> p, std::vector<PortHandle>& drop);
  void unload(std::vector<PortHandle>& drop);
  void use_monitor_pages(const InitiateContact& c);
  std::optional<std::uint8_t> offer_monitor_id(Channel& c);
  void remove_monitor_pages();

  void close(Channel& c, const char* why);
  void process(Channel& c);
  void run_timer(std::uint32_t relid);
  Channel* find(std::uint32_t relid);
  template <typename T>
  void send(const T& msg) { send_to(target_vp, sint, bytes_of(msg)); }
  void send_to(std::uint32_t vp, std::uint8_t to_sint, std::span<const std::byte> payload);
  void log(const std::string& line) {
    if (options.log) options.log("vmbus: " + line);
  }
  void error(const std::string& line) {
    ++protocol_errors;
    log("error: " + line);
  }

  Partition& partition;
  ServerOptions options;
  std::shared_ptr<std::atomic<std::uint32_t>> waiting = std::make_shared<std::atomic<std::uint32_t>>(0);

  // Recursive: a monitor call made with it held may signal a channel inline.
  mutable std::recursive_mutex mutex;
  bool started = false;
  bool connected = false;
  std::uint32_t version = 0;
  std::uint32_t target_vp = 0;
  std::uint8_t sint = kVmbusSint;
  std::map<std::uint32_t, std::unique_ptr<Channel>> channels;
  std::map<std::uint32_t, Gpadl> gpadls;
  std::uint64_t protocol_errors = 0;
  std::vector<PortHandle> control_ports;
  std::optional<MonitorPageGpas> monitor_pages;  // handed to the monitor at contact
  bool remove_monitor_pages_after = false;        // set by UNLOAD: done outside the lock
  std::shared_ptr<TimerGate> gate = std::make_shared<TimerGate>();
};

// ---- sending ----

void VmbusServer::Impl::send_to(std::uint32_t vp, std::uint8_t to_sint, std::span<const std::byte> payload) {
  log("host -> vp" + std::to_string(vp) + " sint" + std::to_string(to_sint) + " " + describe_message(payload));
  waiting->fetch_add(1, std::memory_order_relaxed);
  // The counter outlives the server: completions may run after it is gone.
  partition.async_post_message(options.vtl, vp, to_sint, kSynicMessageTypeChannel, payload,
                               [w = waiting](boost::system::error_code) { w->fetch_sub(1, std::memory_order_relaxed); });
}

// ---- guest messages ----

bool VmbusServer::Impl::on_message(const GuestMessage& m) {
  std::vector<PortHandle> drop;
  {
    std::lock_guard lock(mutex);
    if (waiting->load(std::memory_order_relaxed) >= options.max_waiting_replies) {
      log("vp" + std::to_string(m.vp) + " conn=" + std::to_string(m.connection_id) + " -> host " +
          describe_message(m.payload) + " refused: INSUFFICIENT_BUFFERS (" +
          std::to_string(waiting->load()) + " replies waiting)");
      return false;
    }
    try {
      handle(m, drop);
    } catch (const std::exception& e) {
      // Only host-side failures (allocation, a device hook) get here.
      error(std::string("exception while handling ") + describe_message(m.payload) + ": " + e.what());
    }
  }
  drop.clear();  // outside the lock: waits for calls in flight into those ports
  remove_monitor_pages();
  return true;
}

// After the registrations are gone, so that draining the old page signals
// nobody; only the pages this server handed over.
void VmbusServer::Impl::remove_monitor_pages() {
  std::optional<MonitorPageGpas> gpas;
  {
    std::lock_guard lock(mutex);
    if (!remove_monitor_pages_after) return;
    remove_monitor_pages_after = false;
    gpas = std::exchange(monitor_pages, std::nullopt);
  }
  MonitorAccess* monitor = partition.monitor_support();
  if (gpas && monitor != nullptr && monitor->monitor_page(options.vtl) == gpas)
    static_cast<void>(monitor->set_monitor_page(options.vtl, std::nullopt));
}

void VmbusServer::Impl::use_monitor_pages(const InitiateContact& c) {
  MonitorAccess* monitor = partition.monitor_support();
  if (!options.use_monitor || monitor == nullptr || c.monitor_page1 == 0 || c.monitor_page2 == 0) return;
  const MonitorPageGpas gpas{c.monitor_page1, c.monitor_page2};
  if (const auto ec = monitor->set_monitor_page(options.vtl, gpas)) {
    // The guest still gets its connection; its channels signal by hypercall.
    error("monitor pages refused (" + ec.message() + "); offers carry no monitor id");
    return;
  }
  monitor_pages = gpas;
  remove_monitor_pages_after = false;
}

std::optional<std::uint8_t> VmbusServer::Impl::offer_monitor_id(Channel& c) {
  MonitorAccess* monitor = partition.monitor_support();
  if (!monitor_pages || monitor == nullptr || c.relid > kMonitorIds) return std::nullopt;
  const auto id = static_cast<std::uint8_t>(c.relid - 1);
  if (c.monitor) return id;  // offered again (a second REQUESTOFFERS)
  MonitorRegistration r;
  r.connection_id = c.connection_id;
  r.latency_100ns = options.monitor_latency_100ns;
  r.vp = target_vp;
  auto h = monitor->register_monitor(options.vtl, id, std::move(r));
  if (!h) {
    error("monitor id " + std::to_string(id) + " for relid " + std::to_string(c.relid) + ": " + h.error().message() +
          "; offered without it");
    return std::nullopt;
  }
  c.monitor = std::move(*h);
  return id;
}

void VmbusServer::Impl::handle(const GuestMessage& m, std::vector<PortHandle>& drop) {
  const std::span<const std::byte> p = m.payload;
  const std::string from = "vp" + std::to_string(m.vp) + " conn=" + std::to_string(m.connection_id) + " -> host ";
  if (m.message_type != kSynicMessageTypeChannel) {
    error(from + "SynIC message type " + std::to_string(m.message_type) + " is not a VMBus message; dropped");
    return;
  }
  log(from + describe_message(p));
  if (p.size() < sizeof(ChannelMessageHeader)) {
    error(from + "short payload (" + std::to_string(p.size()) + " bytes, need 8); dropped");
    return;
  }
  const std::uint32_t raw_type = read_as<ChannelMessageHeader>(p).message_type;
  const auto type = static_cast<ChannelMessageType>(raw_type);
  const std::string name(channel_message_name(raw_type));
  const auto need = guest_message_size(type);
  if (!need) {
    error(name + " (" + std::to_string(raw_type) + ") is not a message the host accepts; dropped");
    return;
  }
  if (p.size() < *need) {
    error(name + " short payload (" + std::to_string(p.size()) + " bytes, need " + std::to_string(*need) +
          "); dropped");
    return;
  }
  if (!connected && type != ChannelMessageType::initiate_contact && type != ChannelMessageType::unload) {
    error(name + " before INITIATE_CONTACT; dropped");
    return;
  }
  switch (type) {
    case ChannelMessageType::initiate_contact: initiate_contact(m); break;
    case ChannelMessageType::request_offers: request_offers(); break;
    case ChannelMessageType::gpadl_header: gpadl_header(p); break;
    case ChannelMessageType::gpadl_body: gpadl_body(p); break;
    case ChannelMessageType::gpadl_teardown: gpadl_teardown(p); break;
    case ChannelMessageType::open_channel: open_channel(p); break;
    case ChannelMessageType::close_channel: close_channel(p); break;
    case ChannelMessageType::relid_released: relid_released(p, drop); break;
    case ChannelMessageType::unload: unload(drop); break;
    default: break;  // guest_message_size() let only the above through
  }
}

void VmbusServer::Impl::initiate_contact(const GuestMessage& m) {
  const auto c = read_as<InitiateContact>(m.payload);
  const std::uint32_t v = c.version_requested;
  const bool v5 = v >= kVersionWin10V5;
  const bool vp_ok = c.target_vcpu < partition.vp_count();
  const std::uint8_t wanted_sint = v5 ? static_cast<std::uint8_t>(c.interrupt_page_or_sint & 0xFF) : kVmbusSint;
  std::string refusal;
  if (connected)
    refusal = "already connected (UNLOAD first)";
  else if (version_name(v) == "unknown")
    refusal = "version " + std::to_string(v >> 16) + "." + std::to_string(v & 0xFFFF) + " is not supported";
  else if (m.connection_id != (v5 ? kMessageConnectionIdV5 : kMessageConnectionId))
    refusal = "version " + std::string(version_name(v)) + " must be requested on connection " +
              std::to_string(v5 ? kMessageConnectionIdV5 : kMessageConnectionId);
  else if (!vp_ok)
    refusal = "target VP " + std::to_string(c.target_vcpu) + " does not exist";
  else if (wanted_sint >= kSintCount)
    refusal = "SINT " + std::to_string(wanted_sint) + " does not exist";

  auto r = message<VersionResponse>(ChannelMessageType::version_response);
  r.connection_state = kConnectionStateSuccessful;
  if (!refusal.empty()) {
    // A refused version is a normal step of negotiation, not an error,
    // unless the guest is already connected.
    if (connected)
      error("INITIATE_CONTACT refused: " + refusal);
    else
      log("INITIATE_CONTACT refused: " + refusal);
    r.version_supported = 0;
    send_to(vp_ok && !connected ? c.target_vcpu : (connected ? target_vp : m.vp), connected ? sint : kVmbusSint,
            bytes_of(r));
    return;
  }
  connected = true;
  version = v;
  target_vp = c.target_vcpu;
  sint = wanted_sint;
  r.version_supported = 1;
  r.message_connection_id = v5 ? kMessageConnectionIdV5 : 0;
  use_monitor_pages(c);
  log("connected: version " + std::string(version_name(v)) + ", messages to vp" + std::to_string(target_vp) +
      " sint" + std::to_string(sint) + (monitor_pages ? ", channels signal through monitor pages" : ""));
  send(r);
}

void VmbusServer::Impl::request_offers() {
  for (auto& [relid, c] : channels) {
    if (c->rescinded) continue;
    auto o = message<OfferChannel>(ChannelMessageType::offer_channel);
    o.offer.interface_type = c->identity.interface_id;
    o.offer.interface_instance = c->identity.instance_id;
    o.child_relid = relid;
    o.interrupt_flags = kOfferDedicatedInterrupt;
    o.connection_id = c->connection_id;
    if (const auto id = offer_monitor_id(*c)) {
      o.monitor_id = *id;
      o.monitor_flags = kOfferMonitorAllocated;
    }
    c->offered = true;
    send(o);
  }
  send(message<HeaderOnly>(ChannelMessageType::all_offers_delivered));
}

VmbusServer::Impl::Channel* VmbusServer::Impl::find(std::uint32_t relid) {
  auto it = channels.find(relid);
  return it == channels.end() ? nullptr : it->second.get();
}

void VmbusServer::Impl::gpadl_header(std::span<const std::byte> p) {
  const auto h = read_as<GpadlHeader>(p);
  const auto range = read_as<GpaRange>(p.subspan(sizeof h));
  auto reply = message<GpadlCreated>(ChannelMessageType::gpadl_created);
  reply.child_relid = h.child_relid;
  reply.gpadl = h.gpadl;
  reply.creation_status = kStatusUnsuccessful;
  const Channel* c = find(h.child_relid);
  const std::uint32_t pfns = h.range_buffer_length >= sizeof(GpaRange)
                                 ? (h.range_buffer_length - static_cast<std::uint32_t>(sizeof(GpaRange))) / 8
                                 : 0;
  const std::uint64_t spanned = (std::uint64_t{range.byte_offset} + range.byte_count + kRingPageSize - 1) / kRingPageSize;
  std::string why;
  if (c == nullptr || !c->offered || c->rescinded)
    why = "relid " + std::to_string(h.child_relid) + " is not an offered channel";
  else if (h.gpadl == 0 || gpadls.contains(h.gpadl))
    why = "GPADL id " + std::to_string(h.gpadl) + (h.gpadl == 0 ? " is reserved" : " is already in use");
  else if (h.range_count != 1)
    why = "range count " + std::to_string(h.range_count) + " (only single-range GPADLs are supported)";
  else if (range.byte_offset != 0 || range.byte_count == 0)
    why = "range byte_offset " + std::to_string(range.byte_offset) + " byte_count " +
          std::to_string(range.byte_count) + " (need offset 0, count > 0)";
  else if ((h.range_buffer_length - sizeof(GpaRange)) % 8 != 0 || pfns == 0 || pfns != spanned ||
           pfns > kMaxGpadlPfns)
    why = "range_buffer_length " + std::to_string(h.range_buffer_length) + " does not match " +
          std::to_string(spanned) + " pages";
  if (!why.empty()) {
    error("GPADL_HEADER refused: " + why);
    send(reply);
    return;
  }
  Gpadl g;
  g.id = h.gpadl;
  g.child_relid = h.child_relid;
  g.byte_count = range.byte_count;
  g.expected_pfns = pfns;
  const std::size_t here = (p.size() - sizeof h - sizeof range) / 8;
  const std::size_t take = std::min<std::size_t>(here, pfns);
  g.pfns.resize(take);
  if (take != 0) std::memcpy(g.pfns.data(), p.data() + sizeof h + sizeof range, take * 8);
  const bool done = g.complete();
  gpadls.emplace(g.id, std::move(g));
  if (done) {
    reply.creation_status = kStatusSuccess;
    send(reply);
  }
}

void VmbusServer::Impl::gpadl_body(std::span<const std::byte> p) {
  const auto b = read_as<GpadlBody>(p);
  auto it = gpadls.find(b.gpadl);
  if (it == gpadls.end() || it->second.complete()) {
    error("GPADL_BODY for GPADL " + std::to_string(b.gpadl) +
          (it == gpadls.end() ? " which no GPADL_HEADER started" : " which is already complete") + "; dropped");
    return;
  }
  Gpadl& g = it->second;
  const std::size_t here = (p.size() - sizeof b) / 8;
  const std::size_t take = std::min<std::size_t>(here, g.expected_pfns - g.pfns.size());
  if (here > take) error("GPADL_BODY carries " + std::to_string(here - take) + " page numbers too many; ignored");
  const std::size_t at = g.pfns.size();
  g.pfns.resize(at + take);
  if (take != 0) std::memcpy(g.pfns.data() + at, p.data() + sizeof b, take * 8);
  if (g.complete()) {
    auto reply = message<GpadlCreated>(ChannelMessageType::gpadl_created);
    reply.child_relid = g.child_relid;
    reply.gpadl = g.id;
    reply.creation_status = kStatusSuccess;
    send(reply);
  }
}

void VmbusServer::Impl::gpadl_teardown(std::span<const std::byte> p) {
  const auto t = read_as<GpadlTeardown>(p);
  auto it = gpadls.find(t.gpadl);
  if (it == gpadls.end()) {
    error("GPADL_TEARDOWN of unknown GPADL " + std::to_string(t.gpadl) + "; dropped");
    return;
  }
  if (it->second.in_use) {
    error("GPADL_TEARDOWN of GPADL " + std::to_string(t.gpadl) + " while its channel is open; dropped");
    return;
  }
  gpadls.erase(it);
  auto reply = message<GpadlTorndown>(ChannelMessageType::gpadl_torndown);
  reply.gpadl = t.gpadl;
  send(reply);
}

void VmbusServer::Impl::open_channel(std::span<const std::byte> p) {
  const auto o = read_as<OpenChannel>(p);
  auto reply = message<OpenChannelResult>(ChannelMessageType::open_channel_result);
  reply.child_relid = o.child_relid;
  reply.open_id = o.open_id;
  reply.status = kStatusUnsuccessful;
  Channel* c = find(o.child_relid);
  auto g = gpadls.find(o.ring_buffer_gpadl);
  std::string why;
  if (c == nullptr || !c->offered || c->rescinded)
    why = "relid " + std::to_string(o.child_relid) + " is not an offered channel";
  else if (c->open)
    why = "channel " + std::to_string(o.child_relid) + " is already open";
  else if (g == gpadls.end() || !g->second.complete())
    why = "GPADL " + std::to_string(o.ring_buffer_gpadl) + " does not exist or is incomplete";
  else if (g->second.in_use)
    why = "GPADL " + std::to_string(o.ring_buffer_gpadl) + " already holds an open channel's rings";
  else if (o.downstream_ring_page_offset < 2 || o.downstream_ring_page_offset + 2 > g->second.pfns.size())
    why = "downstream ring page " + std::to_string(o.downstream_ring_page_offset) + " leaves a ring without data pages";
  else if (o.target_vp >= partition.vp_count())
    why = "target VP " + std::to_string(o.target_vp) + " does not exist";
  if (!why.empty()) {
    error("OPENCHANNEL refused: " + why);
    send(reply);
    return;
  }
  const auto& pfns = g->second.pfns;
  const auto split = pfns.begin() + o.downstream_ring_page_offset;
  GuestRing out(partition.memory(), std::vector<std::uint64_t>(pfns.begin(), split));
  GuestRing in(partition.memory(), std::vector<std::uint64_t>(split, pfns.end()));
  std::uint32_t probe = 0;
  auto port = partition.new_guest_event_port(options.vtl, o.target_vp, sint, static_cast<std::uint16_t>(o.child_relid));
  if (!out.read_u32(kRingWriteIndexOffset, probe) || !in.read_u32(kRingWriteIndexOffset, probe) || !port) {
    error(std::string("OPENCHANNEL refused: ") +
          (port ? "a ring control page is not guest RAM" : "no event port: " + port.error().message()));
    send(reply);
    return;
  }
  c->outbound.emplace(std::move(out));
  c->inbound.emplace(std::move(in));
  c->signal = std::move(*port);
  c->open = true;
  c->broken = false;
  c->waiting_room = false;
  c->open_id = o.open_id;
  c->open_vp = o.target_vp;
  c->gpadl = o.ring_buffer_gpadl;
  g->second.in_use = true;
  reply.status = kStatusSuccess;
  log("channel " + std::to_string(c->relid) + " (" + c->identity.name + ") open: rings " +
      std::to_string(c->outbound->data_size()) + "+" + std::to_string(c->inbound->data_size()) +
      " bytes, signals on vp" + std::to_string(o.target_vp) + " sint" + std::to_string(sint) + " flag " +
      std::to_string(c->relid));
  send(reply);
  // After the result is queued, so that what the device sends at once
  // follows it.
  c->device->on_open(c->io);
}

void VmbusServer::Impl::close(Channel& c, const char* why) {
  if (!c.open) return;
  try {
    c.device->on_close();
  } catch (const std::exception& e) {
    error("device " + c.identity.name + " on_close threw: " + e.what());
  }
  c.open = false;
  c.outbound.reset();
  c.inbound.reset();
  c.signal.reset();
  if (auto g = gpadls.find(c.gpadl); g != gpadls.end()) g->second.in_use = false;
  log("channel " + std::to_string(c.relid) + " closed (" + why + "): " + std::to_string(c.packets_in) +
      " packets / " + std::to_string(c.bytes_in) + " bytes in, " + std::to_string(c.packets_out) + " packets / " +
      std::to_string(c.bytes_out) + " bytes out");
}

void VmbusServer::Impl::close_channel(std::span<const std::byte> p) {
  const auto m = read_as<CloseChannel>(p);
  Channel* c = find(m.child_relid);
  if (c == nullptr || !c->open) {
    error("CLOSECHANNEL of relid " + std::to_string(m.child_relid) + " which is not open; dropped");
    return;
  }
  close(*c, "CLOSECHANNEL");
}

void VmbusServer::Impl::relid_released(std::span<const std::byte> p, std::vector<PortHandle>& drop) {
  const auto m = read_as<RelidReleased>(p);
  auto it = channels.find(m.child_relid);
  if (it == channels.end() || !it->second->rescinded) {
    error("RELID_RELEASED of relid " + std::to_string(m.child_relid) + " which was not rescinded; dropped");
    return;
  }
  for (auto g = gpadls.begin(); g != gpadls.end();)
    g = g->second.child_relid == m.child_relid ? gpadls.erase(g) : std::next(g);
  drop.push_back(std::move(it->second->event_port));
  drop.push_back(std::move(it->second->monitor));
  channels.erase(it);
  log("relid " + std::to_string(m.child_relid) + " released");
}

void VmbusServer::Impl::unload(std::vector<PortHandle>& drop) {
  for (auto it = channels.begin(); it != channels.end();) {
    Channel& c = *it->second;
    close(c, "UNLOAD");
    c.offered = false;
    drop.push_back(std::move(c.monitor));
    if (c.rescinded) {
      drop.push_back(std::move(c.event_port));
      it = channels.erase(it);
    } else {
      ++it;
    }
  }
  gpadls.clear();
  if (monitor_pages) remove_monitor_pages_after = true;
  const bool was = connected;
  connected = false;
  version = 0;
  if (was) {
    send(message<HeaderOnly>(ChannelMessageType::unload_response));
  } else {
    send_to(0, kVmbusSint, bytes_of(message<HeaderOnly>(ChannelMessageType::unload_response)));
  }
  log("disconnected");
}

// ---- channels ----

std::uint32_t VmbusServer::Impl::Io::relid() const { return channel->relid; }
ChannelTimer& VmbusServer::Impl::Io::timer() { return *channel->timer; }
void VmbusServer::Impl::Io::log(const std::string& line) { server->log(line); }
void VmbusServer::Impl::Io::error(const std::string& line) { server->error(line); }

SendStatus VmbusServer::Impl::Io::send(PacketType type, std::uint64_t transaction_id,
                                       std::span<const std::byte> payload, std::uint16_t flags) {
  Channel& c = *channel;
  if (!c.open || c.broken || !c.inbound) return SendStatus::broken;
  PacketDescriptor d{};
  d.type = static_cast<std::uint16_t>(type);
  d.flags = flags;
  d.transaction_id = transaction_id;
  bool signal = false;
  switch (c.inbound->write(d, payload, signal)) {
    case RingStatus::ok:
      break;
    case RingStatus::full:
      needed = GuestRing::packet_size(sizeof d, payload.size());
      return SendStatus::full;
    case RingStatus::empty:
    case RingStatus::corrupt:
    default:
      c.broken = true;
      server->error("channel " + std::to_string(c.relid) + " inbound ring is corrupt; channel stopped");
      return SendStatus::broken;
  }
  ++c.packets_out;
  c.bytes_out += payload.size();
  if (signal) {
    const auto ec = c.signal->signal();
    if (ec && ec != make_error_code(Error::flag_already_set))
      server->error("channel " + std::to_string(c.relid) + " signal: " + ec.message());
  }
  return SendStatus::ok;
}

void VmbusServer::Impl::on_channel_event(std::uint32_t relid, const GuestEvent& e) {
  std::lock_guard lock(mutex);
  Channel* c = find(relid);
  if (c == nullptr || !c->open) {
    error("vp" + std::to_string(e.vp) + " signalled connection " + std::to_string(e.connection_id) +
          " of relid " + std::to_string(relid) + " which is not open; ignored");
    return;
  }
  if (c->broken) return;
  try {
    process(*c);
  } catch (const std::exception& ex) {
    c->broken = true;
    error("channel " + std::to_string(relid) + " stopped: " + ex.what());
  }
}

void VmbusServer::Impl::process(Channel& c) {
  if (c.waiting_room) {
    c.waiting_room = false;
    c.inbound->write_u32(kRingPendingSendSizeOffset, 0);
  }
  RingPacket packet;
  for (;;) {
    const RingStatus st = c.outbound->peek(packet);
    if (st == RingStatus::empty) break;
    if (st != RingStatus::ok) {
      c.broken = true;
      error("channel " + std::to_string(c.relid) + " outbound ring is corrupt (bad index or descriptor); channel stopped");
      return;
    }
    if (c.device->on_packet(c.io, packet) == PacketDisposition::retry_later) {
      if (c.broken) return;
      // Ask the guest to signal once this much room is free, then look
      // again in case it made room before it could see the request.
      c.inbound->write_u32(kRingPendingSendSizeOffset, c.io.needed);
      if (c.inbound->free_bytes() > c.io.needed) {
        c.inbound->write_u32(kRingPendingSendSizeOffset, 0);
        continue;
      }
      c.waiting_room = true;
      return;
    }
    std::uint32_t before = 0, after = 0;
    if (c.outbound->consume(packet, before, after) != RingStatus::ok) {
      c.broken = true;
      error("channel " + std::to_string(c.relid) + " outbound ring is corrupt; channel stopped");
      return;
    }
    ++c.packets_in;
    c.bytes_in += packet.payload().size();
    // The guest waits for room in its outbound ring: signal when it appears.
    std::uint32_t pending = 0;
    if (c.outbound->read_u32(kRingPendingSendSizeOffset, pending) && pending != 0 && before <= pending &&
        after > pending) {
      const auto ec = c.signal->signal();
      if (ec && ec != make_error_code(Error::flag_already_set))
        error("channel " + std::to_string(c.relid) + " signal: " + ec.message());
    }
  }
}

// On the channel's VP strand, after fire_due() posted it.
void VmbusServer::Impl::run_timer(std::uint32_t relid) {
  std::lock_guard lock(mutex);
  Channel* c = find(relid);
  if (c == nullptr || !c->timer->take_due(c->timer->now(), c->open && !c->broken)) return;
  try {
    c->device->on_timer(c->io);
  } catch (const std::exception& ex) {
    c->broken = true;
    error("channel " + std::to_string(relid) + " stopped: on_timer threw: " + ex.what());
  }
}

// ---- public face ----

VmbusServer::VmbusServer(Partition& partition, ServerOptions options)
    : impl_(std::make_unique<Impl>(partition, std::move(options))) {
  impl_->gate->server = impl_.get();
}

VmbusServer::~VmbusServer() {
  {
    // Timer tasks still queued find the server gone; one running finishes first.
    std::lock_guard gate(impl_->gate->mutex);
    impl_->gate->server = nullptr;
  }
  // Unregister first (waits for calls in flight), then close the channels.
  std::vector<PortHandle> ports;
  {
    std::lock_guard lock(impl_->mutex);
    ports = std::move(impl_->control_ports);
    for (auto& [relid, c] : impl_->channels) {
      ports.push_back(std::move(c->event_port));
      ports.push_back(std::move(c->monitor));
    }
    impl_->remove_monitor_pages_after = impl_->monitor_pages.has_value();
  }
  ports.clear();
  impl_->remove_monitor_pages();
  std::lock_guard lock(impl_->mutex);
  for (auto& [relid, c] : impl_->channels) impl_->close(*c, "host shutdown");
}

std::uint32_t VmbusServer::add_device(std::shared_ptr<VmbusDevice> device) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started || !device) return 0;
  const std::uint32_t relid = static_cast<std::uint32_t>(impl_->channels.size()) + 1;
  auto c = std::make_unique<Impl::Channel>();
  c->relid = relid;
  c->connection_id = impl_->options.channel_connection_id_base + relid;
  c->identity = device->identity();
  c->device = std::move(device);
  c->io.server = impl_.get();
  c->io.channel = c.get();
  c->timer = std::make_shared<Timer>(impl_->options.time);
  c->device->on_attach(c->timer);
  impl_->channels.emplace(relid, std::move(c));
  return relid;
}

boost::system::error_code VmbusServer::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started) return {};
  Partition& p = impl_->partition;
  const Vtl vtl = impl_->options.vtl;
  for (std::uint32_t id : {kMessageConnectionId, kMessageConnectionIdV5}) {
    auto h = p.add_message_port(id, vtl, std::make_shared<Impl::ControlPort>(impl_.get()));
    if (!h) return h.error();
    impl_->control_ports.push_back(std::move(*h));
  }
  for (auto& [relid, c] : impl_->channels) {
    auto h = p.add_event_port(c->connection_id, vtl, std::make_shared<Impl::ChannelPort>(impl_.get(), relid));
    if (!h) return h.error();
    c->event_port = std::move(*h);
  }
  impl_->started = true;
  impl_->log("host started: " + std::to_string(impl_->channels.size()) + " device(s), messages on connections 1 and 4");
  return {};
}

bool VmbusServer::rescind(std::uint32_t relid) {
  std::lock_guard lock(impl_->mutex);
  Impl::Channel* c = impl_->find(relid);
  if (c == nullptr || c->rescinded || !c->offered || !impl_->connected) return false;
  impl_->close(*c, "rescinded");
  c->rescinded = true;
  auto m = message<RescindChannelOffer>(ChannelMessageType::rescind_channel_offer);
  m.child_relid = relid;
  impl_->send(m);
  return true;
}

std::optional<std::uint64_t> VmbusServer::next_deadline() const {
  std::lock_guard lock(impl_->mutex);
  std::optional<std::uint64_t> earliest;
  if (impl_->options.time == nullptr) return earliest;
  for (const auto& [relid, c] : impl_->channels) {
    if (!c->open || c->broken) continue;
    if (const auto d = c->timer->deadline(); d && (!earliest || *d < *earliest)) earliest = d;
  }
  return earliest;
}

void VmbusServer::fire_due() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->options.time == nullptr) return;
  const std::uint64_t now = impl_->options.time->now();
  for (const auto& [relid, c] : impl_->channels) {
    if (!c->open || c->broken || !c->timer->mark_posted(now)) continue;
    boost::asio::post(impl_->partition.vp(c->open_vp).strand(), [gate = impl_->gate, id = relid] {
      std::lock_guard g(gate->mutex);
      if (gate->server != nullptr) gate->server->run_timer(id);
    });
  }
}

ServerStatus VmbusServer::status() const {
  std::lock_guard lock(impl_->mutex);
  ServerStatus s;
  s.connected = impl_->connected;
  s.version = impl_->version;
  s.target_vp = impl_->target_vp;
  s.sint = impl_->sint;
  s.gpadls = impl_->gpadls.size();
  s.channels = impl_->channels.size();
  s.protocol_errors = impl_->protocol_errors;
  s.monitor = impl_->monitor_pages.has_value();
  for (const auto& [relid, c] : impl_->channels) {
    s.open_channels += c->open ? 1 : 0;
    s.packets_in += c->packets_in;
    s.packets_out += c->packets_out;
    s.monitor_ids += c->monitor ? 1 : 0;
  }
  s.waiting_replies = impl_->waiting->load();
  return s;
}

std::vector<ChannelInfo> VmbusServer::channels() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<ChannelInfo> out;
  auto ring = [](const std::optional<GuestRing>& r) -> std::optional<ChannelInfo::Ring> {
    ChannelInfo::Ring info;
    if (!r || !r->indexes(info.write_index, info.read_index)) return std::nullopt;
    info.data_size = r->data_size();
    return info;
  };
  for (const auto& [relid, c] : impl_->channels) {
    ChannelInfo info;
    info.relid = relid;
    info.connection_id = c->connection_id;
    info.offered = c->offered;
    info.open = c->open;
    info.rescinded = c->rescinded;
    info.broken = c->broken;
    info.open_vp = c->open_vp;
    info.gpadl = c->gpadl;
    if (c->open) {
      info.outbound = ring(c->outbound);
      info.inbound = ring(c->inbound);
    }
    info.packets_in = c->packets_in;
    info.packets_out = c->packets_out;
    out.push_back(info);
  }
  return out;
}

std::uint32_t VmbusServer::channel_connection_id(std::uint32_t relid) const {
  return impl_->options.channel_connection_id_base + relid;
}

}  // namespace softsynic::vmbus
