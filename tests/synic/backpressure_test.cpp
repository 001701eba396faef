// Backpressure: bounded SINT queues, queue_full, async waiters resumed when
// the guest frees room (callback and use_future), cancellation, and
// partition configuration checks.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <optional>
#include <stdexcept>

#include "tests/synic/harness.h"

using namespace softsynic;
using softsynic::test::Harness;

namespace {

using Result = std::optional<boost::system::error_code>;

void async_post(Harness& h, unsigned sint, std::string_view text, Result& out, std::uint32_t vp = 0) {
  const auto b = test::bytes(text);
  h.partition().async_post_message(0, vp, static_cast<std::uint8_t>(sint), 1, b,
                                   [&out](boost::system::error_code ec) { out = ec; });
}

// SINT 0 ready, its slot busy with "m0" and `queued` more messages queued.
void fill_queue(Harness& h, std::size_t queued) {
  h.ready(0);
  REQUIRE_FALSE(h.post(0, 1, "m0"));
  h.run();
  for (std::size_t i = 1; i <= queued; ++i) REQUIRE_FALSE(h.post(0, 1, "m" + std::to_string(i)));
  h.run();
}

}  // namespace

TEST_CASE("backpressure: post_message reports queue_full at capacity and queues nothing") {
  Harness h(test::config(1, 1, 4));
  h.enable();  // SINT 0 masked: nothing drains
  for (int i = 0; i < 4; ++i) CHECK_FALSE(h.post(0, 1, std::to_string(i)));
  CHECK(h.post(0, 1, "overflow") == make_error_code(Error::queue_full));
  CHECK(h.vp().queued_messages(0, 0) == 4);
  CHECK_FALSE(h.post(1, 1, "other SINT"));  // queues are per SINT
  h.unmask(0);
  for (int i = 0; i < 4; ++i) {
    h.run();
    CHECK(Harness::payload_of(h.slot(0)) == std::to_string(i));
    h.consume(0);
  }
  h.run();
  CHECK(h.slot(0).header.message_type == 0);
}

TEST_CASE("backpressure: an async waiter is resumed once the guest frees a slot") {
  Harness h(test::config(1, 1, 2));
  fill_queue(h, 2);
  CHECK(h.post(0, 1, "m3") == make_error_code(Error::queue_full));
  Result done;
  async_post(h, 0, "m3", done);
  h.run();
  CHECK_FALSE(done);
  h.consume(0);  // m1 moves into the slot, making room for m3
  h.run();
  REQUIRE(done);
  CHECK_FALSE(*done);
  for (const char* expected : {"m1", "m2", "m3"}) {
    CHECK(Harness::payload_of(h.slot(0)) == expected);
    h.consume(0);
    h.run();
  }
}

TEST_CASE("backpressure: async_post_message works with use_future") {
  Harness h(test::config(1, 1, 1));
  fill_queue(h, 1);
  const auto b = test::bytes("later");
  auto f = h.partition().async_post_message(0, 0, 0, 1, b, boost::asio::use_future);
  h.run();
  CHECK(f.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  h.consume(0);
  h.run();
  REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK_NOTHROW(f.get());
}

TEST_CASE("backpressure: async_post_message works with use_awaitable") {
  Harness h(test::config(1, 1, 1));
  fill_queue(h, 1);
  Result done;
  auto coroutine = [&]() -> boost::asio::awaitable<void> {
    const auto b = test::bytes("awaited");
    try {
      co_await h.partition().async_post_message(0, 0, 0, 1, b, boost::asio::use_awaitable);
      done = boost::system::error_code{};
    } catch (const boost::system::system_error& e) {
      done = e.code();
    }
  };
  boost::asio::co_spawn(h.exec.executor(), coroutine(), boost::asio::detached);
  h.run();
  CHECK_FALSE(done);
  h.consume(0);
  h.run();
  REQUIRE(done);
  CHECK_FALSE(*done);
}

namespace {
struct QueuedCounter final : SynicObserver {
  int queued = 0;
  void on_synic_event(const SynicEvent& e) override { queued += e.kind == SynicEventKind::host_post_queued; }
};
}  // namespace

TEST_CASE("backpressure: a waiting async post is reported to the observer when it enters the queue") {
  Harness h(test::config(1, 1, 1));
  fill_queue(h, 1);
  QueuedCounter counter;
  h.partition().set_observer(&counter);
  Result done;
  async_post(h, 0, "late", done);
  h.run();
  CHECK(counter.queued == 0);
  h.consume(0);
  h.run();
  CHECK(counter.queued == 1);
  h.partition().set_observer(nullptr);
}

TEST_CASE("backpressure: an async post that finds room completes without waiting for the guest") {
  Harness h;
  h.enable();
  Result done;
  async_post(h, 0, "fits", done);
  CHECK_FALSE(done);  // never completed inline
  h.run();
  REQUIRE(done);
  CHECK_FALSE(*done);
  CHECK(h.vp().queued_messages(0, 0) == 1);
}

TEST_CASE("backpressure: async argument errors complete with the error") {
  Harness h;
  Result done;
  const auto b = test::bytes("x");
  h.partition().async_post_message(0, 5, 0, 1, b, [&](boost::system::error_code ec) { done = ec; });
  h.run();
  REQUIRE(done);
  CHECK(*done == make_error_code(Error::invalid_vp));
  done.reset();
  h.partition().async_post_message(0, 0, 0, 0, b, [&](boost::system::error_code ec) { done = ec; });
  h.run();
  REQUIRE(done);
  CHECK(*done == make_error_code(Error::invalid_message_type));
}

TEST_CASE("backpressure: waiters keep their order and plain posts do not overtake them") {
  Harness h(test::config(1, 1, 1));
  fill_queue(h, 1);
  Result a, b;
  async_post(h, 0, "w1", a);
  async_post(h, 0, "w2", b);
  h.consume(0);  // m1 -> slot, w1 admitted
  h.run();
  CHECK(a);
  CHECK_FALSE(b);
  CHECK(h.post(0, 1, "plain") == make_error_code(Error::queue_full));
  for (const char* expected : {"m1", "w1", "w2"}) {
    CHECK(Harness::payload_of(h.slot(0)) == expected);
    h.consume(0);
    h.run();
  }
  CHECK(b);
}

TEST_CASE("backpressure: destroying the partition cancels waiters") {
  DeterministicExecutor exec;
  RamGuestMemory memory(test::kRamSize);
  Result done;
  {
    Partition p(test::config(1, 1, 1), memory, exec.executor());
    const auto b = test::bytes("x");
    CHECK_FALSE(p.post_message(0, 0, 0, 1, b));
    p.async_post_message(0, 0, 0, 1, b, [&](boost::system::error_code ec) { done = ec; });
    exec.run_until_idle();
    CHECK_FALSE(done);
  }
  exec.run_until_idle();
  REQUIRE(done);
  CHECK(*done == make_error_code(Error::cancelled));
}

TEST_CASE("partition: a bad configuration is host misuse and throws invalid_argument") {
  DeterministicExecutor exec;
  RamGuestMemory memory(test::kRamSize);
  struct Case {
    std::uint32_t vps;
    std::uint8_t vtls;
    std::uint32_t capacity;
    bool ok;
  };
  const Case cases[] = {{1, 1, 1, true},     {1, 3, 65535, true}, {0, 1, 64, false}, {1, 0, 64, false},
                        {1, 4, 64, false},   {1, 1, 0, false},    {1, 1, 65536, false}};
  for (const auto& c : cases) {
    CAPTURE(c.vps);
    CAPTURE(c.vtls);
    CAPTURE(c.capacity);
    auto make = [&] { Partition p(test::config(c.vps, c.vtls, c.capacity), memory, exec.executor()); };
    if (c.ok)
      CHECK_NOTHROW(make());
    else
      CHECK_THROWS_AS(make(), std::invalid_argument);
  }
  CHECK_THROWS_AS(Partition(test::config(), memory, std::function<boost::asio::any_io_executor(std::uint32_t)>{}),
                  std::invalid_argument);
  Partition p(test::config(2), memory, exec.executor());
  CHECK_THROWS_AS(p.vp(2), std::out_of_range);
  CHECK(p.vp(1).index() == 1);
  CHECK_FALSE(p.prefer_os_events());
  CHECK(p.monitor_support() == nullptr);
  CHECK(&p.memory() == &memory);
}
