// Host-to-guest message delivery: free and busy slots, EOM and EOI retry,
// FIFO order, held messages, polling SINTs, host post argument checks.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/post.hpp>

#include "tests/synic/harness.h"

using namespace softsynic;
using softsynic::test::Harness;
using softsynic::test::Interrupt;

namespace {
constexpr std::uint32_t vec(unsigned sint) { return test::kVectorBase + sint; }
}  // namespace

TEST_CASE("delivery: a message lands in a free slot and raises the SINT vector with its auto-EOI setting") {
  for (bool auto_eoi : {false, true}) {
    CAPTURE(auto_eoi);
    Harness h;
    h.ready(2, 0, 1, auto_eoi);
    CHECK_FALSE(h.post(2, 7, "hello", 0, 1));
    CHECK(h.slot(2, 0, 1).header.message_type == 0);  // delivery happens on the VP's strand
    h.run();
    const HvMessage m = h.slot(2, 0, 1);
    CHECK(m.header.message_type == 7);
    CHECK(m.header.payload_size == 5);
    CHECK(m.header.message_flags == 0);
    CHECK(m.header.origination_id == 0);
    CHECK(Harness::payload_of(m) == "hello");
    CHECK(h.interrupts == std::vector{Interrupt{1, 0, vec(2), auto_eoi}});
    CHECK(h.vp(1).queued_messages(0, 2) == 0);
  }
}

TEST_CASE("delivery: a busy slot gets message_pending, keeps its message and raises no interrupt") {
  Harness h;
  h.busy_slot(3);
  const HvMessage m = h.slot(3);
  CHECK(Harness::payload_of(m) == "first");
  CHECK(m.header.message_flags == kMessageFlagPending);
  CHECK(h.interrupts.size() == 1);
  CHECK(h.vp().queued_messages(0, 3) == 1);
}

TEST_CASE("delivery: a slot the guest filled itself counts as busy") {
  Harness h;
  h.ready(0);
  const std::uint32_t type = 99;
  h.memory.write(Harness::simp_gpa(), std::as_bytes(std::span(&type, 1)));
  h.post(0, 1, "x");
  h.run();
  CHECK(h.slot(0).header.message_type == 99);
  CHECK(h.slot(0).header.message_flags == kMessageFlagPending);
  CHECK(h.interrupts.empty());
}

TEST_CASE("eom: queued message lands after the guest frees the slot, with exactly one interrupt") {
  Harness h;
  h.busy_slot(3);
  REQUIRE(h.interrupts.size() == 1);
  h.consume(3);  // clears the type and writes EOM (pending was set)
  h.run();
  const HvMessage m = h.slot(3);
  CHECK(m.header.message_type == 2);
  CHECK(Harness::payload_of(m) == "second");
  CHECK(m.header.message_flags == 0);
  CHECK(h.interrupts.size() == 2);
  CHECK(h.vp().queued_messages(0, 3) == 0);
}

TEST_CASE("eom: with the slot still busy nothing moves and no interrupt is raised") {
  Harness h;
  h.busy_slot(3);
  CHECK(h.write(HvRegisterName::eom, 0) == RegisterAccess::ok);
  h.run();
  CHECK(Harness::payload_of(h.slot(3)) == "first");
  CHECK(h.interrupts.size() == 1);
}

TEST_CASE("delivery: messages of one (VTL, VP, SINT) arrive in FIFO order") {
  Harness h;
  h.ready(5);
  for (int i = 0; i < 20; ++i) REQUIRE_FALSE(h.post(5, 1, std::to_string(i)));
  for (int i = 0; i < 20; ++i) {
    h.run();
    CHECK(Harness::payload_of(h.slot(5)) == std::to_string(i));
    h.consume(5);
  }
  h.run();
  CHECK(h.slot(5).header.message_type == 0);
  CHECK(h.interrupts.size() == 20);
}

TEST_CASE("delivery: a SINT that cannot take messages holds them until it can") {
  struct Case {
    const char* name;
    std::function<void(Harness&)> block;
    std::function<void(Harness&)> unblock;
  };
  const Case cases[] = {
      {"masked SINT", [](Harness& h) { h.enable(); }, [](Harness& h) { h.unmask(6); }},
      {"SIMP disabled",
       [](Harness& h) {
         h.write(HvRegisterName::scontrol, 1);
         h.unmask(6);
       },
       [](Harness& h) { h.write(HvRegisterName::simp, Harness::enabled_page(Harness::simp_gpa())); }},
      {"SCONTROL disabled",
       [](Harness& h) {
         h.write(HvRegisterName::simp, Harness::enabled_page(Harness::simp_gpa()));
         h.unmask(6);
       },
       [](Harness& h) { h.write(HvRegisterName::scontrol, 1); }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Harness h;
    c.block(h);
    CHECK_FALSE(h.post(6, 4, "held"));
    CHECK_FALSE(h.post(6, 4, "held too"));
    h.run();
    CHECK(h.slot(6).header.message_type == 0);
    CHECK(h.interrupts.empty());
    CHECK(h.vp().queued_messages(0, 6) == 2);
    c.unblock(h);
    h.run();
    CHECK(Harness::payload_of(h.slot(6)) == "held");
    CHECK(h.interrupts == std::vector{Interrupt{0, 0, vec(6), false}});
    h.consume(6);
    h.run();
    CHECK(Harness::payload_of(h.slot(6)) == "held too");
    CHECK(h.interrupts.size() == 2);
  }
}

TEST_CASE("delivery: masking a SINT again holds later messages") {
  Harness h;
  h.ready(1);
  h.post(1, 1, "a");
  h.run();
  h.write(sint_register(1), SintReg::kReset);
  h.consume(1);
  h.post(1, 1, "b");
  h.run();
  CHECK(h.slot(1).header.message_type == 0);
  CHECK(h.vp().queued_messages(0, 1) == 1);
}

TEST_CASE("delivery: a polling SINT receives messages without an interrupt") {
  Harness h;
  h.ready(4, 0, 0, false, true);
  h.post(4, 3, "poll me");
  h.run();
  CHECK(Harness::payload_of(h.slot(4)) == "poll me");
  CHECK(h.interrupts.empty());
}

TEST_CASE("eoi: an EOI of a non-auto-EOI SINT vector retries delivery like EOM") {
  Harness h;
  h.busy_slot(7);
  h.consume(7, 0, 0, false);  // frees the slot but writes no EOM
  h.run();
  CHECK(h.slot(7).header.message_type == 0);
  h.vp().on_eoi(0, vec(7));
  h.run();
  CHECK(Harness::payload_of(h.slot(7)) == "second");
  CHECK(h.interrupts.size() == 2);
}

TEST_CASE("eoi: an EOI of an auto-EOI SINT's vector or of another vector delivers nothing") {
  Harness h;
  h.busy_slot(7, true);
  h.consume(7, 0, 0, false);
  h.vp().on_eoi(0, vec(7));
  h.vp().on_eoi(0, vec(8));
  h.run();
  CHECK(h.slot(7).header.message_type == 0);
  CHECK(h.vp().queued_messages(0, 7) == 1);
}

TEST_CASE("delivery: each SINT has its own slot and vector") {
  Harness h;
  h.enable();
  for (unsigned s = 0; s < kSintCount; ++s) h.unmask(s);
  for (unsigned s = 0; s < kSintCount; ++s) h.post(s, 100 + s, std::string(s + 1, 'a'));
  h.run();
  REQUIRE(h.interrupts.size() == kSintCount);
  for (unsigned s = 0; s < kSintCount; ++s) {
    CAPTURE(s);
    CHECK(h.slot(s).header.message_type == 100 + s);
    CHECK(h.slot(s).header.payload_size == s + 1);
    CHECK(h.interrupts[s].vector == vec(s));
  }
}

TEST_CASE("delivery: a 240-byte payload fills the whole slot") {
  Harness h;
  h.ready(0);
  const std::string big(kMessagePayloadMax, 'z');
  CHECK_FALSE(h.post(0, 1, big));
  h.run();
  CHECK(Harness::payload_of(h.slot(0)) == big);
}

TEST_CASE("delivery: a SIMP outside guest RAM keeps messages queued, reports once, and recovers when moved") {
  Harness h;
  h.write(HvRegisterName::scontrol, 1);
  h.unmask(2);
  h.write(HvRegisterName::simp, Harness::enabled_page(test::kOutsideRam));
  h.errors.clear();
  h.post(2, 1, "a");
  h.run();
  h.post(2, 1, "b");
  h.run();
  CHECK(h.errors.size() == 1);
  CHECK(h.vp().queued_messages(0, 2) == 2);
  h.write(HvRegisterName::simp, Harness::enabled_page(Harness::simp_gpa()));
  h.run();
  CHECK(Harness::payload_of(h.slot(2)) == "a");
  CHECK(h.interrupts.size() == 1);
}

TEST_CASE("delivery: VTLs have separate queues, pages and interrupt sinks") {
  Harness h(test::config(1, 2));
  h.ready(1, 1);
  h.ready(1, 0);
  h.post(1, 11, "vtl1", 1);
  h.run();
  CHECK(Harness::payload_of(h.slot(1, 1)) == "vtl1");
  CHECK(h.slot(1, 0).header.message_type == 0);
  CHECK(h.interrupts == std::vector{Interrupt{0, 1, vec(1), false}});
}

TEST_CASE("delivery: without an interrupt sink the interrupt is dropped and reported") {
  Harness h;
  h.ready(0);
  h.vp().set_interrupt_sink(0, nullptr);
  h.post(0, 1, "x");
  h.run();
  CHECK(h.slot(0).header.message_type == 1);
  CHECK(h.interrupts.empty());
  CHECK(h.errors.size() == 1);
}

TEST_CASE("delivery: deliver_pending on the VP moves queued messages without the executor") {
  Harness h;
  h.ready(0);
  h.post(0, 1, "now");
  h.vp().deliver_pending();
  CHECK(Harness::payload_of(h.slot(0)) == "now");
}

TEST_CASE("host post: many posts to one VP share one strand task") {
  Harness h;
  h.enable();
  for (unsigned s = 0; s < 8; ++s) {
    h.unmask(s);
    h.post(s, 1, "x");
  }
  CHECK(h.run() == 1);
  CHECK(h.interrupts.size() == 8);
}

TEST_CASE("host post: argument errors are reported and queue nothing") {
  struct Case {
    Vtl vtl;
    std::uint32_t vp;
    std::uint8_t sint;
    std::uint32_t type;
    std::size_t size;
    Error expected;
  };
  const Case cases[] = {
      {1, 0, 0, 1, 0, Error::invalid_vtl},
      {0, 2, 0, 1, 0, Error::invalid_vp},
      {0, 0, 16, 1, 0, Error::invalid_sint},
      {0, 0, 0, 1, kMessagePayloadMax + 1, Error::payload_too_large},
      {0, 0, 0, 0, 0, Error::invalid_message_type},
  };
  for (const auto& c : cases) {
    CAPTURE(error_name(c.expected));
    Harness h;
    const std::vector<std::byte> payload(c.size);
    CHECK(h.partition().post_message(c.vtl, c.vp, c.sint, c.type, payload) == make_error_code(c.expected));
    for (unsigned s = 0; s < kSintCount; ++s) CHECK(h.vp().queued_messages(0, s) == 0);
  }
}

TEST_CASE("host post: hypervisor message types (bit 31) are allowed from the host") {
  Harness h;
  h.ready(0);
  CHECK_FALSE(h.post(0, static_cast<std::uint32_t>(HvMessageType::timer_expired)));
  h.run();
  CHECK(h.slot(0).header.message_type == 0x80000010);
}

namespace {
struct Recorder final : SynicObserver {
  std::vector<SynicEventKind> kinds;
  void on_synic_event(const SynicEvent& e) override { kinds.push_back(e.kind); }
};
}  // namespace

TEST_CASE("observer: sees a message's life from post to EOM") {
  Harness h;
  h.ready(0);
  Recorder r;
  h.partition().set_observer(&r);
  h.post(0, 1, "a");
  h.post(0, 1, "b");
  h.run();
  h.consume(0);
  h.run();
  h.partition().set_observer(nullptr);
  using K = SynicEventKind;
  CHECK(r.kinds == std::vector{K::host_post_queued, K::host_post_queued, K::message_delivered, K::interrupt_requested,
                               K::message_pending_set, K::eom, K::message_delivered, K::interrupt_requested});
}

TEST_CASE("host post: made on the VP's strand, it lands in a free slot before post_message returns") {
  Harness h;
  h.ready(2);
  bool landed = false;
  std::size_t interrupts = 0;
  boost::asio::post(h.vp().strand(), [&] {
    CHECK_FALSE(h.post(2, 7, "now"));
    landed = h.slot(2).header.message_type == 7;
    interrupts = h.interrupts.size();
  });
  h.run();
  CHECK(landed);
  CHECK(interrupts == 1);
  const HvMessage m = h.slot(2);
  CHECK(Harness::payload_of(m) == "now");
  CHECK(m.header.message_flags == 0);
  CHECK(m.header.origination_id == 0);
  CHECK(h.vp().queued_messages(0, 2) == 0);
}

TEST_CASE("host post: on the VP's strand behind a busy slot it queues, sets message_pending and keeps FIFO") {
  Harness h;
  h.ready(1);
  boost::asio::post(h.vp().strand(), [&] {
    CHECK_FALSE(h.post(1, 1, "a"));
    CHECK_FALSE(h.post(1, 2, "b"));
    CHECK_FALSE(h.post(1, 3, "c"));
    CHECK(h.slot(1).header.message_flags == kMessageFlagPending);  // set at once, no strand hop
  });
  h.run();
  CHECK(h.interrupts.size() == 1);
  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    seen.push_back(Harness::payload_of(h.slot(1)));
    h.consume(1);
    h.run();
  }
  CHECK(seen == std::vector<std::string>{"a", "b", "c"});
  CHECK(h.interrupts.size() == 3);
}

TEST_CASE("observer: a post on the VP's strand is reported queued, then delivered, then the interrupt") {
  Harness h;
  h.ready(0);
  Recorder r;
  h.partition().set_observer(&r);
  boost::asio::post(h.vp().strand(), [&] { h.post(0, 1, "a"); });
  h.run();
  h.partition().set_observer(nullptr);
  using K = SynicEventKind;
  CHECK(r.kinds == std::vector{K::host_post_queued, K::message_delivered, K::interrupt_requested});
}

TEST_CASE("guest memory without stable host ranges: delivery, message_pending, EOM and event flags are the same") {
  struct Outcome {
    std::vector<std::string> payloads;
    std::vector<std::uint8_t> flags;
    std::vector<Interrupt> interrupts;
    std::uint64_t flag_word = 0;
    bool operator==(const Outcome&) const = default;
  };
  auto run = [](bool calls_only) {
    Harness h(test::config(), calls_only);
    h.ready(3);
    Outcome o;
    h.post(3, 1, "first");
    boost::asio::post(h.vp().strand(), [&] { h.post(3, 2, "second"); });
    h.run();
    o.payloads.push_back(Harness::payload_of(h.slot(3)));
    o.flags.push_back(h.slot(3).header.message_flags);
    h.consume(3);
    h.run();
    o.payloads.push_back(Harness::payload_of(h.slot(3)));
    o.flags.push_back(h.slot(3).header.message_flags);
    auto port = h.partition().new_guest_event_port(0, 0, 3, 70);
    REQUIRE(port.has_value());
    CHECK_FALSE((*port)->signal());
    CHECK((*port)->signal() == Error::flag_already_set);
    o.flag_word = h.flag_word(3, 70);
    o.interrupts = h.interrupts;
    return o;
  };
  const Outcome cached = run(false);
  CHECK(cached.payloads == std::vector<std::string>{"first", "second"});
  CHECK(cached.flags == std::vector<std::uint8_t>{kMessageFlagPending, 0});
  CHECK(cached.flag_word == std::uint64_t{1} << 6);
  CHECK(cached.interrupts.size() == 3);
  CHECK(run(true) == cached);
}
