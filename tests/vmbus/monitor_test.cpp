// VMBus channels signalled through the monitor page: the offer carries a
// monitor id when the partition has monitor support and the guest gave
// monitor pages in INITIATE_CONTACT; a pending bit then does what
// HvSignalEvent on the channel's connection does. UNLOAD and the server's
// end take the registration and the pages back.
#include <doctest/doctest.h>

#include "synic/defs/monitor_page.h"
#include "tests/vmbus/vmbus_harness.h"

using namespace softsynic;
using namespace softsynic::vmbus;
using softsynic::vmbus::test::Harness;

namespace {

constexpr std::uint64_t kPfn = test::kPool >> 12;
constexpr MonitorPageGpas kPages{0x40000, 0x41000};  // parent-to-child, child-to-parent
constexpr std::uint32_t kRingPages = 4;              // each way, control page included

HeaderOnly request_offers_message() { return test::make<HeaderOnly>(ChannelMessageType::request_offers); }

std::optional<OfferChannel> offer_after_contact(Harness& h, MonitorPageGpas pages) {
  REQUIRE(h.server->start() == boost::system::error_code{});
  auto r = h.connect(kVersionWin10V5_3, 0, pages);
  REQUIRE(r);
  REQUIRE(r->version_supported == 1);
  h.post(request_offers_message());
  auto all = h.take_all();
  REQUIRE(all.size() == 2);
  if (test::type_of(all[0]) != static_cast<std::uint32_t>(ChannelMessageType::offer_channel)) return std::nullopt;
  return test::parse<OfferChannel>(all[0]);
}

// Sets the channel's pending bit the way a guest does and reports the store.
void set_pending(Harness& h, std::uint8_t id) {
  const std::uint64_t word = kPages.child_to_parent + kMonitorTriggerGroupOffset + 8 * monitor_group(id);
  REQUIRE(h.memory.fetch_or_u64(word, 1ull << monitor_bit(id)));
  CHECK(h.monitor->on_monitor_page_write(0, word, 4));
  h.run();
}

std::uint64_t pending_word(Harness& h, std::uint8_t id) {
  std::uint64_t v = 0;
  h.memory.read(kPages.child_to_parent + kMonitorTriggerGroupOffset + 8 * monitor_group(id),
                std::as_writable_bytes(std::span(&v, 1)));
  return v & 0xFFFFFFFFull;
}

}  // namespace

TEST_CASE("monitor: with monitor pages and monitor support the offer carries monitor id relid - 1") {
  Harness h;
  MonitorAccess& m = h.attach_monitor();
  const auto o = offer_after_contact(h, kPages);
  REQUIRE(o);
  CHECK(o->monitor_flags == kOfferMonitorAllocated);
  CHECK(o->monitor_id == h.relid - 1);
  CHECK(m.monitor_page(0) == kPages);
  CHECK(h.server->status().monitor);
  CHECK(h.server->status().monitor_ids == 1);
  CHECK(h.logged("monitor_id=0"));
  CHECK(h.logged("channels signal through monitor pages"));
  // A second REQUESTOFFERS offers the same id again, registered once.
  h.post(request_offers_message());
  auto again = h.take_all();
  REQUIRE(again.size() == 2);
  CHECK(test::parse<OfferChannel>(again[0]).monitor_id == h.relid - 1);
  CHECK(h.server->status().monitor_ids == 1);
  CHECK(h.server->status().protocol_errors == 0);
}

TEST_CASE("monitor: no monitor id without pages from the guest or without monitor support") {
  SUBCASE("guest gave no pages") {
    Harness h;
    h.attach_monitor();
    const auto o = offer_after_contact(h, {});
    REQUIRE(o);
    CHECK(o->monitor_flags == 0);
    CHECK_FALSE(h.monitor->monitor_page(0));
    CHECK_FALSE(h.server->status().monitor);
  }
  SUBCASE("partition without monitor support") {
    Harness h;
    const auto o = offer_after_contact(h, kPages);
    REQUIRE(o);
    CHECK(o->monitor_flags == 0);
    CHECK(h.server->status().monitor_ids == 0);
  }
  SUBCASE("pages outside guest RAM: logged, the guest still connects") {
    Harness h;
    h.attach_monitor();
    const auto o = offer_after_contact(h, {0x40000, test::kRam + 0x1000});
    REQUIRE(o);
    CHECK(o->monitor_flags == 0);
    CHECK(h.logged("monitor pages refused"));
    CHECK(h.server->status().connected);
  }
}

TEST_CASE("monitor: a pending bit in the guest-to-host page makes the host drain the channel's ring") {
  Harness h;
  h.attach_monitor();
  const auto o = offer_after_contact(h, kPages);
  REQUIRE(o);
  REQUIRE(o->monitor_flags == kOfferMonitorAllocated);
  REQUIRE(h.create_gpadl(1, kPfn, 2 * kRingPages)->creation_status == kStatusSuccess);
  REQUIRE(h.open(1, kRingPages)->status == kStatusSuccess);
  auto out = h.outbound_ring(kPfn, kRingPages);
  auto in = h.inbound_ring(kPfn, kRingPages, kRingPages);
  for (std::uint32_t i = 1; i <= 100; ++i) {
    const std::vector<std::byte> sent(i, static_cast<std::byte>(i));
    REQUIRE(out.write(sent, i));
    CHECK_FALSE(in.read());  // nothing moves before the signal
    set_pending(h, o->monitor_id);
    CHECK(pending_word(h, o->monitor_id) == 0);  // consumed
    auto p = in.read();
    REQUIRE(p);
    CHECK(p->d.transaction_id == i);
    CHECK(std::equal(sent.begin(), sent.end(), p->payload.begin()));
  }
  CHECK(h.echo->echoed_packets() == 100);
  CHECK(h.monitor->stats().signals == 100);
  CHECK(h.monitor->stats().undelivered == 0);
  CHECK(h.server->status().protocol_errors == 0);
}

TEST_CASE("monitor: UNLOAD drops the registration and hands the pages back; a new contact can give others") {
  Harness h;
  h.attach_monitor();
  REQUIRE(offer_after_contact(h, kPages));
  h.post(test::make<HeaderOnly>(ChannelMessageType::unload));
  REQUIRE(h.reply<HeaderOnly>(ChannelMessageType::unload_response));
  CHECK(h.server->status().monitor_ids == 0);
  CHECK_FALSE(h.server->status().monitor);
  CHECK_FALSE(h.monitor->monitor_page(0));
  // A stale bit in the old page is nobody's business any more.
  CHECK_FALSE(h.monitor->on_monitor_page_write(0, kPages.child_to_parent + kMonitorTriggerGroupOffset, 4));

  const MonitorPageGpas other{0x42000, 0x43000};
  auto r = h.connect(kVersionWin10V5_3, 0, other);
  REQUIRE(r);
  CHECK(r->version_supported == 1);
  CHECK(h.monitor->monitor_page(0) == other);
  h.post(request_offers_message());
  auto all = h.take_all();
  REQUIRE(all.size() == 2);
  CHECK(test::parse<OfferChannel>(all[0]).monitor_flags == kOfferMonitorAllocated);
  CHECK(h.server->status().monitor_ids == 1);
}

TEST_CASE("monitor: destroying the server unregisters its ids and removes the pages it set") {
  Harness h;
  h.attach_monitor();
  REQUIRE(offer_after_contact(h, kPages));
  h.server.reset();
  h.run();
  CHECK_FALSE(h.monitor->monitor_page(0));
  // Registering the id again works: the server's registration is gone.
  MonitorRegistration reg;
  reg.connection_id = 0x77;
  CHECK(h.monitor->register_monitor(0, 0, reg).has_value());
}
