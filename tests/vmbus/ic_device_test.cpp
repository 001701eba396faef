// Integration components on the VMBus host: heartbeat, shutdown and time
// sync offered next to the echo device, opened by a test guest that
// answers IC messages the way Linux's hv_utils does (in place, same
// length, response flags), with reference time moved by hand and the host
// timers fired through VmbusServer::next_deadline()/fire_due(). Also what
// a misbehaving guest gets: protocol errors, never a crash.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "devices/vmbus/heartbeat_device.h"
#include "devices/vmbus/shutdown_device.h"
#include "devices/vmbus/timesync_device.h"
#include "tests/vmbus/vmbus_harness.h"

using namespace softsynic;
using namespace softsynic::vmbus;
using softsynic::vmbus::test::Harness;

namespace {

constexpr std::uint64_t kSecond = 10'000'000;
constexpr std::uint32_t kRingPages = 4;  // each direction, control page included

template <typename T>
T at(const std::vector<std::byte>& b, std::size_t offset) {
  T v{};
  if (offset + sizeof v <= b.size()) std::memcpy(&v, b.data() + offset, sizeof v);
  return v;
}
template <typename T>
void put(std::vector<std::byte>& b, std::size_t offset, T v) {
  if (offset + sizeof v <= b.size()) std::memcpy(b.data() + offset, &v, sizeof v);
}

// The guest side of one IC, as Linux 6.1's hv_utils answers: negotiate by
// its own preference order, heartbeat with sequence + 1, shutdown and time
// sync with S_OK; always in place with flags transaction | response.
struct GuestIc {
  std::vector<IcVersion> frameworks{{3, 0}, {1, 0}};
  std::vector<IcVersion> services;

  std::vector<std::byte> answer(std::vector<std::byte> b) const {
    if (b.size() < 28) return b;
    switch (at<std::uint16_t>(b, 12)) {
      case 0: negotiate(b); break;
      case 1: put<std::uint64_t>(b, 28, at<std::uint64_t>(b, 28) + 1); break;
      default: put<std::uint32_t>(b, 20, 0); break;
    }
    put<std::uint8_t>(b, 25, 0x1 | 0x4);
    return b;
  }
  void negotiate(std::vector<std::byte>& b) const {
    const std::size_t nf = at<std::uint16_t>(b, 28), ns = at<std::uint16_t>(b, 30);
    const auto offered = [&](IcVersion v, std::size_t from, std::size_t count) {
      for (std::size_t i = from; i < from + count; ++i)
        if (at<IcVersion>(b, 36 + 4 * i) == v) return true;
      return false;
    };
    std::optional<IcVersion> fw, sv;
    for (const IcVersion v : frameworks)
      if (!fw && offered(v, 0, nf)) fw = v;
    for (const IcVersion v : services)
      if (!sv && offered(v, nf, ns)) sv = v;
    const bool ok = fw && sv;
    put<std::uint16_t>(b, 28, ok ? 1 : 0);
    put<std::uint16_t>(b, 30, ok ? 1 : 0);
    put<IcVersion>(b, 36, fw.value_or(IcVersion{}));
    put<IcVersion>(b, 40, sv.value_or(IcVersion{}));
  }
};

const GuestIc kLinuxHeartbeat{{{3, 0}, {1, 0}}, {{3, 0}, {1, 0}}};
const GuestIc kLinuxShutdown{{{3, 0}, {1, 0}}, {{3, 2}, {3, 1}, {3, 0}, {1, 0}}};
const GuestIc kLinuxTimeSync{{{3, 0}, {1, 0}}, {{4, 0}, {3, 0}, {1, 0}}};

struct Channel {
  std::uint32_t relid = 0;
  Harness::Ring out;
  Harness::Ring in;
  GuestIc ic;
};

struct IcBus {
  Harness h;
  std::shared_ptr<HeartbeatDevice> heartbeat = std::make_shared<HeartbeatDevice>();
  std::shared_ptr<ShutdownDevice> shutdown = std::make_shared<ShutdownDevice>();
  std::shared_ptr<TimeSyncDevice> timesync = std::make_shared<TimeSyncDevice>();
  std::uint32_t heartbeat_relid = 0, shutdown_relid = 0, timesync_relid = 0;

  IcBus() {
    heartbeat_relid = h.server->add_device(heartbeat);
    shutdown_relid = h.server->add_device(shutdown);
    timesync_relid = h.server->add_device(timesync);
    REQUIRE(h.server->start() == boost::system::error_code{});
    REQUIRE(h.connect()->version_supported == 1);
    h.post(test::make<HeaderOnly>(ChannelMessageType::request_offers));
    REQUIRE(h.take_all().size() == 5);  // echo, three ICs, ALLOFFERS_DELIVERED
  }

  // GPADL and OPENCHANNEL for `relid`: rings of kRingPages each.
  Channel open(std::uint32_t relid, GuestIc ic, std::uint32_t target_vp = 0) {
    const std::uint64_t pfn = (test::kPool >> 12) + relid * 2 * kRingPages;
    for (const auto& m : h.gpadl_messages(relid, pfn, 2 * kRingPages, relid)) h.post_raw(m);
    REQUIRE(h.reply<GpadlCreated>(ChannelMessageType::gpadl_created)->creation_status == kStatusSuccess);
    auto o = test::make<OpenChannel>(ChannelMessageType::open_channel);
    o.child_relid = relid;
    o.open_id = 1;
    o.ring_buffer_gpadl = relid;
    o.downstream_ring_page_offset = kRingPages;
    o.target_vp = target_vp;
    h.post(o);
    REQUIRE(h.reply<OpenChannelResult>(ChannelMessageType::open_channel_result)->status == kStatusSuccess);
    return Channel{relid, h.outbound_ring(pfn, kRingPages), h.inbound_ring(pfn, kRingPages, kRingPages), ic};
  }
  void close(const Channel& c) {
    auto m = test::make<CloseChannel>(ChannelMessageType::close_channel);
    m.child_relid = c.relid;
    h.post(m);
    auto t = test::make<GpadlTeardown>(ChannelMessageType::gpadl_teardown);
    t.gpadl = c.relid;
    h.post(t);
    REQUIRE(h.reply<GpadlTorndown>(ChannelMessageType::gpadl_torndown));
  }
  // Everything the host wrote to the guest since the last call, in order.
  std::vector<Harness::Ring::Packet> requests(Channel& c) {
    std::vector<Harness::Ring::Packet> all;
    while (auto p = c.in.read()) all.push_back(*p);
    return all;
  }
  // Guest writes `payload` as the answer to `transaction` and signals.
  void write(Channel& c, const std::vector<std::byte>& payload, std::uint64_t transaction,
             PacketType type = PacketType::data_in_band) {
    REQUIRE(c.out.write(payload, transaction, nullptr, type));
    h.partition->guest_signal_event(0, 0, h.server->channel_connection_id(c.relid), 0);
    h.run();
  }
  // The guest answers everything waiting; returns what it answered.
  std::vector<Harness::Ring::Packet> serve(Channel& c) {
    auto all = requests(c);
    for (const auto& p : all) write(c, c.ic.answer(p.payload), p.d.transaction_id);
    return all;
  }
  // A heartbeat channel negotiated with a Linux guest: its first request
  // (seq 1, due at 1 s), not yet answered.
  Harness::Ring::Packet first_beat(Channel& c) {
    serve(c);
    advance_to(kSecond);
    auto sent = requests(c);
    REQUIRE(sent.size() == 1);
    return sent[0];
  }
  // Reference time moves to `t`; due timers run.
  void advance_to(std::uint64_t t) {
    h.clock.set(t);
    h.server->fire_due();
    h.run();
  }
  std::size_t count_logged(const std::string& needle) const {
    return static_cast<std::size_t>(
        std::count_if(h.log.begin(), h.log.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; }));
  }
};

}  // namespace

TEST_CASE("ic offers: heartbeat, shutdown and time sync are offered with their class and instance GUIDs") {
  Harness h;
  h.server->add_device(std::make_shared<HeartbeatDevice>());
  h.server->add_device(std::make_shared<ShutdownDevice>());
  h.server->add_device(std::make_shared<TimeSyncDevice>());
  REQUIRE(h.server->start() == boost::system::error_code{});
  REQUIRE(h.connect());
  h.post(test::make<HeaderOnly>(ChannelMessageType::request_offers));
  const auto all = h.take_all();
  REQUIRE(all.size() == 5);
  const Guid interfaces[] = {kHeartbeatInterfaceId, kShutdownInterfaceId, kTimeSyncInterfaceId};
  const Guid instances[] = {kHeartbeatInstanceId, kShutdownInstanceId, kTimeSyncInstanceId};
  for (int i = 0; i < 3; ++i) {
    const auto o = test::parse<OfferChannel>(all[static_cast<std::size_t>(i) + 1]);
    CHECK(o.offer.interface_type == interfaces[i]);
    CHECK(o.offer.interface_instance == instances[i]);
    CHECK(o.child_relid == static_cast<std::uint32_t>(i) + 2);
  }
}

TEST_CASE("heartbeat: negotiates 3.0/3.0 with a Linux guest, then one request per second, each answered with seq + 1") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
  const auto negotiate = bus.serve(c);
  REQUIRE(negotiate.size() == 1);
  CHECK(at<std::uint16_t>(negotiate[0].payload, 12) == 0);  // NEGOTIATE first
  const auto line = [&](const std::string& needle) {
    return std::find_if(bus.h.log.begin(), bus.h.log.end(),
                        [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  };
  CHECK(line("OPENCHANNEL_RESULT relid=2") < line("IC NEGOTIATE request"));  // the open result goes first
  REQUIRE(bus.heartbeat->negotiated());
  CHECK(*bus.heartbeat->negotiated() == IcVersions{{3, 0}, {3, 0}});
  CHECK(bus.h.logged("vmbus: heartbeat: negotiated framework 3.0, service 3.0"));
  CHECK(bus.h.server->next_deadline() == kSecond);

  bus.advance_to(kSecond - 1);
  CHECK(bus.requests(c).empty());  // not due yet
  for (std::uint64_t n = 1; n <= 12; ++n) {
    bus.advance_to(n * kSecond);
    const auto sent = bus.serve(c);
    REQUIRE(sent.size() == 1);
    CHECK(at<std::uint16_t>(sent[0].payload, 12) == 1);
    CHECK(at<std::uint64_t>(sent[0].payload, 28) == n);
    CHECK(at<IcVersion>(sent[0].payload, 14) == IcVersion{3, 0});
    CHECK(bus.heartbeat->last_answered() == n);
  }
  CHECK(bus.heartbeat->answered() == 12);
  CHECK(bus.heartbeat->missed() == 0);
  CHECK(bus.h.logged("vmbus: heartbeat: seq 1 answered"));
  CHECK(bus.h.logged("vmbus: heartbeat: seq 12 answered"));
  CHECK(bus.h.logged("vmbus: host -> channel 2 (heartbeat) IC HEARTBEAT request"));
  CHECK(bus.h.logged("vmbus: channel 2 (heartbeat) -> host IC HEARTBEAT response"));
  CHECK(bus.h.server->status().protocol_errors == 0);
}

TEST_CASE("heartbeat: a host that was late sends one request, not one per period it missed") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
  bus.serve(c);
  bus.advance_to(5 * kSecond + 3);
  CHECK(bus.serve(c).size() == 1);
  CHECK(bus.h.server->next_deadline() == 6 * kSecond);
}

TEST_CASE("heartbeat: a guest that knows only framework and service 1.0 gets 1.0/1.0 and heartbeats") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, GuestIc{{{1, 0}}, {{1, 0}}});
  bus.serve(c);
  CHECK(*bus.heartbeat->negotiated() == IcVersions{{1, 0}, {1, 0}});
  bus.advance_to(kSecond);
  const auto sent = bus.serve(c);
  REQUIRE(sent.size() == 1);
  CHECK(at<IcVersion>(sent[0].payload, 8) == IcVersion{1, 0});
  CHECK(bus.heartbeat->answered() == 1);
}

TEST_CASE("heartbeat: a request still unanswered at the next beat is counted missed, and beats go on") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
  bus.first_beat(c);  // the guest does not answer seq 1
  bus.advance_to(2 * kSecond);
  CHECK(bus.heartbeat->missed() == 1);
  CHECK(bus.h.logged("vmbus: heartbeat: seq 1 unanswered"));
  const auto sent = bus.serve(c);
  REQUIRE(sent.size() == 1);
  CHECK(at<std::uint64_t>(sent[0].payload, 28) == 2);
  CHECK(bus.heartbeat->answered() == 1);
}

TEST_CASE("heartbeat: a wrong sequence number in the answer is a protocol error, not an answer") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
  const auto beat = bus.first_beat(c);
  auto answer = c.ic.answer(beat.payload);
  put<std::uint64_t>(answer, 28, 7);
  bus.write(c, answer, beat.d.transaction_id);
  CHECK(bus.heartbeat->answered() == 0);
  CHECK(bus.heartbeat->guest_errors() == 1);
  CHECK(bus.h.logged("vmbus: error: heartbeat: seq 1 answered with 7"));
  CHECK(bus.h.server->status().protocol_errors == 1);
}

TEST_CASE("ic negotiation: no common version leaves the IC idle; a version never offered is a protocol error") {
  IcBus bus;
  SUBCASE("the guest knows none of the offered versions") {
    auto c = bus.open(bus.heartbeat_relid, GuestIc{{{3, 0}}, {{9, 0}}});
    bus.serve(c);
    CHECK_FALSE(bus.heartbeat->negotiated());
    CHECK(bus.h.logged("vmbus: heartbeat: the guest knows none of the offered versions"));
    CHECK(bus.h.server->status().protocol_errors == 0);
  }
  SUBCASE("the guest claims a version the host did not offer") {
    auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
    auto req = bus.requests(c);
    REQUIRE(req.size() == 1);
    auto answer = c.ic.answer(req[0].payload);
    put<IcVersion>(answer, 40, IcVersion{2, 0});
    bus.write(c, answer, req[0].d.transaction_id);
    CHECK_FALSE(bus.heartbeat->negotiated());
    CHECK(bus.h.logged("vmbus: error: heartbeat: negotiation failed: guest picked framework 3.0 service 2.0"));
  }
  CHECK_FALSE(bus.h.server->next_deadline());
  bus.advance_to(10 * kSecond);
  CHECK(bus.heartbeat->answered() == 0);
}

TEST_CASE("ic bad guest input: short packets, requests, unknown types, strangers' transactions are dropped and counted") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
  const auto beat = bus.first_beat(c);
  const std::uint64_t tid = beat.d.transaction_id;
  const auto good = c.ic.answer(beat.payload);

  bus.write(c, std::vector<std::byte>(12), tid);  // shorter than the headers
  CHECK(bus.h.logged("vmbus: error: heartbeat: IC message of 16 bytes is shorter than its headers (28); dropped"));
  auto request = good;
  put<std::uint8_t>(request, 25, 0x1 | 0x2);  // a request, not a response
  bus.write(c, request, tid);
  CHECK(bus.h.logged("is not a response"));
  bus.write(c, good, tid + 100);  // answer to a transaction never sent
  CHECK(bus.h.logged("answer to transaction " + std::to_string(tid + 100) + ", which is not an outstanding request"));
  bus.write(c, good, tid, PacketType::completion);
  CHECK(bus.h.logged("packet type 11 is not an in-band IC message"));
  auto unknown = good;
  put<std::uint16_t>(unknown, 12, 9);  // unknown type, right transaction: the request is spent
  bus.write(c, unknown, tid);
  CHECK(bus.h.logged("UNKNOWN (9) answer to a HEARTBEAT request"));
  CHECK(bus.heartbeat->guest_errors() == 5);
  CHECK(bus.h.server->status().protocol_errors == 5);
  CHECK(bus.h.server->status().open_channels == 1);

  // The channel still works: the next beat is sent and answered.
  bus.advance_to(2 * kSecond);
  CHECK(bus.serve(c).size() == 1);
  CHECK(bus.heartbeat->answered() == 1);
}

TEST_CASE("ic: an answer before negotiation, or a short heartbeat answer, is refused") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
  auto req = bus.requests(c);
  REQUIRE(req.size() == 1);
  auto wrong = c.ic.answer(req[0].payload);
  put<std::uint16_t>(wrong, 12, 1);  // HEARTBEAT answer to the NEGOTIATE request
  bus.write(c, wrong, req[0].d.transaction_id);
  CHECK(bus.h.logged("HEARTBEAT (1) answer to a NEGOTIATE request"));
  CHECK_FALSE(bus.heartbeat->negotiated());
  bus.close(c);
  c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);  // reopening negotiates again
  bus.serve(c);
  REQUIRE(bus.heartbeat->negotiated());
  bus.advance_to(kSecond);
  req = bus.requests(c);
  REQUIRE(req.size() == 1);
  auto shorter = c.ic.answer(req[0].payload);
  shorter.resize(32);
  bus.write(c, shorter, req[0].d.transaction_id);
  CHECK(bus.h.logged("answer to seq 1 has no sequence number"));
}

TEST_CASE("ic timers: a closed channel's timer does not fire; reopening negotiates and starts over") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
  bus.serve(c);
  bus.close(c);
  CHECK_FALSE(bus.heartbeat->negotiated());
  CHECK_FALSE(bus.h.server->next_deadline());
  bus.advance_to(3 * kSecond);
  c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
  CHECK(bus.serve(c).size() == 1);  // a new negotiation, no heartbeat
  CHECK(bus.h.server->next_deadline() == 4 * kSecond);
}

TEST_CASE("ic timers: on_timer runs on the strand of the VP the guest opened the channel on") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat, /*target_vp=*/1);
  bus.serve(c);
  bus.advance_to(kSecond);
  CHECK(bus.serve(c).size() == 1);
  CHECK(bus.heartbeat->answered() == 1);
}

TEST_CASE("ic timers: destroying the server with an on_timer still queued is safe") {
  IcBus bus;
  auto c = bus.open(bus.heartbeat_relid, kLinuxHeartbeat);
  bus.serve(c);
  bus.h.clock.set(kSecond);
  bus.h.server->fire_due();  // posted, not run
  CHECK_FALSE(bus.h.server->next_deadline());
  bus.h.server.reset();
  bus.h.run();
  CHECK(bus.heartbeat->answered() == 0);
}

TEST_CASE("shutdown: a request made before the guest connects goes out at its time, power off forced") {
  IcBus bus;
  bus.shutdown->request_shutdown(5 * kSecond);
  CHECK(bus.shutdown->requested());
  auto c = bus.open(bus.shutdown_relid, kLinuxShutdown);
  bus.serve(c);
  CHECK(*bus.shutdown->negotiated() == IcVersions{{3, 0}, {3, 2}});
  bus.advance_to(4 * kSecond);
  CHECK(bus.requests(c).empty());
  bus.advance_to(5 * kSecond);
  const auto sent = bus.serve(c);
  REQUIRE(sent.size() == 1);
  const auto& p = sent[0].payload;
  CHECK(p.size() >= 28 + 2060);  // Linux refuses a shorter one
  CHECK(at<std::uint16_t>(p, 12) == 3);
  CHECK(at<std::uint32_t>(p, 28 + 8) == kShutdownFlagForce);
  CHECK(bus.shutdown->sent());
  CHECK(bus.shutdown->guest_status() == kIcStatusOk);
  CHECK(bus.h.logged("vmbus: shutdown: guest answered 0x0(S_OK): it is shutting down"));
  CHECK(bus.h.logged("IC SHUTDOWN request tid=2 fw=3.0 msg=3.2 flags=0x1(power off, force)"));
  bus.advance_to(60 * kSecond);
  CHECK(bus.requests(c).empty());  // once
}

TEST_CASE("shutdown: a request from the host while the guest runs goes out at once; a refusal is logged") {
  IcBus bus;
  auto c = bus.open(bus.shutdown_relid, kLinuxShutdown);
  bus.serve(c);
  bus.advance_to(2 * kSecond);
  CHECK(bus.requests(c).empty());
  bus.shutdown->request_shutdown();
  bus.advance_to(2 * kSecond);
  auto req = bus.requests(c);
  REQUIRE(req.size() == 1);
  auto answer = c.ic.answer(req[0].payload);
  put<std::uint32_t>(answer, 20, kIcStatusFail);
  bus.write(c, answer, req[0].d.transaction_id);
  CHECK(bus.shutdown->guest_status() == kIcStatusFail);
  CHECK(bus.h.logged("vmbus: shutdown: guest answered 0x80004005(E_FAIL): request refused"));
}

TEST_CASE("time sync: 4.0 with a Linux guest; the first sample syncs, later ones are samples with the reference time") {
  IcBus bus;
  bus.advance_to(3 * kSecond);
  auto c = bus.open(bus.timesync_relid, kLinuxTimeSync);
  bus.serve(c);
  CHECK(*bus.timesync->negotiated() == IcVersions{{3, 0}, {4, 0}});
  bus.advance_to(3 * kSecond);
  auto first = bus.serve(c);
  REQUIRE(first.size() == 1);
  CHECK(at<std::uint16_t>(first[0].payload, 12) == 4);
  CHECK(at<std::uint64_t>(first[0].payload, 28) == kParentTime2024 + 3 * kSecond);
  CHECK(at<std::uint64_t>(first[0].payload, 36) == 3 * kSecond);
  CHECK(at<std::uint8_t>(first[0].payload, 44) == kTimeSyncFlagSync);
  bus.advance_to(8 * kSecond);
  auto second = bus.serve(c);
  REQUIRE(second.size() == 1);
  CHECK(at<std::uint64_t>(second[0].payload, 36) == 8 * kSecond);
  CHECK(at<std::uint8_t>(second[0].payload, 44) == kTimeSyncFlagSample);
  CHECK(bus.timesync->samples_sent() == 2);
  CHECK(bus.timesync->samples_answered() == 2);
  CHECK(bus.h.logged("flags=0x1(sync)"));
}

TEST_CASE("time sync: a guest that stops at 3.0 gets the older sample layout") {
  IcBus bus;
  auto c = bus.open(bus.timesync_relid, GuestIc{{{3, 0}}, {{3, 0}}});
  bus.serve(c);
  bus.advance_to(0);
  auto first = bus.serve(c);
  REQUIRE(first.size() == 1);
  CHECK(first[0].payload.size() >= 28 + 25);
  CHECK(at<std::uint64_t>(first[0].payload, 28) == kParentTime2024);
  CHECK(at<std::uint8_t>(first[0].payload, 28 + 24) == kTimeSyncFlagSync);
}

TEST_CASE("time sync: the wall-clock anchor puts reference time zero in the past, after 2024") {
  const std::uint64_t anchor = wall_clock_parent_time_at_zero(100 * kSecond);
  CHECK(anchor > kParentTime2024);
  CHECK(anchor + 100 * kSecond > anchor);
}
