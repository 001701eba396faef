// Runner: machine assembly and the slice schedule; see runner.h.
#include "emu/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <boost/asio/post.hpp>

#include "cpu_hooks/crash_msrs.h"
#include "emu/event_log.h"
#include "emu/host_test_ports.h"
#include "emu/host_time_source.h"
#include "emu/image_loader.h"
#include "emu/pc/linux_platform.h"
#include "emu/pc/multiboot.h"
#include "emu/monitor_page_watch.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"
#include "synic/monitor/monitor_access.h"
#include "synic/time_source.h"
#include "synic/timers/synthetic_timers.h"

#ifdef SOFTSYNIC_EMU_HAVE_RECORDER
#include <fstream>

#include "emu/observer_fanout.h"
#include "emu/replay/timeline.h"
#include "emu/replay/trace_recorder.h"
#endif

#ifndef SOFTSYNIC_EMU_HAVE_AARCH64
namespace softsynic::emu {
std::unique_ptr<ArchMachine> make_aarch64_machine(const MachineConfig&) {
  throw std::invalid_argument("aarch64 support is not built into this softsynic-run");
}
}  // namespace softsynic::emu
#endif

namespace softsynic::emu {
namespace {

constexpr std::uint64_t kStackPerVp = 64 * 1024;
constexpr std::uint16_t kElfMachineX86_64 = 62;
constexpr std::uint16_t kElfMachineAarch64 = 183;
constexpr std::uint32_t kMaxPcVps = 255;
constexpr std::uint64_t kMinPcMemory = 2ull << 20;
constexpr std::uint64_t kMaxPcMemory = 3ull << 30;  // below the firmware, APIC and PCI holes
// Threaded mode: every VP parked and nothing happening for this long is a
// deadlock (deterministic mode knows it exactly: the executor ran dry).
constexpr auto kThreadedIdleLimit = std::chrono::milliseconds(500);
constexpr auto kHostNap = std::chrono::milliseconds(20);
// Console input: how often a halted partition looks for typed input.
constexpr auto kInputNap = std::chrono::milliseconds(2);
// Threaded mode: how often the watcher looks for a halted partition whose
// clock can jump to the next deadline.
constexpr auto kThreadedWatchPeriod = std::chrono::milliseconds(2);
// Deadlines passed in a row with every VP halted and no block executed
// (e.g. a timer aimed at a VP that sleeps with interrupts off): the
// partition can never run again.
constexpr std::uint64_t kIdleJumpLimit = 10000;

bool feature_off(const RunnerOptions& options, std::string_view name) {
  for (const auto& f : options.features_off) {
    if (f == name) return true;
  }
  return false;
}

}  // namespace

int exit_status(const RunResult& result) {
  switch (result.outcome) {
    case RunOutcome::guest_exit:
      return static_cast<int>(result.exit_code & 0xFF);
    case RunOutcome::guest_fault:
      return kExitGuestFault;
    case RunOutcome::triple_fault:
      return kExitTripleFault;
    case RunOutcome::guest_crash:
      return kExitGuestCrash;
    case RunOutcome::timeout:
      return kExitTimeout;
    case RunOutcome::deadlock:
      return kExitDeadlock;
    case RunOutcome::host_error:
    default:
      return kExitHostError;
  }
}

struct Runner::Impl final : EngineHost {
  explicit Impl(RunnerOptions o);
  ~Impl() override;

  // EngineHost
  void console_write(std::uint32_t vp, char c) override;
  void guest_exit(std::uint32_t vp, std::uint32_t code) override;
  void guest_crash(const GuestCrashReport& report) override;
  void unhandled_access(std::uint32_t vp, const UnhandledAccess& what) override;
  void code_written(std::uint32_t vp, std::uint64_t gpa, std::uint64_t size) override;
  void wake(std::uint32_t vp) override;
  void deadline_armed(std::uint32_t vp) override;

  RunResult run();
  void post_slice(std::uint32_t vp);
  void run_slice(std::uint32_t vp);
  void finish(RunOutcome outcome, std::uint32_t code, std::string message);
  bool timed_out();
  void flush_console();
  // Earliest synthetic-timer or monitor deadline of the partition.
  std::optional<std::uint64_t> next_deadline() const;
  // A VP other than `vp` has a synthetic-timer expiry due now or, in
  // threaded mode, a requested interrupt its CPU has not looked at yet.
  bool other_vp_due(std::uint32_t vp) const;
  // Hands over what is due at the clock's time: posts fire_due() to every
  // VP whose timers are due (their strands) and polls the monitor.
  void fire_due();
  // Every VP halted: moves the clock to the next deadline and fires it.
  // false when there is none (a deadlock) or the run cannot progress.
  bool jump_to_next_deadline();
  void sleep_until_host(std::uint64_t deadline);
  bool wait_for_input(std::uint64_t seen);

  RunnerOptions options;
  MemoryLayout layout;
  RamGuestMemory ram;
  std::optional<DeterministicExecutor> deterministic;
  std::optional<ThreadPoolExecutor> pool;
  VirtualClock clock;
  // Host devices with deadlines of their own (the VMBus host's timers).
  struct DeadlineSource {
    std::function<std::optional<std::uint64_t>()> next;
    std::function<void()> fire;
  };
  // Pool threads may still ask for deadlines after run() returned: the
  // sources are called, added and removed under the mutex.
  std::mutex unhandled_mutex;
  std::set<std::pair<int, std::uint64_t>> unhandled_seen;  // guarded by unhandled_mutex
  mutable std::mutex deadline_sources_mutex;
  std::vector<DeadlineSource> deadline_sources;  // guarded by deadline_sources_mutex
  std::optional<SteadyClockTimeSource> host_time;  // options.host_clock: drives `clock`
  std::unique_ptr<Partition> partition;
  std::unique_ptr<SyntheticTimers> timers;
  MonitorPageWatch monitor_pages;
  std::unique_ptr<MonitorAccess> monitor;
  std::unique_ptr<std::atomic<bool>[]> fire_posted;  // per VP: a fire_due() task is queued
  std::uint64_t idle_jumps = 0;                      // jump_to_next_deadline() callers serialize
  std::uint64_t blocks_at_last_jump = 0;
  std::unique_ptr<EventLog> event_log;
#ifdef SOFTSYNIC_EMU_HAVE_RECORDER
  std::unique_ptr<replay::TraceRecorder> recorder;
  std::unique_ptr<replay::TimelineBuilder> timeline;
  FanoutCpuObserver cpu_observers;
  FanoutPortObserver port_observers;
#endif
  FanoutObserver observers;
  std::unique_ptr<HostTestPorts> ports;
  std::unique_ptr<ArchMachine> machine;
  std::vector<std::unique_ptr<VpEngine>> engines;
  std::unique_ptr<std::atomic<bool>[]> parked;

  std::mutex engine_mutex;  // threaded mode: one engine at a time
  std::mutex console_mutex;
  std::vector<std::string> console_lines;  // per VP, until '\n'

  std::mutex done_mutex;
  std::condition_variable done_cv;
  std::atomic<bool> done{false};
  RunResult result;  // guarded by done_mutex until done
  std::atomic<std::uint64_t> total_blocks{0};
  std::atomic<std::uint64_t> activity{0};  // slices run + wakes, for threaded idle detection
  std::chrono::steady_clock::time_point start;
};

Runner::Impl::Impl(RunnerOptions o)
    : options(std::move(o)),
      layout(memory_layout(options.arch)),
      ram({RamGuestMemory::Region{layout.ram_base, options.memory}}) {
  if (options.vps == 0) throw std::invalid_argument("at least one VP is needed");
  if (options.platform == Platform::pc) {
    if (options.arch != Arch::x86_64) throw std::invalid_argument("the pc platform is x86-64 only");
    if (options.vps > kMaxPcVps) throw std::invalid_argument("the pc platform has at most 255 VPs (xAPIC IDs)");
    if (options.memory < kMinPcMemory || options.memory > kMaxPcMemory) {
      throw std::invalid_argument("the pc platform needs 2 MiB to 3 GiB of RAM");
    }
    if (!options.record_path.empty()) {
      throw std::invalid_argument(
          "recording is not available on the pc platform (the test device's connections are not in the trace "
          "format); use --timeline");
    }
  } else if (options.memory < layout.reserved_size + options.vps * kStackPerVp + 0x10000) {
    throw std::invalid_argument("not enough guest memory for the image area and the VP stacks");
  }
  if (options.slice_blocks == 0) throw std::invalid_argument("slice length must be at least one block");
  PartitionConfig pc;
  pc.vp_count = options.vps;
  pc.on_error = [this](const std::string& message) {
    if (options.log) *options.log << "host error: " << message << '\n';
  };
  if (options.threads == 0) {
    deterministic.emplace();
    partition = std::make_unique<Partition>(pc, ram, deterministic->executor());
  } else {
    pool.emplace(options.threads);
    partition = std::make_unique<Partition>(pc, ram, pool->executor());
  }
  if (options.log) {
    event_log = std::make_unique<EventLog>(*options.log);
    observers.add(event_log.get());
  }
  observers.add(options.observer);
  replay::GuestCpuObserver* cpu_observer = nullptr;
  replay::HostPortObserver* port_observer = nullptr;
  if (!options.record_path.empty() || !options.timeline_path.empty()) {
#ifdef SOFTSYNIC_EMU_HAVE_RECORDER
    replay::Machine described;
    described.arch = options.arch == Arch::x86_64 ? replay::TraceArch::x86_64 : replay::TraceArch::aarch64;
    described.vp_count = options.vps;
    described.memory = {{layout.ram_base, options.memory}};
    if (!options.record_path.empty()) {
      recorder = std::make_unique<replay::TraceRecorder>(described, ram, "softsynic-run " + options.image);
      // advance_time steps, so TIME_REF_COUNT reads and timer expiries
      // replay at the reference time they had.
      recorder->set_time_source(&clock);
      observers.add(recorder.get());
      cpu_observers.add(recorder.get());
      port_observers.add(recorder.get());
    }
    if (!options.timeline_path.empty()) {
      timeline = std::make_unique<replay::TimelineBuilder>(described, &clock);
      observers.add(timeline.get());
      cpu_observers.add(timeline.get());
      port_observers.add(timeline.get());
    }
    cpu_observer = &cpu_observers;
    port_observer = &port_observers;
#else
    throw std::invalid_argument("recording and timelines are not available in this build");
#endif
  }
  if (!observers.empty()) partition->set_observer(&observers);
  // Synthetic timers count in the runner's clock; direct mode follows the
  // direct_timers switch so CPUID and the registers agree.
  timers = std::make_unique<SyntheticTimers>(*partition, clock,
                                             SyntheticTimersConfig{.direct_mode = !feature_off(options, "direct_timers")});
  fire_posted = std::make_unique<std::atomic<bool>[]>(options.vps);
  MonitorConfig monitor_config;
  monitor_config.on_page_change = [this](Vtl vtl, std::optional<MonitorPageGpas> gpas) {
    if (vtl == 0) monitor_pages.set_page(gpas ? std::optional<std::uint64_t>(gpas->child_to_parent) : std::nullopt);
  };
  monitor_config.on_error = [this](const std::string& message) {
    if (options.log) *options.log << "monitor error: " << message << '\n';
  };
  monitor = std::make_unique<MonitorAccess>(*partition, clock, std::move(monitor_config));
  ports = std::make_unique<HostTestPorts>(*partition, port_observer, monitor.get());

  MachineConfig mc;
  mc.vp_count = options.vps;
  mc.ram = &ram;
  mc.partition = partition.get();
  mc.time = &clock;
  mc.host = this;
  mc.features_off = options.features_off;
  mc.cpu_observer = cpu_observer;
  mc.timers = timers.get();
  mc.monitor = monitor.get();
  mc.monitor_pages = &monitor_pages;
  mc.platform = options.platform;
  mc.device_log = [this](const std::string& line) {
    std::lock_guard lock(console_mutex);
    (options.log ? *options.log : std::cerr) << line << '\n';
  };
  machine = options.arch == Arch::x86_64 ? make_x86_64_machine(mc) : make_aarch64_machine(mc);

  console_lines.resize(options.vps);
  parked = std::make_unique<std::atomic<bool>[]>(options.vps);
  if (options.platform == Platform::pc && options.linux_kernel) {
    // The BSP enters the kernel as its boot protocol says; the APs wait for
    // INIT/SIPI.
    const LinuxStart start = load_linux(options.image, options.initrd, ram, options.memory, options.vps, options.arguments);
    for (std::uint32_t vp = 0; vp < options.vps; ++vp) {
      EngineConfig ec;
      ec.vp_index = vp;
      ec.entry = start.entry;
      if (vp != 0) {
        ec.start = StartMode::wait_for_startup;
      } else if (start.long_mode) {
        ec.start = StartMode::long_mode;
        ec.long_mode = *start.long_mode;
      } else {
        ec.start = StartMode::multiboot;
        ec.multiboot_info = start.ebx;
        ec.boot_magic = 0;
      }
      engines.push_back(machine->make_engine(ec));
    }
    return;
  }
  if (options.platform == Platform::pc) {
    // The BSP boots the kernel; the APs wait for INIT/SIPI.
    const MultibootKernel kernel = load_multiboot(options.image, ram, options.memory, options.arguments);
    for (std::uint32_t vp = 0; vp < options.vps; ++vp) {
      EngineConfig ec;
      ec.vp_index = vp;
      ec.entry = kernel.entry;
      ec.start = vp == 0 ? StartMode::multiboot : StartMode::wait_for_startup;
      ec.multiboot_info = kernel.info;
      engines.push_back(machine->make_engine(ec));
    }
    return;
  }
  const std::uint64_t ram_end = layout.ram_base + options.memory;
  const std::uint64_t stacks_low = ram_end - options.vps * kStackPerVp;
  LoadedImage image = load_image(options.image, ram, layout.image_base,
                                 options.arch == Arch::x86_64 ? kElfMachineX86_64 : kElfMachineAarch64,
                                 layout.ram_base + layout.reserved_size, stacks_low);
  for (std::uint32_t vp = 0; vp < options.vps; ++vp) {
    EngineConfig ec;
    ec.vp_index = vp;
    ec.entry = image.entry;
    ec.stack_top = ram_end - vp * kStackPerVp;
    engines.push_back(machine->make_engine(ec));
  }
}

Runner::Impl::~Impl() {
  // Threads first (they may still run strand work), then what they use;
  // the pool's context last, as the VPs' strands unregister from it.
  if (pool) pool->join();
  engines.clear();
  machine.reset();
  ports.reset();
  monitor.reset();
  timers.reset();
  partition.reset();
  pool.reset();
}

void Runner::Impl::console_write(std::uint32_t vp, char c) {
  std::lock_guard lock(console_mutex);
  if (options.console_input) {
    // A terminal's byte stream: the prompt has no newline.
    std::ostream& out = options.console ? *options.console : std::cout;
    out.put(c);
    out.flush();
    return;
  }
  if (vp >= console_lines.size()) return;
  std::string& line = console_lines[vp];
  if (c != '\n') {
    line += c;
    return;
  }
  // Serial drivers send "\r\n"; lines are whole here, so drop the CR.
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::ostream& out = options.console ? *options.console : std::cout;
  out << line << '\n';
  out.flush();
  line.clear();
}

void Runner::Impl::flush_console() {
  std::lock_guard lock(console_mutex);
  std::ostream& out = options.console ? *options.console : std::cout;
  for (auto& line : console_lines) {
    if (!line.empty()) out << line << '\n';
    line.clear();
  }
  out.flush();
}

void Runner::Impl::guest_exit(std::uint32_t vp, std::uint32_t code) {
  finish(RunOutcome::guest_exit, code, "vp" + std::to_string(vp) + " exited with code " + std::to_string(code));
}

// Once per kind and number: a guest polling a port it probes would
// otherwise fill the log.
void Runner::Impl::unhandled_access(std::uint32_t vp, const UnhandledAccess& what) {
  if (options.diagnostics == nullptr) return;
  std::lock_guard lock(unhandled_mutex);
  if (!unhandled_seen.emplace(static_cast<int>(what.kind), what.number).second) return;
  *options.diagnostics << "vp" << vp << ": " << describe(what) << '\n';
}

// The run ends at the report, as a test harness wants: the guest would
// only spin in its panic loop. The message has the parameters and the last
// lines of the guest's text (Linux hands over the tail of its kernel log).
void Runner::Impl::guest_crash(const GuestCrashReport& report) {
  std::ostringstream line;
  line << "vp" << report.vp << " reported a guest crash:" << std::hex;
  for (std::size_t i = 0; i < report.parameters.size(); ++i) line << " P" << i << "=0x" << report.parameters[i];
  if (!report.message.empty()) {
    std::vector<std::string> lines;
    std::istringstream text(report.message);
    for (std::string l; std::getline(text, l);)
      if (l.find_first_not_of(" \r\t") != std::string::npos) lines.push_back(l);
    constexpr std::size_t kShownLines = 3;
    line << "; its message ends:";
    for (std::size_t i = lines.size() > kShownLines ? lines.size() - kShownLines : 0; i < lines.size(); ++i)
      line << "\n  " << lines[i];
  }
  finish(RunOutcome::guest_crash, 0, line.str());
}

void Runner::Impl::code_written(std::uint32_t, std::uint64_t gpa, std::uint64_t size) {
  for (auto& engine : engines) engine->invalidate_code(gpa, size);
}

void Runner::Impl::wake(std::uint32_t vp) {
  activity.fetch_add(1, std::memory_order_relaxed);
  if (vp < options.vps && parked[vp].exchange(false, std::memory_order_acq_rel)) post_slice(vp);
}

// The clock stands still during a slice (it moves by the slice's blocks
// afterwards), so a deadline d is d - now blocks from the slice's start.
void Runner::Impl::deadline_armed(std::uint32_t vp) {
  if (vp >= engines.size()) return;
  auto deadline = next_deadline();
  if (!deadline) return;
  const std::uint64_t now = clock.now();
  engines[vp]->limit_slice(*deadline > now ? *deadline - now : 0);
}

void Runner::Impl::finish(RunOutcome outcome, std::uint32_t code, std::string message) {
  {
    std::lock_guard lock(done_mutex);
    if (done.load()) return;
    result.outcome = outcome;
    result.exit_code = code;
    result.message = std::move(message);
    done.store(true, std::memory_order_release);
  }
  for (auto& engine : engines) engine->request_stop();
  done_cv.notify_all();
}

bool Runner::Impl::timed_out() {
  if (options.timeout_blocks != 0 && total_blocks.load() >= options.timeout_blocks) {
    finish(RunOutcome::timeout, 0, "timeout after " + std::to_string(total_blocks.load()) + " blocks");
    return true;
  }
  if (options.timeout_seconds > 0 &&
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= options.timeout_seconds) {
    // Where each VP was, for a hang. Deterministic mode only: there no
    // engine runs while a slice's strand work does.
    if (options.log && deterministic) {
      for (auto& engine : engines)
        *options.log << "vp" << engine->vp_index() << " at timeout: " << engine->registers().to_string() << '\n';
    }
    finish(RunOutcome::timeout, 0, "timeout after " + std::to_string(options.timeout_seconds) + " s");
    return true;
  }
  return false;
}

void Runner::Impl::post_slice(std::uint32_t vp) {
  boost::asio::post(partition->vp(vp).strand(), [this, vp] { run_slice(vp); });
}

// One slice of `vp`, on its strand.
void Runner::Impl::run_slice(std::uint32_t vp) {
  if (done.load(std::memory_order_acquire)) return;
  activity.fetch_add(1, std::memory_order_relaxed);
  VpEngine& engine = *engines[vp];
  // Threaded mode: one engine at a time. Taken before the budget is set:
  // while this VP waited, another one's slice moved the clock.
  std::unique_lock engine_lock(engine_mutex, std::defer_lock);
  if (pool) engine_lock.lock();
  // Expiries due by now reach the SynIC before the CPU runs, and the slice
  // ends at the next deadline so the one after is handed over on time.
  timers->vp(vp).fire_due();
  engine.fire_due(clock.now());
  // Another VP's expiry is due and not yet handed over (its fire_due() is
  // queued on its strand): its next deadline is unknown until it runs, so
  // a slice now could not end there and would run a whole slice past it
  // (a lazy direct-mode timer would then skip expiries). Let it go first.
  if (other_vp_due(vp)) {
    fire_due();
    post_slice(vp);
    return;
  }
  std::uint64_t budget = options.slice_blocks;
  if (auto deadline = next_deadline(); deadline && *deadline > clock.now()) {
    budget = std::min(budget, *deadline - clock.now());
  }
  const SliceResult slice = engine.run_slice(budget);
  total_blocks.fetch_add(slice.blocks, std::memory_order_relaxed);
  // Reference time follows executed guest code (one 100 ns tick per block)
  // or, with host_clock, the host's steady clock.
  if (host_time)
    clock.advance_to(host_time->now());
  else
    clock.advance(slice.blocks);
  if (engine_lock.owns_lock()) engine_lock.unlock();
  if (auto deadline = next_deadline(); deadline && *deadline <= clock.now()) fire_due();
  if (timed_out()) return;
  switch (slice.reason) {
    case StopReason::slice_budget:
      post_slice(vp);
      break;
    case StopReason::halted:
      parked[vp].store(true, std::memory_order_release);
      // A request that arrived after the slice ended found the VP not yet
      // parked: look again.
      if (engine.interrupt_pending() && parked[vp].exchange(false, std::memory_order_acq_rel)) post_slice(vp);
      break;
    case StopReason::guest_fault:
    case StopReason::triple_fault:
      finish(slice.reason == StopReason::triple_fault ? RunOutcome::triple_fault : RunOutcome::guest_fault, 0,
             "vp" + std::to_string(vp) + " guest fault: " + slice.fault + "\n  " + engine.registers().to_string());
      break;
    case StopReason::exit_requested:
    default:
      break;
  }
}

std::optional<std::uint64_t> Runner::Impl::next_deadline() const {
  std::optional<std::uint64_t> earliest = monitor->next_deadline();
  for (const auto& engine : engines) {
    if (auto d = engine->next_deadline(); d && (!earliest || *d < *earliest)) earliest = d;
  }
  std::lock_guard lock(deadline_sources_mutex);
  for (const auto& source : deadline_sources) {
    if (auto d = source.next(); d && (!earliest || *d < *earliest)) earliest = d;
  }
  return earliest;
}

bool Runner::Impl::other_vp_due(std::uint32_t vp) const {
  const std::uint64_t now = clock.now();
  // Two VPs with requests never wait for each other.
  const bool own_request = engines[vp]->interrupt_pending();
  for (std::uint32_t i = 0; i < engines.size(); ++i) {
    if (i == vp) continue;
    if (auto d = engines[i]->next_deadline(); d && *d <= now) return true;
    // An expiry handed over but not yet taken: that VP must run before
    // time moves on, or its next expiry finds the vector still requested
    // (threaded mode does not run VPs in turn).
    if (pool && !own_request && engines[i]->interrupt_pending() && !parked[i].load(std::memory_order_acquire))
      return true;
  }
  return false;
}

void Runner::Impl::fire_due() {
  const std::uint64_t now = clock.now();
  for (std::uint32_t vp = 0; vp < options.vps; ++vp) {
    auto d = engines[vp]->next_deadline();
    if (!d || *d > now || fire_posted[vp].exchange(true, std::memory_order_acq_rel)) continue;
    // fire_due() is strand-affine; an expiry's interrupt wakes a halted VP.
    boost::asio::post(partition->vp(vp).strand(), [this, vp] {
      fire_posted[vp].store(false, std::memory_order_release);
      if (done.load(std::memory_order_acquire)) return;
      timers->vp(vp).fire_due();
      engines[vp]->fire_due(clock.now());
    });
  }
  if (auto d = monitor->next_deadline(); d && *d <= now) monitor->poll(now);
  std::lock_guard lock(deadline_sources_mutex);
  for (const auto& source : deadline_sources) {
    if (auto d = source.next(); d && *d <= now) source.fire();
  }
}

bool Runner::Impl::jump_to_next_deadline() {
  auto deadline = next_deadline();
  if (!deadline) {
    // Where each VP stopped: a guest that halts for good usually says why
    // just before.
    std::string where;
    for (const auto& engine : engines) {
      where += "\n  vp" + std::to_string(engine->vp_index()) + ": " + engine->registers().to_string();
    }
    finish(RunOutcome::deadlock, 0, "every VP is halted and no interrupt is pending" + where);
    return false;
  }
  const std::uint64_t blocks = total_blocks.load();
  idle_jumps = blocks == blocks_at_last_jump ? idle_jumps + 1 : 0;
  blocks_at_last_jump = blocks;
  if (idle_jumps > kIdleJumpLimit) {
    finish(RunOutcome::deadlock, 0,
           "every VP is halted: " + std::to_string(kIdleJumpLimit) + " deadlines passed and no VP could run");
    return false;
  }
  if (host_time) {
    sleep_until_host(*deadline);
    clock.advance_to(std::max(*deadline, host_time->now()));
  } else if (*deadline > clock.now()) {
    clock.set(*deadline);
  }
  activity.fetch_add(1, std::memory_order_relaxed);
  fire_due();
  return !timed_out();
}

// Console input, every VP halted since `activity` read `seen`: wait for a
// wake-up (typed input), the next deadline, the end or the timeout. A
// virtual clock jumps to a deadline as without input; the wait in host
// time is for the host clock, or for input when no deadline is left.
bool Runner::Impl::wait_for_input(std::uint64_t seen) {
  const auto deadline = next_deadline();
  if (deadline && !host_time) return jump_to_next_deadline();
  for (;;) {
    if (done.load(std::memory_order_acquire) || timed_out()) return false;
    if (activity.load() != seen) break;
    if (deadline && host_time && host_time->now() >= *deadline) break;
    std::this_thread::sleep_for(kInputNap);
  }
  if (host_time) clock.advance_to(host_time->now());
  activity.fetch_add(1, std::memory_order_relaxed);
  fire_due();
  return !timed_out();
}

// Host-clock mode, every VP halted: wait in host time for reference time
// `deadline`, in short naps so a finish or the timeout ends the wait.
void Runner::Impl::sleep_until_host(std::uint64_t deadline) {
  const auto target = host_time->when(deadline);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= target || done.load(std::memory_order_acquire)) return;
    if (options.timeout_seconds > 0 &&
        std::chrono::duration<double>(now - start).count() >= options.timeout_seconds)
      return;  // timed_out() reports it
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(target - now, kHostNap));
  }
}

RunResult Runner::Impl::run() {
  start = std::chrono::steady_clock::now();
  if (options.host_clock) host_time.emplace(clock.now());
  for (std::uint32_t vp = 0; vp < options.vps; ++vp) post_slice(vp);
  if (deterministic) {
    // The executor runs dry exactly when every VP is halted with nothing
    // pending: sleep (in virtual time) until the next deadline.
    for (;;) {
      const std::uint64_t seen = activity.load();
      deterministic->run_until_idle();
      if (done.load() || !(options.console_input ? wait_for_input(seen) : jump_to_next_deadline())) break;
    }
  } else {
    std::unique_lock lock(done_mutex);
    std::uint64_t last_activity = ~std::uint64_t{0};
    auto idle_since = std::chrono::steady_clock::now();
    while (!done.load()) {
      done_cv.wait_for(lock, kThreadedWatchPeriod);
      if (done.load()) break;
      lock.unlock();
      bool all_parked = true;
      for (std::uint32_t vp = 0; vp < options.vps; ++vp) all_parked = all_parked && parked[vp].load();
      const std::uint64_t now_activity = activity.load();
      // Halted and still for a whole watch period, with a deadline ahead:
      // jump the clock there (as the deterministic mode does) instead of
      // waiting in host time.
      if (all_parked && now_activity == last_activity && next_deadline()) {
        jump_to_next_deadline();
        last_activity = activity.load();
        idle_since = std::chrono::steady_clock::now();
        lock.lock();
        continue;
      }
      if (!all_parked || now_activity != last_activity) idle_since = std::chrono::steady_clock::now();
      last_activity = now_activity;
      // Typed input may still wake a VP.
      if (!timed_out() && all_parked && !options.console_input &&
          std::chrono::steady_clock::now() - idle_since > kThreadedIdleLimit) {
        finish(RunOutcome::deadlock, 0, "every VP is halted and nothing happened for 500 ms");
      }
      lock.lock();
    }
    lock.unlock();
    pool->context().stop();
  }
  flush_console();
  std::lock_guard lock(done_mutex);
  RunResult r = result;
#ifdef SOFTSYNIC_EMU_HAVE_RECORDER
  if (recorder && !recorder->write_file(options.record_path)) {
    r.record_error = "cannot write the recording to " + options.record_path;
  }
  if (timeline) {
    std::ofstream out(options.timeline_path);
    out << timeline->json();
    if (!out) r.record_error = "cannot write the timeline to " + options.timeline_path;
  }
#endif
  r.blocks = total_blocks.load();
  return r;
}

Runner::Runner(RunnerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Runner::~Runner() = default;
Partition& Runner::partition() { return *impl_->partition; }
const TimeSource& Runner::time_source() const { return impl_->clock; }
void Runner::add_deadline_source(std::function<std::optional<std::uint64_t>()> next, std::function<void()> fire) {
  std::lock_guard lock(impl_->deadline_sources_mutex);
  impl_->deadline_sources.push_back({std::move(next), std::move(fire)});
}
void Runner::remove_deadline_sources() {
  std::lock_guard lock(impl_->deadline_sources_mutex);
  impl_->deadline_sources.clear();
}
RamGuestMemory& Runner::memory() { return impl_->ram; }
RunResult Runner::run() { return impl_->run(); }
void Runner::stop() { impl_->finish(RunOutcome::host_error, 0, "stopped"); }
std::size_t Runner::console_input(std::span<const std::uint8_t> bytes) { return impl_->machine->console_input(bytes); }

}  // namespace softsynic::emu
