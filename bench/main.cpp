// softsynic-bench entry point: Google Benchmark's flags, the compiler and
// build type in the report's context, and a non-zero exit when any
// benchmark failed its own check (so the smoke test can fail).
#include <cstddef>
#include <string>

#include <benchmark/benchmark.h>

namespace {

class CheckingReporter final : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) failures_ += r.error_occurred ? 1 : 0;
    ConsoleReporter::ReportRuns(runs);
  }
  std::size_t failures() const { return failures_; }

 private:
  std::size_t failures_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("compiler", SOFTSYNIC_BENCH_COMPILER);
  benchmark::AddCustomContext("build_type", SOFTSYNIC_BENCH_BUILD_TYPE);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  CheckingReporter reporter;
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (ran == 0) return 3;
  return reporter.failures() == 0 ? 0 : 1;
}
