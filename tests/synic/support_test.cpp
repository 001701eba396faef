// Error names and category, RamGuestMemory bounds and atomics, executors.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <future>
#include <limits>
#include <stdexcept>

#include <boost/asio/post.hpp>

#include "synic/errors.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"

using namespace softsynic;

TEST_CASE("errors: every error has a stable snake_case name that round-trips") {
  const std::pair<Error, std::string_view> names[] = {
      {Error::ok, "ok"},
      {Error::queue_full, "queue_full"},
      {Error::invalid_vp, "invalid_vp"},
      {Error::invalid_vtl, "invalid_vtl"},
      {Error::invalid_sint, "invalid_sint"},
      {Error::invalid_flag, "invalid_flag"},
      {Error::payload_too_large, "payload_too_large"},
      {Error::invalid_message_type, "invalid_message_type"},
      {Error::connection_id_in_use, "connection_id_in_use"},
      {Error::null_port, "null_port"},
      {Error::sint_not_ready, "sint_not_ready"},
      {Error::flag_already_set, "flag_already_set"},
      {Error::cancelled, "cancelled"},
  };
  for (const auto& entry : names) {
    const auto [e, name] = entry;
    CAPTURE(entry.second);
    CHECK(error_name(e) == name);
    CHECK(error_from_name(name) == e);
    CHECK(make_error_code(e).message() == name);
  }
  CHECK(error_name(static_cast<Error>(999)).empty());
  CHECK_FALSE(error_from_name("no_such_error"));
  CHECK(std::string_view(error_category().name()) == "softsynic");
  CHECK(make_error_code(Error::queue_full).category() == error_category());
  const boost::system::error_code ec = Error::cancelled;  // is_error_code_enum
  CHECK(ec == make_error_code(Error::cancelled));
}

TEST_CASE("guest memory: regions must be non-empty, 4 KiB aligned and disjoint") {
  using R = RamGuestMemory::Region;
  const std::vector<std::vector<R>> bad = {
      {{0, 0}},
      {{0x800, 0x1000}},
      {{0, 0x1800}},
      {{0, 0x2000}, {0x1000, 0x1000}},
      {{0xFFFF'FFFF'FFFF'F000, 0x2000}},
  };
  for (const auto& regions : bad) CHECK_THROWS_AS(RamGuestMemory{regions}, std::invalid_argument);
  CHECK_NOTHROW(RamGuestMemory({{0, 0x1000}, {0x1000, 0x1000}, {0x10'0000, 0x1000}}));
}

TEST_CASE("guest memory: reads and writes are bounds-checked, overflow-safe and zero-filled") {
  RamGuestMemory m({{0x1000, 0x2000}, {0xFFFF'FFFF'FFFF'E000, 0x1000}});
  std::array<std::byte, 16> buf{};
  buf.fill(std::byte{0xEE});
  CHECK(m.read(0x1000, buf));
  CHECK(buf[0] == std::byte{0});
  const std::array<std::byte, 4> data{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  CHECK(m.write(0x2FFC, data));                          // last bytes of the region
  CHECK_FALSE(m.write(0x2FFD, data));                    // one past the end
  CHECK_FALSE(m.write(0x0FFF, data));                    // starts before RAM
  CHECK_FALSE(m.read(0xFFFF'FFFF'FFFF'FFF8, buf));       // would wrap past 2^64
  CHECK_FALSE(m.read(std::numeric_limits<std::uint64_t>::max(), buf));
  CHECK(m.read(0xFFFF'FFFF'FFFF'EFF0, buf));
  std::array<std::byte, 4> back{};
  CHECK(m.read(0x2FFC, back));
  CHECK(back == data);
  CHECK(m.host_pointer(0x1000, 0x2000) != nullptr);
  CHECK(m.host_pointer(0x1000, 0x2001) == nullptr);
  CHECK(m.host_pointer(0x3000, 1) == nullptr);
}

TEST_CASE("guest memory: fetch_or_u64 returns the previous value and rejects misaligned or non-RAM addresses") {
  RamGuestMemory m(0x1000);
  CHECK(m.fetch_or_u64(8, 0x1) == 0u);
  CHECK(m.fetch_or_u64(8, 0x100) == 0x1u);
  std::uint64_t v = 0;
  m.read(8, std::as_writable_bytes(std::span(&v, 1)));
  CHECK(v == 0x101);
  CHECK_FALSE(m.fetch_or_u64(4, 1));
  CHECK_FALSE(m.fetch_or_u64(0x1000, 1));
  CHECK(m.fetch_or_u64(0xFF8, 1) == 0u);
}

TEST_CASE("deterministic executor: run_until_idle runs work posted by work until none is left") {
  DeterministicExecutor exec;
  int depth = 0;
  std::function<void()> step = [&] {
    if (++depth < 5) boost::asio::post(exec.executor(), step);
  };
  boost::asio::post(exec.executor(), step);
  CHECK(exec.run_until_idle() == 5);
  CHECK(depth == 5);
  CHECK(exec.run_until_idle() == 0);
}

TEST_CASE("thread pool executor: runs posted work on its threads and joins on destruction") {
  std::promise<std::thread::id> ran;
  auto f = ran.get_future();
  {
    ThreadPoolExecutor pool(2);
    boost::asio::post(pool.executor(), [&] { ran.set_value(std::this_thread::get_id()); });
    CHECK(f.get() != std::this_thread::get_id());
  }
}
