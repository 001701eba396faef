// The runner end to end on the built x86-64 guests: outcomes, exit codes,
// determinism and option errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>

#include "emu/runner.h"

using namespace softsynic::emu;

namespace {

RunnerOptions guest(const std::string& name, std::ostringstream& console) {
  RunnerOptions o;
  o.image = std::string(SOFTSYNIC_GUEST_DIR) + "/x86_64/" + name + ".elf";
  o.console = &console;
  o.timeout_seconds = 60;
  return o;
}

}  // namespace

TEST_CASE("runner: the echo guest exits 0 after printing its PASS lines") {
  std::ostringstream console;
  Runner runner(guest("post_echo", console));
  RunResult r = runner.run();
  CHECK(r.outcome == RunOutcome::guest_exit);
  CHECK(r.exit_code == 0);
  CHECK(exit_status(r) == 0);
  CHECK(console.str().find("PASS: HvPostMessage to the echo port") != std::string::npos);
  CHECK(console.str().find("FAIL") == std::string::npos);
}

TEST_CASE("runner: the same image and options give the same console output and SynIC log") {
  auto run_once = [] {
    std::ostringstream console;
    std::ostringstream log;
    RunnerOptions o = guest("cross_vp", console);
    o.vps = 4;
    o.log = &log;
    Runner runner(o);
    RunResult r = runner.run();
    INFO(console.str(), r.message);
    CHECK(r.outcome == RunOutcome::guest_exit);
    return console.str() + log.str() + std::to_string(r.blocks);
  };
  const std::string first = run_once();
  CHECK(first.find("message_delivered") != std::string::npos);
  CHECK(run_once() == first);
}

TEST_CASE("runner: guest faults, deadlocks and runaway loops end the run with their own status") {
  struct Row {
    const char* image;
    std::uint32_t vps;
    RunOutcome outcome;
    int status;
  };
  const Row rows[] = {
      {"misbehave_unmapped", 1, RunOutcome::guest_fault, kExitGuestFault},
      {"misbehave_triple_fault", 1, RunOutcome::triple_fault, kExitTripleFault},
      {"misbehave_deadlock", 2, RunOutcome::deadlock, kExitDeadlock},
      {"misbehave_runaway", 1, RunOutcome::timeout, kExitTimeout},
  };
  for (const Row& row : rows) {
    CAPTURE(row.image);
    std::ostringstream console;
    RunnerOptions o = guest(row.image, console);
    o.vps = row.vps;
    o.timeout_blocks = 1'000'000;
    Runner runner(o);
    RunResult r = runner.run();
    CHECK(r.outcome == row.outcome);
    CHECK(exit_status(r) == row.status);
    CHECK(!r.message.empty());
  }
}

TEST_CASE("runner: bad options are host errors, not crashes") {
  std::ostringstream console;
  RunnerOptions missing = guest("does_not_exist", console);
  CHECK_THROWS_AS(Runner{missing}, std::runtime_error);
  RunnerOptions unknown_feature = guest("post_echo", console);
  unknown_feature.features_off = {"no_such_feature"};
  CHECK_THROWS_AS(Runner{unknown_feature}, std::invalid_argument);
  RunnerOptions tiny = guest("post_echo", console);
  tiny.memory = 64 * 1024;
  CHECK_THROWS_AS(Runner{tiny}, std::invalid_argument);
}

TEST_CASE("runner: a recorded run writes a trace and a timeline of what crossed the SynIC") {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string trace = (dir / "softsynic_runner_test_trace.json").string();
  const std::string timeline = (dir / "softsynic_runner_test_timeline.json").string();
  std::ostringstream console;
  RunnerOptions o = guest("post_echo", console);
  o.record_path = trace;
  o.timeline_path = timeline;
  Runner runner(o);
  RunResult r = runner.run();
  CHECK(r.outcome == RunOutcome::guest_exit);
  CHECK(r.record_error.empty());
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::string t = slurp(trace);
  CHECK(t.find("\"softsynic-trace\"") != std::string::npos);
  CHECK(t.find("\"post_message\"") != std::string::npos);
  const std::string tl = slurp(timeline);
  CHECK(tl.find("traceEvents") != std::string::npos);
  CHECK(tl.find("HvPostMessage") != std::string::npos);
  std::filesystem::remove(trace);
  std::filesystem::remove(timeline);
}

TEST_CASE("runner: on the pc platform, isa-debug-exit sets the status to twice the code plus one, and early exceptions end the run") {
  struct Row {
    const char* kernel;
    RunOutcome outcome;
    int status;
    const char* message;
  };
  const Row rows[] = {
      {"pc_exit_pass", RunOutcome::guest_exit, 1, "exited with code 1"},
      {"pc_exit_skip", RunOutcome::guest_exit, 77, "exited with code 77"},
      {"pc_early_fault", RunOutcome::guest_fault, kExitGuestFault, "vector 6 raised before the guest entered long mode"},
      {"pc_exit_hang", RunOutcome::timeout, kExitTimeout, "timeout"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.kernel);
    std::ostringstream console;
    RunnerOptions o;
    o.platform = Platform::pc;
    o.image = std::string(SOFTSYNIC_GUEST_DIR) + "/pc/" + row.kernel + ".elf";
    o.arguments = "runner-test";
    o.console = &console;
    o.timeout_blocks = 2'000'000;
    Runner runner(o);
    RunResult r = runner.run();
    INFO(console.str());
    CHECK(r.outcome == row.outcome);
    CHECK(exit_status(r) == row.status);
    CHECK(r.message.find(row.message) != std::string::npos);
  }
}

TEST_CASE("runner: pc platform options that cannot work are refused") {
  std::ostringstream console;
  RunnerOptions o;
  o.platform = Platform::pc;
  o.image = std::string(SOFTSYNIC_GUEST_DIR) + "/pc/pc_exit_pass.elf";
  o.console = &console;
  RunnerOptions arm = o;
  arm.arch = Arch::aarch64;
  CHECK_THROWS_AS(Runner{arm}, std::invalid_argument);
  RunnerOptions too_many = o;
  too_many.vps = 256;
  CHECK_THROWS_AS(Runner{too_many}, std::invalid_argument);
  RunnerOptions too_big = o;
  too_big.memory = 4ull << 30;
  CHECK_THROWS_AS(Runner{too_big}, std::invalid_argument);
  RunnerOptions recorded = o;
  recorded.record_path = "/tmp/never-written.json";
  CHECK_THROWS_AS(Runner{recorded}, std::invalid_argument);
  RunnerOptions not_multiboot = o;
  not_multiboot.image = std::string(SOFTSYNIC_GUEST_DIR) + "/x86_64/post_echo.elf";
  CHECK_THROWS_AS(Runner{not_multiboot}, std::runtime_error);
}
