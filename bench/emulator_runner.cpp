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
//  - emulator_runner/rdmsr: RDMSR SVERSION (MSR site hook and chain);
//  - emulator_runner/wrmsr: WRMSR SINT3 with its own value;
//  - emulator_runner/aarch64_hvc_signal: ARM64, fast HvSignalEvent over
//    HVC #1 (the same lookup as /page); emulator_runner/aarch64_hvc_smccc:
//    fast HvGetVpRegisters(VP_INDEX) over HVC #0 (SMCCC, as Linux calls),
//    both as ratios to the x86 OUT trap (ARM64 has no cheaper trapped
//    instruction to set beside them);
//  - emulator_runner/compute: a guest compute loop in the runner, beside
//    emulator_runner/compute_bare: the same image on a bare Unicorn engine
//    (no hooks, the boot state only), the cost the CPU emulation sets;
//    emulator_runner/compute_bare_block_hook: the bare engine with an empty
//    UC_HOOK_BLOCK callback that counts blocks, the least any engine that
//    must see every block (slices, interrupt windows) pays on Unicorn.
// Registered only when the guest images exist (built with the emulator).
#include <time.h>

#include <cstdint>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "emu/image_loader.h"
#include "emu/runner.h"
#include "emu/unicorn/uc_engine.h"
#include "emu/x86/x86_boot.h"
#include "synic/guest_memory.h"

namespace softsynic::bench {
namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string image_path(const std::string& mode) {
  // "aarch64_<mode>": the ARM64 guest of that mode.
  constexpr std::string_view kArm = "aarch64_";
  if (mode.rfind(kArm, 0) == 0)
    return std::string(SOFTSYNIC_BENCH_AARCH64_GUEST_DIR) + "/bench_" + mode.substr(kArm.size()) + ".elf";
  return std::string(SOFTSYNIC_BENCH_GUEST_DIR) + "/bench_" + mode + ".elf";
}

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
  options.image = image_path(mode);
  if (mode.rfind("aarch64_", 0) == 0) options.arch = emu::Arch::aarch64;
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
  const std::string empty_mode = mode.rfind("aarch64_", 0) == 0 ? "aarch64_empty" : "empty";
  for (auto _ : state) {
    const GuestRun empty = run_guest(empty_mode);
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

// The exit port ends the bare run (the only hook: the loop has no OUT).
void bare_out(uc_engine* uc, std::uint32_t port, int, std::uint32_t, void*) {
  if (port == 0xF4) uc_emu_stop(uc);
}

void count_block(uc_engine*, std::uint64_t, std::uint32_t, void* user) { ++*static_cast<std::uint64_t*>(user); }

// The compute image on a bare engine: RAM, boot tables and state, and one
// OUT hook for the exit; the console's OUTs go nowhere. With block_hook,
// an empty block hook too.
double bare_compute_seconds(bool& ok, bool block_hook) {
  constexpr std::uint64_t kRam = 64ull << 20;
  RamGuestMemory ram(kRam);
  const emu::LoadedImage image =
      emu::load_image(image_path("compute"), ram, emu::memory_layout(emu::Arch::x86_64).image_base, 62 /* EM_X86_64 */,
                      emu::x86::kBootTablesEnd, kRam);
  emu::x86::write_boot_tables(ram);
  emu::unicorn::UcHandle uc = emu::unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
  emu::unicorn::map_guest_ram(uc.get(), ram);
  emu::x86::load_boot_state(uc.get(), image.entry, kRam, 0, 1);
  uc_hook hook;
  uc_hook_add(uc.get(), &hook, UC_HOOK_INSN, reinterpret_cast<void*>(&bare_out), nullptr, 1, 0, UC_X86_INS_OUT);
  std::uint64_t blocks = 0;
  if (block_hook) uc_hook_add(uc.get(), &hook, UC_HOOK_BLOCK, reinterpret_cast<void*>(&count_block), &blocks, 1, 0);
  const double start = thread_cpu_seconds();
  ok = uc_emu_start(uc.get(), image.entry, 0, 0, 0) == UC_ERR_OK;
  return thread_cpu_seconds() - start;
}

enum class ComputeOn { runner, bare, bare_block_hook };

void compute(benchmark::State& state, ComputeOn on) {
  const bool bare = on != ComputeOn::runner;
  for (auto _ : state) {
    if (bare) {
      bool ok = false;
      const double seconds = bare_compute_seconds(ok, on == ComputeOn::bare_block_hook);
      if (!ok) {
        state.SkipWithError("bare Unicorn did not run the compute image");
        break;
      }
      state.SetIterationTime(seconds);
    } else {
      const GuestRun run = run_guest("compute");
      if (!run.ok) {
        state.SkipWithError(run.message.c_str());
        break;
      }
      state.SetIterationTime(run.cpu_seconds);
    }
  }
  if (state.error_occurred()) return;
  switch (on) {
    case ComputeOn::bare:
      describe_floor(state);
      break;
    case ComputeOn::bare_block_hook:
      describe(state, {"emulator_runner/compute_bare"});  // information: what seeing every block costs
      break;
    case ComputeOn::runner:
    default:
      describe(state, {"emulator_runner/compute_bare", 1.2});
      break;
  }
}

const bool registered = [] {
  const char* modes[] = {"empty", "out", "page", "vmcall", "rdmsr", "wrmsr", "compute"};
  for (const char* mode : modes) {
    if (!std::filesystem::exists(image_path(mode))) return false;
  }
  auto add = [](const char* name, const char* mode, Target target) {
    benchmark::RegisterBenchmark(name, [mode, target](benchmark::State& s) { runner_op(s, mode, target); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  add("emulator_runner/out", "out", {});
  add("emulator_runner/page", "page", {"emulator_runner/out", 8});
  add("emulator_runner/vmcall", "vmcall", {"emulator_runner/out", 8});
  add("emulator_runner/rdmsr", "rdmsr", {"emulator_runner/out", 8});
  add("emulator_runner/wrmsr", "wrmsr", {"emulator_runner/out", 8});
  const bool have_arm = std::filesystem::exists(image_path("aarch64_empty")) &&
                        std::filesystem::exists(image_path("aarch64_hvc_signal")) &&
                        std::filesystem::exists(image_path("aarch64_hvc_smccc"));
  if (have_arm) {
    add("emulator_runner/aarch64_hvc_signal", "aarch64_hvc_signal", {"emulator_runner/out", 8});
    add("emulator_runner/aarch64_hvc_smccc", "aarch64_hvc_smccc", {"emulator_runner/out", 8});
  }
  const std::pair<const char*, ComputeOn> computes[] = {{"emulator_runner/compute_bare", ComputeOn::bare},
                                                       {"emulator_runner/compute_bare_block_hook", ComputeOn::bare_block_hook},
                                                       {"emulator_runner/compute", ComputeOn::runner}};
  for (const auto& entry : computes) {
    const ComputeOn on = entry.second;  // a plain variable: clang 14 cannot capture a structured binding
    benchmark::RegisterBenchmark(entry.first, [on](benchmark::State& s) { compute(s, on); })
        ->Iterations(3)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
}  // namespace softsynic::bench
