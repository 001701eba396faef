// Fault tests of the host ports (TLFS "HvPostMessage", "HvSignalEvent"):
// ports that throw (std and non-std exceptions), a port that blocks while
// other VPs keep going, and ports dropped while a call is being dispatched.
// Threaded cases use a two-thread pool and latches; no sleep is an
// assertion.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <latch>
#include <thread>

#include "rig.h"

namespace softsynic::reliability {
namespace {

using namespace std::chrono_literals;
// Bound on waiting for work that must finish; reaching it is a hang.
constexpr auto kLiveness = 60s;

class ThrowingMessagePort final : public MessagePort {
 public:
  bool on_message(const GuestMessage&) override {
    ++calls;
    if (non_std) throw 42;
    throw std::runtime_error("message port broke");
  }
  int calls = 0;
  bool non_std = false;
};

class ThrowingEventPort final : public EventPort {
 public:
  void on_event(const GuestEvent&) override {
    ++calls;
    if (non_std) throw 42;
    throw std::runtime_error("event port broke");
  }
  int calls = 0;
  bool non_std = false;
};

HvStatus guest_post(Partition& p, std::uint32_t vp, std::uint32_t conn, std::string_view payload) {
  const auto b = bytes(payload);
  return p.guest_post_message(vp, 0, conn, 1, b);
}

TEST_CASE("fault: a message port that throws is contained, reported, answered INSUFFICIENT_BUFFERS, and works on") {
  for (bool non_std : {false, true}) {
    CAPTURE(non_std);
    DeterministicExecutor exec;
    Rig rig(exec.executor());
    auto bad = std::make_shared<ThrowingMessagePort>();
    bad->non_std = non_std;
    auto good = std::make_shared<RecordingMessagePort>();
    auto h1 = rig.partition().add_message_port(7, 0, bad);
    auto h2 = rig.partition().add_message_port(8, 0, good);
    REQUIRE(h1.has_value());
    REQUIRE(h2.has_value());
    CHECK(guest_post(rig.partition(), 0, 7, "a") == HvStatus::insufficient_buffers);
    CHECK(guest_post(rig.partition(), 1, 7, "b") == HvStatus::insufficient_buffers);
    CHECK(bad->calls == 2);
    CHECK(rig.errors().size() == 2);
    // The registry is intact: other ports and the same port keep answering.
    CHECK(guest_post(rig.partition(), 0, 8, "c") == HvStatus::success);
    CHECK(good->payloads() == std::vector<std::string>{"c"});
    CHECK(guest_post(rig.partition(), 0, 7, "d") == HvStatus::insufficient_buffers);
    CHECK(bad->calls == 3);
  }
}

TEST_CASE("fault: an event port that throws is contained, reported, and the guest still sees SUCCESS") {
  for (bool non_std : {false, true}) {
    CAPTURE(non_std);
    DeterministicExecutor exec;
    Rig rig(exec.executor());
    auto bad = std::make_shared<ThrowingEventPort>();
    bad->non_std = non_std;
    auto good = std::make_shared<CountingEventPort>();
    auto h1 = rig.partition().add_event_port(7, 0, bad);
    auto h2 = rig.partition().add_event_port(8, 0, good);
    REQUIRE(h1.has_value());
    REQUIRE(h2.has_value());
    CHECK(rig.partition().guest_signal_event(0, 0, 7, 3) == HvStatus::success);
    CHECK(rig.partition().guest_signal_event(1, 0, 7, 3) == HvStatus::success);
    CHECK(bad->calls == 2);
    CHECK(rig.errors().size() == 2);
    CHECK(rig.partition().guest_signal_event(0, 0, 8, 3) == HvStatus::success);
    CHECK(good->count == 1);
  }
}

// Blocks its caller until released; tells the test when a call entered.
class BlockingMessagePort final : public MessagePort {
 public:
  bool on_message(const GuestMessage&) override {
    entered.count_down();
    release.wait();
    return true;
  }
  std::latch entered{1};
  std::latch release{1};
};

TEST_CASE("fault: a port that blocks stalls only its caller's VP; other VPs and host posts keep going") {
  ThreadPoolExecutor pool(2);
  Rig rig(pool.executor(), config(2, 1, 8));
  auto blocking = std::make_shared<BlockingMessagePort>();
  auto good = std::make_shared<RecordingMessagePort>();
  auto h1 = rig.partition().add_message_port(7, 0, blocking);
  auto h2 = rig.partition().add_message_port(8, 0, good);
  REQUIRE(h1.has_value());
  REQUIRE(h2.has_value());

  // VP 1 gets its SynIC ready on its own strand.
  std::promise<void> vp1_ready;
  boost::asio::post(rig.vp(1).strand(), [&] {
    rig.ready(1, 0);
    vp1_ready.set_value();
  });
  REQUIRE(vp1_ready.get_future().wait_for(kLiveness) == std::future_status::ready);

  // VP 0's guest calls the blocking port and stays inside the hypercall.
  std::promise<HvStatus> vp0_status;
  boost::asio::post(rig.vp(0).strand(), [&] { vp0_status.set_value(guest_post(rig.partition(), 0, 7, "stuck")); });
  blocking->entered.wait();

  // Meanwhile VP 1 posts, receives a host message, and host posts to the
  // stalled VP 0 are queued without blocking the host thread.
  CHECK_FALSE(rig.post(0, 0, "for the stalled VP"));
  CHECK_FALSE(rig.post(1, 0, "for the running VP"));
  std::promise<std::pair<HvStatus, std::string>> vp1_work;
  boost::asio::post(rig.vp(1).strand(), [&] {
    const HvStatus s = guest_post(rig.partition(), 1, 8, "from vp1");
    rig.vp(1).deliver_pending();
    vp1_work.set_value({s, rig.consume(1, 0)});
  });
  auto vp1 = vp1_work.get_future();
  REQUIRE(vp1.wait_for(kLiveness) == std::future_status::ready);
  const auto [status, received] = vp1.get();
  CHECK(status == HvStatus::success);
  CHECK(received == "for the running VP");
  CHECK(good->payloads() == std::vector<std::string>{"from vp1"});
  CHECK(rig.vp(0).queued_messages(0, 0) == 1);

  // Released, VP 0's call completes normally.
  blocking->release.count_down();
  auto vp0 = vp0_status.get_future();
  REQUIRE(vp0.wait_for(kLiveness) == std::future_status::ready);
  CHECK(vp0.get() == HvStatus::success);
}

// Holds the call in flight until released, so the test can drop the
// handle meanwhile.
class GatedMessagePort final : public MessagePort {
 public:
  bool on_message(const GuestMessage&) override {
    calls.fetch_add(1);
    entered.count_down();
    release.wait();
    returned.store(true);
    return true;
  }
  std::atomic<int> calls{0};
  std::atomic<bool> returned{false};
  std::latch entered{1};
  std::latch release{1};
};

TEST_CASE("fault: a port dropped during dispatch finishes the call in flight; later calls get INVALID_CONNECTION_ID") {
  ThreadPoolExecutor pool(2);
  Rig rig(pool.executor());
  auto port = std::make_shared<GatedMessagePort>();
  auto handle = rig.partition().add_message_port(7, 0, port);
  REQUIRE(handle.has_value());

  std::promise<HvStatus> in_flight;
  boost::asio::post(rig.vp(0).strand(), [&] { in_flight.set_value(guest_post(rig.partition(), 0, 7, "in flight")); });
  port->entered.wait();

  // Drop the handle from a host thread while the call is inside the port.
  std::promise<bool> dropped;  // value: had the call returned when reset() did?
  std::thread dropper([&] {
    handle->reset();
    dropped.set_value(port->returned.load());
  });
  // The connection id frees up as soon as the entry is erased; reset()
  // then waits for the call in flight.
  PortHandle probe;  // dropped only after the release: see the next test
  while (true) {
    auto r = rig.partition().add_message_port(7, 0, std::make_shared<RecordingMessagePort>());
    if (r.has_value()) {
      probe = std::move(*r);
      break;
    }
    std::this_thread::yield();
  }
  port->release.count_down();
  auto dropped_future = dropped.get_future();
  REQUIRE(dropped_future.wait_for(kLiveness) == std::future_status::ready);
  dropper.join();
  CHECK(dropped_future.get());  // reset() returned only after the call did
  auto in_flight_future = in_flight.get_future();
  REQUIRE(in_flight_future.wait_for(kLiveness) == std::future_status::ready);
  CHECK(in_flight_future.get() == HvStatus::success);

  probe.reset();
  // The port is never called again; its id answers INVALID_CONNECTION_ID.
  std::promise<HvStatus> after;
  boost::asio::post(rig.vp(1).strand(), [&] { after.set_value(guest_post(rig.partition(), 1, 7, "after")); });
  auto after_future = after.get_future();
  REQUIRE(after_future.wait_for(kLiveness) == std::future_status::ready);
  CHECK(after_future.get() == HvStatus::invalid_connection_id);
  CHECK(port->calls.load() == 1);
}

TEST_CASE("fault: dropping one port does not wait for a call blocked in another port") {
  ThreadPoolExecutor pool(2);
  Rig rig(pool.executor());
  auto blocked = std::make_shared<GatedMessagePort>();
  auto a = rig.partition().add_message_port(7, 0, blocked);
  auto b = rig.partition().add_message_port(8, 0, std::make_shared<RecordingMessagePort>());
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  std::promise<HvStatus> in_flight;
  boost::asio::post(rig.vp(0).strand(), [&] { in_flight.set_value(guest_post(rig.partition(), 0, 7, "blocked")); });
  blocked->entered.wait();

  // Port 8 has no call in flight: dropping it must not wait for port 7's.
  std::promise<void> dropped;
  std::thread dropper([&] {
    b->reset();
    dropped.set_value();
  });
  auto dropped_future = dropped.get_future();
  const bool returned = dropped_future.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  blocked->release.count_down();  // unblock either way, so the test ends
  dropper.join();
  CHECK(returned);
  auto in_flight_future = in_flight.get_future();
  REQUIRE(in_flight_future.wait_for(kLiveness) == std::future_status::ready);
  CHECK(in_flight_future.get() == HvStatus::success);
}

TEST_CASE("fault: an event port dropped mid-traffic is never called after reset() returns") {
  DeterministicExecutor exec;
  Rig rig(exec.executor());
  auto port = std::make_shared<CountingEventPort>();
  auto handle = rig.partition().add_event_port(7, 0, port);
  REQUIRE(handle.has_value());
  CHECK(rig.partition().guest_signal_event(0, 0, 7, 1) == HvStatus::success);
  handle->reset();
  CHECK(rig.partition().guest_signal_event(0, 0, 7, 1) == HvStatus::invalid_connection_id);
  CHECK(port->count == 1);
}

}  // namespace
}  // namespace softsynic::reliability
