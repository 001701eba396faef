// VMBus control plane: version negotiation, offers, GPADLs, open/close,
// rescind, unload, the answers to bad messages, and backpressure on the
// control connection.
#include <doctest/doctest.h>

#include "devices/vmbus/message_text.h"
#include "tests/vmbus/vmbus_harness.h"

using namespace softsynic;
using namespace softsynic::vmbus;
using softsynic::vmbus::test::Harness;
using softsynic::vmbus::test::make;
using softsynic::vmbus::test::to_bytes;
using softsynic::vmbus::test::type_of;
using softsynic::vmbus::test::parse;

namespace {
constexpr std::uint64_t kPfn = test::kPool >> 12;
std::uint32_t type(ChannelMessageType t) { return static_cast<std::uint32_t>(t); }
}  // namespace

TEST_CASE("contact: every known version is accepted on its connection, with the message connection from 5.0") {
  for (const auto& v : kKnownVersions) {
    CAPTURE(v.name);
    Harness h;
    REQUIRE_FALSE(h.server->start());
    auto r = h.connect(v.version);
    REQUIRE(r);
    CHECK(r->version_supported == 1);
    CHECK(r->connection_state == kConnectionStateSuccessful);
    CHECK(r->message_connection_id == (v.version >= kVersionWin10V5 ? kMessageConnectionIdV5 : 0u));
    CHECK(h.server->status().connected);
    CHECK(h.server->status().version == v.version);
    CHECK(h.server->status().protocol_errors == 0);
  }
}

TEST_CASE("contact: a guest walking down from an unknown newer version settles on 5.3") {
  Harness h;
  REQUIRE_FALSE(h.server->start());
  for (std::uint32_t v : {make_version(7, 0), make_version(6, 0), make_version(5, 4)}) {
    auto r = h.connect(v);
    REQUIRE(r);
    CHECK(r->version_supported == 0);
    CHECK_FALSE(h.server->status().connected);
  }
  CHECK(h.logged("INITIATE_CONTACT refused: version 6.0 is not supported"));
  auto r = h.connect(kVersionWin10V5_3);
  REQUIRE(r);
  CHECK(r->version_supported == 1);
}

TEST_CASE("contact: versions with no match are refused, not errors: zero, minor of a known major, between majors") {
  for (std::uint32_t v : {0u, make_version(0, 12), make_version(1, 0), make_version(2, 0), make_version(4, 2)}) {
    CAPTURE(v);
    Harness h;
    REQUIRE_FALSE(h.server->start());
    h.post(h.contact(v), kMessageConnectionId);
    auto r = h.reply<VersionResponse>(ChannelMessageType::version_response);
    REQUIRE(r);
    CHECK(r->version_supported == 0);
    CHECK(h.server->status().protocol_errors == 0);
  }
}

TEST_CASE("contact: the connection must match the version (1 below 5.0, 4 from 5.0)") {
  Harness h;
  REQUIRE_FALSE(h.server->start());
  h.post(h.contact(kVersionWin10V5_3), kMessageConnectionId);
  auto r = h.reply<VersionResponse>(ChannelMessageType::version_response);
  REQUIRE(r);
  CHECK(r->version_supported == 0);
  h.post(h.contact(kVersionWin10), kMessageConnectionIdV5);
  r = h.reply<VersionResponse>(ChannelMessageType::version_response);
  REQUIRE(r);
  CHECK(r->version_supported == 0);
  CHECK(h.logged("must be requested on connection 4"));
}

TEST_CASE("contact: replies go to the target VP; a missing target VP is refused to the caller") {
  Harness h;
  REQUIRE_FALSE(h.server->start());
  h.post(h.contact(kVersionWin10V5_3, 5));
  auto r = h.reply<VersionResponse>(ChannelMessageType::version_response, 0);
  REQUIRE(r);
  CHECK(r->version_supported == 0);
  r = h.connect(kVersionWin10V5_3, 1);
  REQUIRE(r);
  CHECK(r->version_supported == 1);
  CHECK(h.server->status().target_vp == 1);
  CHECK(h.take_all(0).empty());
}

TEST_CASE("contact: a second INITIATE_CONTACT while connected is refused and logged as an error") {
  Harness h;
  REQUIRE_FALSE(h.server->start());
  REQUIRE(h.connect()->version_supported == 1);
  auto r = h.connect(kVersionWin10V5_2);
  REQUIRE(r);
  CHECK(r->version_supported == 0);
  CHECK(h.server->status().version == kVersionWin10V5_3);
  CHECK(h.server->status().protocol_errors == 1);
  CHECK(h.logged("already connected"));
}

TEST_CASE("contact: control messages before INITIATE_CONTACT are dropped without a reply") {
  Harness h;
  REQUIRE_FALSE(h.server->start());
  CHECK(h.post(make<HeaderOnly>(ChannelMessageType::request_offers)) == HvStatus::success);
  CHECK(h.take_all().empty());
  CHECK(h.server->status().protocol_errors == 1);
  CHECK(h.logged("REQUESTOFFERS before INITIATE_CONTACT"));
}

TEST_CASE("offers: REQUESTOFFERS gets one OFFERCHANNEL per device and ALLOFFERS_DELIVERED") {
  Harness h;
  auto second = std::make_shared<EchoDevice>(Guid::from_parts(1, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}));
  CHECK(h.server->add_device(second) == 2);
  REQUIRE_FALSE(h.server->start());
  CHECK(h.server->add_device(second) == 0);  // after start: refused
  REQUIRE(h.connect()->version_supported == 1);
  h.post(make<HeaderOnly>(ChannelMessageType::request_offers));
  auto all = h.take_all();
  REQUIRE(all.size() == 3);
  CHECK(type_of(all[0]) == type(ChannelMessageType::offer_channel));
  CHECK(type_of(all[1]) == type(ChannelMessageType::offer_channel));
  CHECK(type_of(all[2]) == type(ChannelMessageType::all_offers_delivered));
  CHECK(all[0].size() == sizeof(OfferChannel));
  CHECK(all[2].size() == sizeof(HeaderOnly));
  const auto o1 = parse<OfferChannel>(all[0]);
  const auto o2 = parse<OfferChannel>(all[1]);
  CHECK(o1.child_relid == 1);
  CHECK(o1.offer.interface_type == kEchoInterfaceId);
  CHECK(o1.offer.interface_instance == kEchoInstanceId);
  CHECK(o1.connection_id == h.server->channel_connection_id(1));
  CHECK(o1.monitor_flags == 0);
  CHECK(o1.interrupt_flags == kOfferDedicatedInterrupt);
  CHECK(o2.child_relid == 2);
  CHECK(o2.offer.interface_instance == Guid::from_parts(1, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}));
  CHECK(h.logged("OFFERCHANNEL relid=1 interface=5f0c9a6e-2b1d-4e57-9a3c-736f66747379"));
}

TEST_CASE("gpadl: a header holding every page is created at once; teardown answers TORNDOWN") {
  Harness h;
  h.connect_and_offer();
  auto c = h.create_gpadl(5, kPfn, 4);
  REQUIRE(c);
  CHECK(c->gpadl == 5);
  CHECK(c->child_relid == h.relid);
  CHECK(c->creation_status == kStatusSuccess);
  CHECK(h.server->status().gpadls == 1);
  auto t = make<GpadlTeardown>(ChannelMessageType::gpadl_teardown);
  t.child_relid = h.relid;
  t.gpadl = 5;
  h.post(t);
  auto d = h.reply<GpadlTorndown>(ChannelMessageType::gpadl_torndown);
  REQUIRE(d);
  CHECK(d->gpadl == 5);
  CHECK(h.server->status().gpadls == 0);
}

TEST_CASE("gpadl: pages beyond the header arrive in GPADL_BODY messages; CREATED follows the last one") {
  Harness h;
  h.connect_and_offer();
  const auto msgs = h.gpadl_messages(9, kPfn, 60, h.relid);  // 26 + 28 + 6
  REQUIRE(msgs.size() == 3);
  h.post_raw(msgs[0]);
  CHECK(h.take_all().empty());
  h.post_raw(msgs[1]);
  CHECK(h.take_all().empty());
  h.post_raw(msgs[2]);
  auto c = h.reply<GpadlCreated>(ChannelMessageType::gpadl_created);
  REQUIRE(c);
  CHECK(c->gpadl == 9);
  CHECK(c->creation_status == kStatusSuccess);
}

TEST_CASE("gpadl: bad headers get GPADL_CREATED with a failure status") {
  struct Case {
    const char* name;
    std::function<void(GpadlHeader&, GpaRange&)> spoil;
    const char* logged;
  };
  const std::vector<Case> cases = {
      {"unknown relid", [](GpadlHeader& g, GpaRange&) { g.child_relid = 77; }, "relid 77 is not an offered channel"},
      {"gpadl id 0", [](GpadlHeader& g, GpaRange&) { g.gpadl = 0; }, "GPADL id 0 is reserved"},
      {"two ranges", [](GpadlHeader& g, GpaRange&) { g.range_count = 2; }, "range count 2"},
      {"byte offset", [](GpadlHeader&, GpaRange& r) { r.byte_offset = 16; }, "range byte_offset 16"},
      {"zero bytes", [](GpadlHeader&, GpaRange& r) { r.byte_count = 0; }, "byte_count 0"},
      {"length mismatch", [](GpadlHeader& g, GpaRange&) { g.range_buffer_length += 8; }, "does not match 2 pages"},
      {"ragged length", [](GpadlHeader& g, GpaRange&) { g.range_buffer_length += 3; }, "does not match"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Harness h;
    h.connect_and_offer();
    auto m = h.gpadl_messages(3, kPfn, 2, h.relid)[0];
    auto g = parse<GpadlHeader>(m);
    auto r = parse<GpaRange>(std::vector<std::byte>(m.begin() + sizeof g, m.end()));
    c.spoil(g, r);
    std::memcpy(m.data(), &g, sizeof g);
    std::memcpy(m.data() + sizeof g, &r, sizeof r);
    h.post_raw(m);
    auto reply = h.reply<GpadlCreated>(ChannelMessageType::gpadl_created);
    REQUIRE(reply);
    CHECK(reply->creation_status == kStatusUnsuccessful);
    CHECK(reply->gpadl == g.gpadl);
    CHECK(h.server->status().gpadls == 0);
    CHECK(h.logged(c.logged));
  }
}

TEST_CASE("gpadl: a duplicate id is refused and the first GPADL stays") {
  Harness h;
  h.connect_and_offer();
  REQUIRE(h.create_gpadl(4, kPfn, 2)->creation_status == kStatusSuccess);
  auto again = h.create_gpadl(4, kPfn + 8, 2);
  REQUIRE(again);
  CHECK(again->creation_status == kStatusUnsuccessful);
  CHECK(h.server->status().gpadls == 1);
  CHECK(h.logged("GPADL id 4 is already in use"));
}

TEST_CASE("gpadl: BODY and TEARDOWN of an unknown GPADL are dropped and logged") {
  Harness h;
  h.connect_and_offer();
  auto b = make<GpadlBody>(ChannelMessageType::gpadl_body);
  b.gpadl = 42;
  h.post(b);
  auto t = make<GpadlTeardown>(ChannelMessageType::gpadl_teardown);
  t.gpadl = 43;
  h.post(t);
  CHECK(h.take_all().empty());
  CHECK(h.server->status().protocol_errors == 2);
  CHECK(h.logged("GPADL_BODY for GPADL 42 which no GPADL_HEADER started"));
  CHECK(h.logged("GPADL_TEARDOWN of unknown GPADL 43"));
}

TEST_CASE("open: OPENCHANNEL on a complete GPADL succeeds; CLOSECHANNEL has no reply and frees the GPADL") {
  Harness h;
  h.connect_and_offer();
  REQUIRE(h.create_gpadl(1, kPfn, 4)->creation_status == kStatusSuccess);
  auto r = h.open(1, 2, 31);
  REQUIRE(r);
  CHECK(r->status == kStatusSuccess);
  CHECK(r->open_id == 31);
  CHECK(r->child_relid == h.relid);
  CHECK(h.server->status().open_channels == 1);
  // The GPADL holds the rings: teardown is refused while open.
  auto t = make<GpadlTeardown>(ChannelMessageType::gpadl_teardown);
  t.child_relid = h.relid;
  t.gpadl = 1;
  h.post(t);
  CHECK(h.take_all().empty());
  CHECK(h.logged("while its channel is open"));
  auto c = make<CloseChannel>(ChannelMessageType::close_channel);
  c.child_relid = h.relid;
  h.post(c);
  CHECK(h.take_all().empty());
  CHECK(h.server->status().open_channels == 0);
  h.post(t);
  CHECK(h.reply<GpadlTorndown>(ChannelMessageType::gpadl_torndown));
}

TEST_CASE("open: bad OPENCHANNEL requests get OPENCHANNEL_RESULT with a failure status") {
  struct Case {
    const char* name;
    std::uint32_t gpadl, downstream, relid, vp;
    const char* logged;
  };
  const Case cases[] = {
      {"unknown relid", 1, 2, 9, 0, "relid 9 is not an offered channel"},
      {"unknown gpadl", 8, 2, 0, 0, "GPADL 8 does not exist"},
      {"no outbound data page", 1, 1, 0, 0, "downstream ring page 1"},
      {"no inbound data page", 1, 3, 0, 0, "downstream ring page 3"},
      {"missing target VP", 1, 2, 0, 9, "target VP 9 does not exist"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Harness h;
    h.connect_and_offer();
    REQUIRE(h.create_gpadl(1, kPfn, 4)->creation_status == kStatusSuccess);
    auto o = make<OpenChannel>(ChannelMessageType::open_channel);
    o.child_relid = c.relid ? c.relid : h.relid;
    o.open_id = 3;
    o.ring_buffer_gpadl = c.gpadl;
    o.downstream_ring_page_offset = c.downstream;
    o.target_vp = c.vp;
    h.post(o);
    auto r = h.reply<OpenChannelResult>(ChannelMessageType::open_channel_result);
    REQUIRE(r);
    CHECK(r->status == kStatusUnsuccessful);
    CHECK(r->open_id == 3);
    CHECK(h.server->status().open_channels == 0);
    CHECK(h.logged(c.logged));
  }
}

TEST_CASE("open: a second OPENCHANNEL of an open channel fails and the first stays open") {
  Harness h;
  h.connect_and_offer();
  REQUIRE(h.create_gpadl(1, kPfn, 4)->creation_status == kStatusSuccess);
  REQUIRE(h.create_gpadl(2, kPfn + 4, 4)->creation_status == kStatusSuccess);
  REQUIRE(h.open(1, 2)->status == kStatusSuccess);
  auto r = h.open(2, 2);
  REQUIRE(r);
  CHECK(r->status == kStatusUnsuccessful);
  CHECK(h.server->status().open_channels == 1);
  CHECK(h.logged("is already open"));
}

TEST_CASE("open: rings outside guest RAM are refused") {
  Harness h;
  h.connect_and_offer();
  REQUIRE(h.create_gpadl(1, 0x40000, 4)->creation_status == kStatusSuccess);  // 1 GiB: not RAM
  auto r = h.open(1, 2);
  REQUIRE(r);
  CHECK(r->status == kStatusUnsuccessful);
  CHECK(h.logged("not guest RAM"));
}

TEST_CASE("close: CLOSECHANNEL of a channel that is not open is dropped and logged") {
  Harness h;
  h.connect_and_offer();
  auto c = make<CloseChannel>(ChannelMessageType::close_channel);
  c.child_relid = 3;
  h.post(c);
  CHECK(h.take_all().empty());
  CHECK(h.logged("CLOSECHANNEL of relid 3 which is not open"));
}

TEST_CASE("rescind: the host rescinds an open channel; RELID_RELEASED frees the relid") {
  Harness h;
  h.connect_and_offer();
  REQUIRE(h.create_gpadl(1, kPfn, 4)->creation_status == kStatusSuccess);
  REQUIRE(h.open(1, 2)->status == kStatusSuccess);
  CHECK(h.server->rescind(h.relid));
  CHECK_FALSE(h.server->rescind(h.relid));  // once
  CHECK_FALSE(h.server->rescind(99));
  auto r = h.reply<RescindChannelOffer>(ChannelMessageType::rescind_channel_offer);
  REQUIRE(r);
  CHECK(r->child_relid == h.relid);
  CHECK(h.server->status().open_channels == 0);
  // Signals on the rescinded channel are ignored.
  CHECK(h.signal_channel() == HvStatus::success);
  auto rel = make<RelidReleased>(ChannelMessageType::relid_released);
  rel.child_relid = h.relid;
  h.post(rel);
  CHECK(h.take_all().empty());
  CHECK(h.server->status().channels == 0);
  CHECK(h.server->status().gpadls == 0);
  CHECK(h.logged("relid 1 released"));
  // The event connection is gone with it.
  CHECK(h.signal_channel() == HvStatus::invalid_connection_id);
}

TEST_CASE("rescind: RELID_RELEASED of a channel that was not rescinded is dropped") {
  Harness h;
  h.connect_and_offer();
  auto rel = make<RelidReleased>(ChannelMessageType::relid_released);
  rel.child_relid = h.relid;
  h.post(rel);
  CHECK(h.take_all().empty());
  CHECK(h.server->status().channels == 1);
  CHECK(h.logged("RELID_RELEASED of relid 1 which was not rescinded"));
}

TEST_CASE("unload: UNLOAD closes channels, drops GPADLs, answers UNLOAD_RESPONSE and allows a new contact") {
  Harness h;
  h.connect_and_offer();
  REQUIRE(h.create_gpadl(1, kPfn, 4)->creation_status == kStatusSuccess);
  REQUIRE(h.open(1, 2)->status == kStatusSuccess);
  h.post(make<HeaderOnly>(ChannelMessageType::unload));
  CHECK(h.reply<HeaderOnly>(ChannelMessageType::unload_response));
  const auto s = h.server->status();
  CHECK_FALSE(s.connected);
  CHECK(s.open_channels == 0);
  CHECK(s.gpadls == 0);
  CHECK(s.channels == 1);
  REQUIRE(h.connect(kVersionWin8)->version_supported == 1);
  CHECK(h.logged("closed (UNLOAD)"));
}

TEST_CASE("bad messages: unknown and host-only types, short payloads and foreign SynIC types are dropped and named") {
  struct Case {
    const char* name;
    std::vector<std::byte> payload;
    std::uint32_t synic_type;
    const char* logged;
  };
  auto typed = [](std::uint32_t t, std::size_t size) {
    std::vector<std::byte> b(size);
    std::memcpy(b.data(), &t, std::min<std::size_t>(4, size));
    return b;
  };
  const std::vector<Case> cases = {
      {"unknown type", typed(99, 8), 1, "UNKNOWN (99) is not a message the host accepts"},
      {"host-only type", typed(1, sizeof(OfferChannel)), 1, "OFFERCHANNEL (1) is not a message the host accepts"},
      {"MODIFYCHANNEL", typed(23, 16), 1, "MODIFYCHANNEL (23) is not a message the host accepts"},
      {"no header", typed(3, 4), 1, "short payload (4 bytes, need 8)"},
      {"short contact", typed(14, 20), 1, "INITIATE_CONTACT short payload (20 bytes, need 40)"},
      {"short gpadl header", typed(8, 12), 1, "GPADL_HEADER short payload (12 bytes, need 28)"},
      {"short open", typed(5, 16), 1, "OPENCHANNEL short payload (16 bytes, need 28)"},
      {"short close", typed(7, 8), 1, "CLOSECHANNEL short payload (8 bytes, need 12)"},
      {"short teardown", typed(11, 12), 1, "GPADL_TEARDOWN short payload"},
      {"short body", typed(9, 12), 1, "GPADL_BODY short payload"},
      {"short release", typed(13, 8), 1, "RELID_RELEASED short payload"},
      {"foreign SynIC type", typed(3, 8), 5, "SynIC message type 5 is not a VMBus message"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Harness h;
    h.connect_and_offer();
    CHECK(h.post_raw(c.payload, kMessageConnectionIdV5, 0, c.synic_type) == HvStatus::success);
    CHECK(h.take_all().empty());
    CHECK(h.server->status().protocol_errors == 1);
    CHECK(h.logged(c.logged));
    CHECK(h.server->status().connected);
  }
}

TEST_CASE("backpressure: replies wait for SINT queue room, excess guest messages get INSUFFICIENT_BUFFERS, nothing is lost") {
  Harness h(/*queue_capacity=*/1, /*max_waiting=*/3);
  REQUIRE_FALSE(h.server->start());
  // The guest does not read its slot: one reply in the slot, one queued,
  // the rest waiting in the partition's backpressure.
  std::vector<HvStatus> statuses;
  for (std::uint32_t i = 0; i < 8; ++i)
    statuses.push_back(h.post(h.contact(make_version(9, static_cast<std::uint16_t>(i)))));
  const auto refused = std::count(statuses.begin(), statuses.end(), HvStatus::insufficient_buffers);
  CHECK(refused > 0);
  CHECK(std::count(statuses.begin(), statuses.end(), HvStatus::success) + refused == 8);
  CHECK(h.logged("refused: INSUFFICIENT_BUFFERS"));
  // Draining the slot lets every accepted reply through, in order.
  auto all = h.take_all();
  CHECK(all.size() == static_cast<std::size_t>(8 - refused));
  for (const auto& m : all) CHECK(type_of(m) == type(ChannelMessageType::version_response));
  CHECK(h.server->status().waiting_replies == 0);
  // The guest retries what was refused and is heard.
  CHECK(h.post(h.contact(kVersionWin10V5_3)) == HvStatus::success);
  auto r = h.reply<VersionResponse>(ChannelMessageType::version_response);
  REQUIRE(r);
  CHECK(r->version_supported == 1);
}

TEST_CASE("log: control messages are decoded with names and fields") {
  Harness h;
  h.connect_and_offer();
  CHECK(h.logged("vmbus: vp0 conn=4 -> host INITIATE_CONTACT version=5.3(WIN10_V5_3) target_vp=0 sint=2"));
  CHECK(h.logged("vmbus: host -> vp0 sint2 VERSION_RESPONSE supported=1 state=0 message_connection=4"));
  CHECK(h.logged("vmbus: host -> vp0 sint2 ALLOFFERS_DELIVERED"));
  CHECK(describe_message(to_bytes(make<HeaderOnly>(ChannelMessageType::unload))) == "UNLOAD");
  CHECK(describe_message({}) == "SHORT(0 bytes)");
}
