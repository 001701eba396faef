// Reference time from the host clock (emu/host_time_source.h,
// RunnerOptions::host_clock) and VirtualClock::advance_to. Bounds here are
// lower bounds of sleeps, which hold on any machine, not speed checks.
#include <doctest/doctest.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "emu/host_time_source.h"
#include "emu/runner.h"
#include "synic/time_source.h"

using namespace softsynic;
using namespace softsynic::emu;

TEST_CASE("host time: SteadyClockTimeSource counts 100 ns ticks from its offset and never goes back") {
  SteadyClockTimeSource t(5'000'000);
  const std::uint64_t a = t.now();
  CHECK(a >= 5'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::uint64_t b = t.now();
  CHECK(b >= a + 200'000);  // 20 ms = 200000 x 100 ns
  CHECK(t.when(5'000'000) <= std::chrono::steady_clock::now());
  CHECK(t.when(0) == t.when(5'000'000));  // before the offset: the start
  CHECK(t.when(b + 10'000'000) > std::chrono::steady_clock::now());
}

TEST_CASE("virtual clock: advance_to moves forward only") {
  VirtualClock c;
  c.advance_to(100);
  CHECK(c.now() == 100);
  c.advance_to(50);
  CHECK(c.now() == 100);
  c.advance(5);
  c.advance_to(105);
  CHECK(c.now() == 105);
}

TEST_CASE("runner: with the host clock a halted guest waits in host time for its timers") {
  std::ostringstream console;
  RunnerOptions o;
  o.image = std::string(SOFTSYNIC_GUEST_DIR) + "/x86_64/stimer_periodic.elf";
  o.console = &console;
  o.timeout_seconds = 60;
  o.host_clock = true;
  const auto start = std::chrono::steady_clock::now();
  Runner runner(o);
  RunResult r = runner.run();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  INFO(console.str(), r.message);
  CHECK(r.outcome == RunOutcome::guest_exit);
  // The guest sleeps one reference second: in host time that is at least
  // one host second. The message-mode timer is non-lazy, so every one of
  // the 1000 expiries still arrives however late the host ran it; the
  // guest's own exact-grid checks are for the virtual clock and may fail.
  // A host that runs late may fit one more expiry into the guest's
  // window; none may be missing.
  CHECK(elapsed >= std::chrono::seconds(1));
  std::smatch m;
  const std::string out = console.str();
  REQUIRE(std::regex_search(out, m, std::regex(R"(sleeping: (\d+) messages)")));
  CHECK(std::stoul(m[1]) >= 1000);
}
