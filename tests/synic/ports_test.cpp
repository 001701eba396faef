// Port registry: registration errors, the guest side of HvPostMessage and
// HvSignalEvent, VTL checks, and handle drops during dispatch.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

#include "tests/synic/harness.h"

using namespace softsynic;
using softsynic::test::Harness;

namespace {

struct CountingMessagePort final : MessagePort {
  bool accept = true;
  std::vector<GuestMessage> seen;
  std::vector<std::string> payloads;
  bool on_message(const GuestMessage& m) override {
    seen.push_back(m);
    payloads.emplace_back(reinterpret_cast<const char*>(m.payload.data()), m.payload.size());
    return accept;
  }
};

struct CountingEventPort final : EventPort {
  std::vector<GuestEvent> seen;
  void on_event(const GuestEvent& e) override { seen.push_back(e); }
};

struct ThrowingMessagePort final : MessagePort {
  bool on_message(const GuestMessage&) override { throw std::runtime_error("boom"); }
};
struct ThrowingEventPort final : EventPort {
  void on_event(const GuestEvent&) override { throw 42; }
};

// Drops its own registration from inside the callback.
struct SelfDroppingPort final : MessagePort, EventPort {
  PortHandle handle;
  int calls = 0;
  bool on_message(const GuestMessage&) override {
    ++calls;
    handle.reset();
    return true;
  }
  void on_event(const GuestEvent&) override {
    ++calls;
    handle.reset();
  }
};

HvStatus guest_post(Harness& h, std::uint32_t id, std::string_view payload = "hi", std::uint32_t type = 1,
                    Vtl vtl = 0, std::uint32_t vp = 0) {
  const auto b = test::bytes(payload);
  return h.partition().guest_post_message(vp, vtl, id, type, b);
}

}  // namespace

TEST_CASE("ports: registration errors") {
  Harness h(test::config(1, 2));
  auto mp = std::make_shared<CountingMessagePort>();
  auto ep = std::make_shared<CountingEventPort>();
  auto first = h.partition().add_message_port(1, 0, mp);
  REQUIRE(first.has_value());
  CHECK(h.partition().add_message_port(1, 0, mp).error() == make_error_code(Error::connection_id_in_use));
  CHECK(h.partition().add_event_port(1, 0, ep).error() == make_error_code(Error::connection_id_in_use));
  CHECK(h.partition().add_message_port(2, 2, mp).error() == make_error_code(Error::invalid_vtl));
  CHECK(h.partition().add_event_port(2, 2, ep).error() == make_error_code(Error::invalid_vtl));
  CHECK(h.partition().add_message_port(2, 0, nullptr).error() == make_error_code(Error::null_port));
  CHECK(h.partition().add_event_port(2, 0, nullptr).error() == make_error_code(Error::null_port));
  CHECK(h.partition().add_event_port(2, 1, ep).has_value());
}

TEST_CASE("ports: dropping the handle unregisters the port and frees its connection id") {
  Harness h;
  auto mp = std::make_shared<CountingMessagePort>();
  auto handle = *h.partition().add_message_port(9, 0, mp);
  CHECK(handle);
  CHECK(guest_post(h, 9) == HvStatus::success);
  handle.reset();
  CHECK_FALSE(handle);
  CHECK(guest_post(h, 9) == HvStatus::invalid_connection_id);
  CHECK(mp->seen.size() == 1);
  CHECK(h.partition().add_message_port(9, 0, mp).has_value());
}

TEST_CASE("ports: a handle that outlives its partition releases nothing and does not crash") {
  PortHandle handle;
  {
    Harness h;
    handle = *h.partition().add_event_port(3, 0, std::make_shared<CountingEventPort>());
  }
  handle.reset();
  CHECK_FALSE(handle);
}

TEST_CASE("guest post: the port receives the message on the posting VP") {
  Harness h(test::config(2, 2));
  auto mp = std::make_shared<CountingMessagePort>();
  auto handle = *h.partition().add_message_port(0x2000, 0, mp);
  CHECK(guest_post(h, 0x2000, "payload", 0x7FFFFFFF, 1, 1) == HvStatus::success);
  REQUIRE(mp->seen.size() == 1);
  CHECK(mp->seen[0].vtl == 1);
  CHECK(mp->seen[0].vp == 1);
  CHECK(mp->seen[0].connection_id == 0x2000);
  CHECK(mp->seen[0].message_type == 0x7FFFFFFF);
  CHECK(mp->payloads[0] == "payload");
}

TEST_CASE("guest post: statuses for bad input, unknown ids and full ports") {
  struct Case {
    const char* name;
    std::uint32_t vp;
    Vtl vtl;
    std::uint32_t id;
    std::uint32_t type;
    std::size_t size;
    HvStatus expected;
  };
  const Case cases[] = {
      {"accepted", 0, 0, 1, 1, 240, HvStatus::success},
      {"payload over 240", 0, 0, 1, 1, 241, HvStatus::invalid_parameter},
      {"type 0", 0, 0, 1, 0, 4, HvStatus::invalid_parameter},
      {"type with bit 31", 0, 0, 1, 0x80000001, 4, HvStatus::invalid_parameter},
      {"unknown id", 0, 0, 77, 1, 4, HvStatus::invalid_connection_id},
      {"event port id", 0, 0, 2, 1, 4, HvStatus::invalid_connection_id},
      {"VP out of range", 2, 0, 1, 1, 4, HvStatus::invalid_parameter},
      {"VP far out of range", 0xFFFFFFFF, 0, 1, 1, 4, HvStatus::invalid_parameter},
      {"VTL out of range", 0, 1, 1, 1, 4, HvStatus::invalid_parameter},
  };
  Harness h;
  auto mp = std::make_shared<CountingMessagePort>();
  auto m = *h.partition().add_message_port(1, 0, mp);
  auto e = *h.partition().add_event_port(2, 0, std::make_shared<CountingEventPort>());
  std::size_t expected_calls = 0;
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const std::vector<std::byte> payload(c.size);
    CHECK(h.partition().guest_post_message(c.vp, c.vtl, c.id, c.type, payload) == c.expected);
    if (c.expected == HvStatus::success) ++expected_calls;
    CHECK(mp->seen.size() == expected_calls);
  }
}

TEST_CASE("guest post: a port that is full makes the guest see INSUFFICIENT_BUFFERS") {
  Harness h;
  auto mp = std::make_shared<CountingMessagePort>();
  mp->accept = false;
  auto handle = *h.partition().add_message_port(1, 0, mp);
  CHECK(guest_post(h, 1) == HvStatus::insufficient_buffers);
  mp->accept = true;
  CHECK(guest_post(h, 1) == HvStatus::success);
}

TEST_CASE("guest post: a throwing port is reported and answered INSUFFICIENT_BUFFERS") {
  Harness h;
  auto handle = *h.partition().add_message_port(1, 0, std::make_shared<ThrowingMessagePort>());
  CHECK(guest_post(h, 1) == HvStatus::insufficient_buffers);
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].find("boom") != std::string::npos);
}

TEST_CASE("guest signal: statuses for bad flags, unknown ids and message ports") {
  struct Case {
    const char* name;
    std::uint32_t vp;
    Vtl vtl;
    std::uint32_t id;
    std::uint16_t flag;
    HvStatus expected;
  };
  const Case cases[] = {
      {"accepted", 0, 0, 2, 2047, HvStatus::success},
      {"flag 2048", 0, 0, 2, 2048, HvStatus::invalid_parameter},
      {"unknown id", 0, 0, 77, 0, HvStatus::invalid_connection_id},
      {"message port id", 0, 0, 1, 0, HvStatus::invalid_connection_id},
      {"VP out of range", 9, 0, 2, 0, HvStatus::invalid_parameter},
      {"VTL out of range", 0, 3, 2, 0, HvStatus::invalid_parameter},
  };
  Harness h;
  auto ep = std::make_shared<CountingEventPort>();
  auto m = *h.partition().add_message_port(1, 0, std::make_shared<CountingMessagePort>());
  auto e = *h.partition().add_event_port(2, 0, ep);
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(h.partition().guest_signal_event(c.vp, c.vtl, c.id, c.flag) == c.expected);
  }
  REQUIRE(ep->seen.size() == 1);
  CHECK(ep->seen[0].flag == 2047);
  CHECK(ep->seen[0].connection_id == 2);
}

TEST_CASE("guest signal: a throwing port is reported and the guest still sees SUCCESS") {
  Harness h;
  auto handle = *h.partition().add_event_port(5, 0, std::make_shared<ThrowingEventPort>());
  CHECK(h.partition().guest_signal_event(0, 0, 5, 0) == HvStatus::success);
  CHECK(h.errors.size() == 1);
}

TEST_CASE("vtl: a caller below the port's minimum VTL gets OPERATION_DENIED") {
  Harness h(test::config(1, 3));
  auto mp = std::make_shared<CountingMessagePort>();
  auto ep = std::make_shared<CountingEventPort>();
  std::vector<PortHandle> handles;
  for (Vtl min = 0; min < 3; ++min) {
    handles.push_back(*h.partition().add_message_port(10 + min, min, mp));
    handles.push_back(*h.partition().add_event_port(20 + min, min, ep));
  }
  for (Vtl min = 0; min < 3; ++min)
    for (Vtl caller = 0; caller < 3; ++caller) {
      CAPTURE(min);
      CAPTURE(caller);
      const HvStatus expected = caller < min ? HvStatus::operation_denied : HvStatus::success;
      CHECK(guest_post(h, 10 + min, "x", 1, caller) == expected);
      CHECK(h.partition().guest_signal_event(0, caller, 20 + min, 0) == expected);
    }
  CHECK(mp->seen.size() == 6);
  CHECK(ep->seen.size() == 6);
}

TEST_CASE("ports: a port can drop its own handle inside its callback") {
  SUBCASE("message port") {
    Harness h;
    auto port = std::make_shared<SelfDroppingPort>();
    port->handle = *h.partition().add_message_port(4, 0, std::static_pointer_cast<MessagePort>(port));
    CHECK(guest_post(h, 4) == HvStatus::success);
    CHECK(guest_post(h, 4) == HvStatus::invalid_connection_id);
    CHECK(port->calls == 1);
  }
  SUBCASE("event port") {
    Harness h;
    auto port = std::make_shared<SelfDroppingPort>();
    port->handle = *h.partition().add_event_port(4, 0, std::static_pointer_cast<EventPort>(port));
    CHECK(h.partition().guest_signal_event(0, 0, 4, 1) == HvStatus::success);
    CHECK(h.partition().guest_signal_event(0, 0, 4, 1) == HvStatus::invalid_connection_id);
    CHECK(port->calls == 1);
  }
}

namespace {
// The first call blocks inside on_message until released; later ones are
// refused at once.
struct GatedPort final : MessagePort {
  std::promise<void> entered;
  std::shared_future<void> release;
  std::atomic<bool> returning{false};
  std::atomic<int> calls{0};
  bool on_message(const GuestMessage&) override {
    if (calls.fetch_add(1) != 0) return false;
    entered.set_value();
    release.wait();
    returning.store(true);
    return true;
  }
};
}  // namespace

TEST_CASE("ports: dropping a handle while another VP's call is in flight blocks until the call returns") {
  Harness h;
  std::promise<void> release;
  auto port = std::make_shared<GatedPort>();
  port->release = release.get_future().share();
  auto handle = *h.partition().add_message_port(6, 0, port);

  // VP 0's "CPU thread" is inside the port.
  auto guest = std::async(std::launch::async, [&] { return guest_post(h, 6, "x", 1, 0, 0); });
  port->entered.get_future().wait();

  // Another thread drops the handle; it must not return while the call runs.
  std::atomic<bool> seen_returning_at_release{false};
  auto dropper = std::async(std::launch::async, [&] {
    handle.reset();
    seen_returning_at_release.store(port->returning.load());
  });
  // Once the id is unregistered the dropper is waiting for the call.
  while (guest_post(h, 6, "y", 1, 0, 1) != HvStatus::invalid_connection_id) std::this_thread::yield();
  release.set_value();
  dropper.get();
  CHECK(seen_returning_at_release.load());
  CHECK(guest.get() == HvStatus::success);
}
