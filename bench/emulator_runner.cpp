// On the reference emulator itself: softsynic::emu::Runner running the
// bench_* guests (tests/guests/x86_64/hypercall_bench.c: N repetitions of
// one operation). Each benchmark iteration runs the empty-loop guest and
// the operation's guest and counts the difference of their CPU time (the
// runner is deterministic, on this thread), divided by N: the cost of one
// operation without the loop or start-up.
//  - emulator_runner/out: OUT to an unused port (the bare trapped
//    instruction);
//  - emulator_runner/page: fast HvSignalEvent through the hypercall page
//    (code hook, decode, registry lookup answering INVALID_CONNECTION_ID);
//  - emulator_runner/vmcall: the same as a bare VMCALL (#UD exit path);
//  - emulator_runner/rdmsr: RDMSR SVERSION (MSR site hook and chain).
// Registered only when the guest images exist (built with the emulator).
#include <time.h>

#include <cstdint>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "emu/runner.h"

namespace softsynic::bench {
namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string image(const std::string& mode) { return std::string(SOFTSYNIC_BENCH_GUEST_DIR) + "/bench_" + mode + ".elf"; }

struct GuestRun {
  bool ok = false;
  double cpu_seconds = 0;
  std::uint64_t iterations = 0;  // as the guest printed it
  std::string message;
};

GuestRun run_guest(const std::string& mode) {
  GuestRun r;
  std::ostringstream console;
  emu::RunnerOptions options;
  options.image = image(mode);
  options.console = &console;
  emu::Runner runner(options);
  const double start = thread_cpu_seconds();
  const emu::RunResult result = runner.run();
  r.cpu_seconds = thread_cpu_seconds() - start;
  std::smatch m;
  const std::string out = console.str();
  if (std::regex_search(out, m, std::regex(R"((\d+) iterations)"))) r.iterations = std::stoull(m[1]);
  r.ok = result.outcome == emu::RunOutcome::guest_exit && result.exit_code == 0 && r.iterations > 0;
  if (!r.ok) r.message = "bench_" + mode + " did not finish: " + result.message + " " + out.substr(0, 200);
  return r;
}

void runner_op(benchmark::State& state, const std::string& mode, const Target& target) {
  std::uint64_t per_iteration = 0;
  double loop_ns = 0;
  for (auto _ : state) {
    const GuestRun empty = run_guest("empty");
    const GuestRun op = run_guest(mode);
    if (!empty.ok || !op.ok || empty.iterations != op.iterations) {
      state.SkipWithError((empty.ok ? op.message : empty.message).c_str());
      break;
    }
    per_iteration = op.iterations;
    loop_ns = empty.cpu_seconds * 1e9 / static_cast<double>(empty.iterations);
    state.SetIterationTime(std::max(op.cpu_seconds - empty.cpu_seconds, 1e-9));
  }
  if (state.error_occurred()) return;
  if (target.floor) {
    describe(state, target, static_cast<std::int64_t>(per_iteration));
  } else {
    describe_floor(state, static_cast<std::int64_t>(per_iteration));
  }
  state.counters["empty_loop_ns"] = loop_ns;
}

const bool registered = [] {
  const char* modes[] = {"empty", "out", "page", "vmcall", "rdmsr"};
  for (const char* mode : modes) {
    if (!std::filesystem::exists(image(mode))) return false;
  }
  auto add = [](const char* name, const char* mode, Target target) {
    benchmark::RegisterBenchmark(name, [mode, target](benchmark::State& s) { runner_op(s, mode, target); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  add("emulator_runner/out", "out", {});
  add("emulator_runner/page", "page", {"emulator_runner/out", 1.15});
  add("emulator_runner/vmcall", "vmcall", {"emulator_runner/out", 0});
  add("emulator_runner/rdmsr", "rdmsr", {"emulator_runner/out", 0});
  return true;
}();

}  // namespace
}  // namespace softsynic::bench
