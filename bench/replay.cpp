// Replay speed in trace steps per second (docs/TRACE_FORMAT.md): a trace of
// a typical mix, repeated kCycles times after the driver start-up, replayed
// by softsynic::replay::replay_trace on its deterministic machine. Each cycle:
// fast HvSignalEvent, a host event flag taken and EOIed and cleared, a host
// message taken, EOIed and freed, and an RDMSR: 10 steps through the same
// entry points an emulator uses. Loading (JSON parsing) is not timed; the
// machine's construction is, once per replay.
// Target: at least 10^6 steps per second.
#include <cstdint>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "emu/replay/replayer.h"
#include "emu/replay/trace_loader.h"

namespace softsynic::bench {
namespace {

constexpr int kCycles = 1000;

std::string make_trace() {
  std::ostringstream t;
  t << R"({"format": "softsynic-trace", "version": 1,
  "description": "replay speed: driver start-up, then a mix of guest and host steps",
  "machine": {"arch": "x86_64", "vendor": "intel", "vp_count": 1, "vtl_count": 1,
              "memory": [{"gpa": "0x0", "size": "0x100000"}]},
  "steps": [
    {"op": "wrmsr", "vp": 0, "msr": "GUEST_OS_ID", "value": "0x8100000000000001"},
    {"op": "wrmsr", "vp": 0, "msr": "HYPERCALL", "value": "0x1001"},
    {"op": "wrmsr", "vp": 0, "msr": "SIMP", "value": "0x10001"},
    {"op": "wrmsr", "vp": 0, "msr": "SIEFP", "value": "0x11001"},
    {"op": "wrmsr", "vp": 0, "msr": "SINT2", "value": "0x50"},
    {"op": "wrmsr", "vp": 0, "msr": "SCONTROL", "value": 1},
    {"op": "add_event_port", "id": "ev", "connection_id": "0x1005"},
    {"op": "new_guest_event_port", "id": "g", "vp": 0, "sint": 2, "flag": 5})";
  for (int i = 0; i < kCycles; ++i) {
    t << R"(,
    {"op": "hypercall", "vp": 0, "regs": {"rcx": "0x1005d", "rdx": "0x300001005"}, "expect_status": "HV_STATUS_SUCCESS"},
    {"op": "signal_guest_event", "id": "g"},
    {"op": "expect_interrupt", "vp": 0, "vector": "0x50"},
    {"op": "eoi", "vp": 0},
    {"op": "write", "gpa": "0x11200", "bytes": "00 00 00 00 00 00 00 00"},
    {"op": "post_message", "vp": 0, "sint": 2, "type": 1, "payload": "01 02 03 04"},
    {"op": "expect_interrupt", "vp": 0, "vector": "0x50"},
    {"op": "eoi", "vp": 0},
    {"op": "write", "gpa": "0x10200", "bytes": "00 00 00 00"},
    {"op": "rdmsr", "vp": 0, "msr": "SCONTROL", "expect_value": 1})";
  }
  t << "\n  ]}\n";
  return t.str();
}

void replay_mix(benchmark::State& state) {
  const replay::LoadResult loaded = replay::load_trace(make_trace());
  if (!expect(state, static_cast<bool>(loaded), "benchmark trace does not load")) return;
  const replay::Trace& trace = *loaded.trace;
  bool passed = true;
  std::string failure;
  for (auto _ : state) {
    const replay::ReplayResult result = replay::replay_trace(trace);
    if (!result.passed() && passed) {
      passed = false;
      failure = replay::format_result("replay benchmark", result).substr(0, 300);
    }
  }
  if (!passed) state.SkipWithError(failure.c_str());
  describe(state, {}, static_cast<std::int64_t>(trace.steps.size()));
  state.counters["steps_per_replay"] = static_cast<double>(trace.steps.size());
}
BENCHMARK(replay_mix)->Name("replay/mix")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace softsynic::bench
