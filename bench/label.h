// How a benchmark tells bench/report.py what it is compared with: its label
// names its floor (the benchmark family measuring the irreducible work of
// the same path) and its targets. The report pairs each benchmark with the
// floor row that has the same arguments and thread count.
#pragma once

#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>

namespace softsynic::bench {

struct Target {
  const char* floor = nullptr;  // floor family, e.g. "signal_event/floor"
  double max_ratio = 0;         // 0: no ratio target
  double max_ns = 0;            // 0: no absolute target
};

// Label "floor=<family> max_ratio=<r> max_ns=<n>"; every benchmark also
// reports items processed so the report derives ns/op the same way for all.
inline void describe(benchmark::State& state, const Target& target, std::int64_t ops_per_iteration = 1) {
  std::string label;
  if (target.floor) label += std::string("floor=") + target.floor;
  if (target.max_ratio > 0) label += " max_ratio=" + std::to_string(target.max_ratio);
  if (target.max_ns > 0) label += " max_ns=" + std::to_string(target.max_ns);
  if (!label.empty()) state.SetLabel(label);
  state.SetItemsProcessed(state.iterations() * ops_per_iteration);
}

// A floor reports items processed too, and nothing else.
inline void describe_floor(benchmark::State& state, std::int64_t ops_per_iteration = 1) {
  state.SetItemsProcessed(state.iterations() * ops_per_iteration);
}

// The iteration count as the unsigned counters compare it.
inline std::uint64_t iterations(const benchmark::State& state) {
  return static_cast<std::uint64_t>(state.iterations());
}

// Fails the run (the smoke test and the report notice) unless `ok`.
inline bool expect(benchmark::State& state, bool ok, const char* what) {
  if (!ok) state.SkipWithError(what);
  return ok;
}

}  // namespace softsynic::bench
