// Runner: machine assembly and the slice schedule; see runner.h.
#include "emu/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/post.hpp>

#include "cpu_hooks/crash_msrs.h"
#include "emu/event_log.h"
#include "emu/gdb/server.h"
#include "emu/synic_monitor.h"
#include "emu/vp_debug.h"
#include "emu/host_test_ports.h"
#include "emu/host_time_source.h"
#include "emu/image_loader.h"
#include "emu/arm64/linux_boot.h"
#include "emu/guest_writes.h"
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
// A debugger's monitor command waits this long for a VP's strand.
constexpr auto kDebugStrandWait = std::chrono::seconds(2);
// After the guest ended, the debugger this long to take the exit and go.
constexpr auto kDebugExitGrace = std::chrono::seconds(5);

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

  // ---- Debugger (options.gdb); the state below is guarded by debug_mutex ----
  struct DebugTarget;
  enum class DebugState { running, stopping, stopped };
  void start_debugger();
  // Around a slice, on its strand: false / true when the debugger holds the
  // VP (the slice must not run / must not be followed by another). Without
  // a debugger: true / false.
  bool debug_enter_slice(std::uint32_t vp);
  bool debug_leave_slice(std::uint32_t vp, const SliceResult* slice);
  // debug_mutex held: every VP to stop; the event to report once all have.
  void debug_begin_stop();
  std::optional<gdb::StopEvent> debug_stop_complete();
  void debug_stop_all();
  void debug_resume(std::span<const gdb::ResumeAction> actions);
  bool debug_holding();
  // Deterministic mode, the executor ran dry: true when the debugger holds
  // the machine (waited a while for it, or for strand work it posted).
  bool debug_hold_wait();
  std::optional<std::string> debug_on_strand(std::uint32_t vp, std::function<std::string()> work);

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

  std::unique_ptr<DebugTarget> debug_target;
  std::unique_ptr<gdb::GdbServer> gdb_server;
  bool debugging = false;  // options.gdb: set before run(), never changed
  std::mutex debug_mutex;
  std::condition_variable debug_cv;
  DebugState debug_state = DebugState::running;
  std::uint32_t slices_in_flight = 0;
  std::vector<char> debug_held;     // the VP's slice was held back; resume posts it
  std::vector<char> debug_may_run;  // the debugger's last resume lets the VP run
  gdb::StopEvent debug_event;
  // Work the debugger posted (resumed slices, strand work it waits for)
  // that the deterministic executor must run before it can be called idle.
  bool debug_work = false;
  struct MonitorCommand {
    std::string help;
    std::function<std::optional<std::string>(std::string_view)> handler;
  };
  // The stub's thread reads them from construction on (a debugger may
  // attach before run()).
  std::mutex monitor_commands_mutex;
  std::vector<MonitorCommand> monitor_commands;  // guarded by monitor_commands_mutex
};

// The machine as the GDB stub sees it. Strand-affine to the stub's thread
// (GdbTarget's contract); resume/stop_all/kill reach the runner's
// thread-safe debug state.
struct Runner::Impl::DebugTarget final : gdb::GdbTarget {
  explicit DebugTarget(Impl& r) : r(r) {}
  Impl& r;

  VpDebug* vp(std::uint32_t n) { return n < r.engines.size() ? r.engines[n]->debug() : nullptr; }

  gdb::TargetArch arch() const override {
    return r.options.arch == Arch::x86_64 ? gdb::TargetArch::x86_64 : gdb::TargetArch::aarch64;
  }
  std::uint32_t vp_count() const override { return r.options.vps; }
  bool read_register(std::uint32_t n, unsigned regno, std::span<std::byte> value) override {
    VpDebug* d = vp(n);
    return d != nullptr && d->read_register(regno, value);
  }
  bool write_register(std::uint32_t n, unsigned regno, std::span<const std::byte> value) override {
    VpDebug* d = vp(n);
    return d != nullptr && d->write_register(regno, value);
  }
  std::size_t read_memory(std::uint32_t n, gdb::AddressSpace space, std::uint64_t address,
                          std::span<std::byte> out) override {
    VpDebug* d = vp(n);
    return d != nullptr ? d->read_memory(space, address, out) : 0;
  }
  std::size_t write_memory(std::uint32_t n, gdb::AddressSpace space, std::uint64_t address,
                           std::span<const std::byte> bytes) override {
    VpDebug* d = vp(n);
    return d != nullptr ? d->write_memory(space, address, bytes) : 0;
  }
  // Software and hardware breakpoints are the same code hooks on every VP;
  // watchpoints are not offered (Unicorn's memory hooks see physical
  // addresses, which a guest-virtual watch cannot follow honestly).
  gdb::BreakpointResult insert_breakpoint(gdb::BreakpointType type, std::uint64_t address, std::uint64_t) override {
    if (type != gdb::BreakpointType::software && type != gdb::BreakpointType::hardware)
      return gdb::BreakpointResult::unsupported;
    for (std::uint32_t n = 0; n < r.engines.size(); ++n) {
      VpDebug* d = vp(n);
      if (d != nullptr && d->insert_breakpoint(address)) continue;
      while (n-- > 0) vp(n)->remove_breakpoint(address);
      return gdb::BreakpointResult::failed;
    }
    return gdb::BreakpointResult::ok;
  }
  gdb::BreakpointResult remove_breakpoint(gdb::BreakpointType type, std::uint64_t address, std::uint64_t) override {
    if (type != gdb::BreakpointType::software && type != gdb::BreakpointType::hardware)
      return gdb::BreakpointResult::unsupported;
    for (std::uint32_t n = 0; n < r.engines.size(); ++n) {
      if (VpDebug* d = vp(n)) d->remove_breakpoint(address);
    }
    return gdb::BreakpointResult::ok;
  }
  void resume(std::span<const gdb::ResumeAction> actions) override { r.debug_resume(actions); }
  void stop_all() override { r.debug_stop_all(); }
  void kill() override { r.finish(RunOutcome::host_error, 0, "killed by the debugger"); }
  std::optional<std::string> monitor(std::string_view command) override {
    if (command == "help") {
      std::lock_guard lock(r.monitor_commands_mutex);
      std::string help(kSynicMonitorHelp);
      for (const auto& c : r.monitor_commands) help += c.help;
      return help;
    }
    SynicMonitorSources sources;
    sources.partition = r.partition.get();
    sources.timers = r.timers.get();
    sources.time = &r.clock;
    sources.vp_deadline = [this](std::uint32_t n) { return r.engines[n]->next_deadline(); };
    sources.on_strand = [this](std::uint32_t n, std::function<std::string()> work) {
      return r.debug_on_strand(n, std::move(work));
    };
    if (auto text = synic_monitor(command, sources)) return text;
    // The host's commands run under the mutex: run() drops them before
    // what they use goes away.
    std::lock_guard lock(r.monitor_commands_mutex);
    for (const auto& c : r.monitor_commands) {
      if (auto text = c.handler(command)) return text;
    }
    return std::nullopt;
  }
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
  } else if (options.platform == Platform::virt && options.arch != Arch::aarch64) {
    throw std::invalid_argument("the virt platform is aarch64 only");
  } else if (options.linux_kernel && options.platform != Platform::virt) {
    throw std::invalid_argument("a Linux kernel boots on the pc (x86-64) or virt (aarch64) platform");
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
  mc.check_code_writes = options.check_code_writes;
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
  if (options.platform == Platform::virt && options.linux_kernel) {
    // VP 0 enters the Image as the arm64 booting rules say; the others
    // wait for PSCI CPU_ON.
    const std::vector<char> kernel = read_file(options.image);
    std::vector<char> initrd;
    if (!options.initrd.empty()) initrd = read_file(options.initrd);
    arm64::LinuxBootConfig boot;
    boot.ram_base = layout.ram_base;
    boot.ram_bytes = options.memory;
    boot.vp_count = options.vps;
    boot.command_line = options.arguments;
    boot.initrd = std::span(reinterpret_cast<const std::uint8_t*>(initrd.data()), initrd.size());
    const arm64::LinuxBootPlan plan =
        arm64::plan_linux_boot(std::span(reinterpret_cast<const std::uint8_t*>(kernel.data()), kernel.size()), boot);
    apply_guest_writes(plan.writes, ram);
    for (std::uint32_t vp = 0; vp < options.vps; ++vp) {
      EngineConfig ec;
      ec.vp_index = vp;
      ec.entry = plan.entry.pc;
      ec.stack_top = layout.ram_base + options.memory - vp * kStackPerVp;
      ec.start = vp == 0 ? StartMode::arm64_linux : StartMode::powered_off;
      ec.arm64_x0 = plan.entry.x0;
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
    // virt: VP 0 starts by the boot contract, the others when PSCI CPU_ON
    // names them.
    if (options.platform == Platform::virt && vp != 0) ec.start = StartMode::powered_off;
    engines.push_back(machine->make_engine(ec));
  }
}

Runner::Impl::~Impl() {
  // Threads first (they may still run strand work), then what they use;
  // the pool's context last, as the VPs' strands unregister from it. The
  // debugger's thread calls into the engines: it goes before them (after
  // the pool, whose strand work reports stops to it).
  if (pool) pool->join();
  gdb_server.reset();
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
  debug_cv.notify_all();
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
  if (!debug_enter_slice(vp)) return;
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
    if (!debug_leave_slice(vp, nullptr)) post_slice(vp);
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
  // Held by the debugger: its next slice waits for the debugger's resume.
  const bool held = debug_leave_slice(vp, &slice);
  if (timed_out()) return;
  switch (slice.reason) {
    case StopReason::slice_budget:
      if (!held) post_slice(vp);
      break;
    case StopReason::halted:
      if (held) break;  // resumed, it halts again at once unless woken
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
    case StopReason::breakpoint:
    case StopReason::step:  // the debugger holds every VP now
    case StopReason::exit_requested:
    default:
      break;
  }
}

// ---- Debugger ----

void Runner::Impl::start_debugger() {
  if (!options.gdb) return;
  debug_held.assign(options.vps, 0);
  debug_may_run.assign(options.vps, 1);
  debug_event.reason = gdb::StopEvent::Reason::interrupted;
  // --gdb-wait: stopped before the first instruction; run()'s first
  // slices are held until the debugger resumes.
  if (options.gdb_wait) debug_state = DebugState::stopped;
  debug_target = std::make_unique<DebugTarget>(*this);
  gdb_server = std::make_unique<gdb::GdbServer>(*debug_target, *options.gdb);
  debugging = true;
}

bool Runner::Impl::debug_enter_slice(std::uint32_t vp) {
  if (!debugging) return true;
  std::lock_guard lock(debug_mutex);
  if (debug_state != DebugState::running || !debug_may_run[vp]) {
    debug_held[vp] = 1;
    return false;
  }
  ++slices_in_flight;
  return true;
}

bool Runner::Impl::debug_leave_slice(std::uint32_t vp, const SliceResult* slice) {
  if (!debugging) return false;
  std::optional<gdb::StopEvent> report;
  bool held = false;
  {
    std::lock_guard lock(debug_mutex);
    --slices_in_flight;
    const bool hit = slice != nullptr && (slice->reason == StopReason::breakpoint || slice->reason == StopReason::step);
    if (hit && debug_state == DebugState::running) {
      debug_event = gdb::StopEvent{};
      debug_event.reason = slice->reason == StopReason::breakpoint ? gdb::StopEvent::Reason::breakpoint
                                                                   : gdb::StopEvent::Reason::step;
      debug_event.vp = vp;
      debug_event.address = engines[vp]->debug()->pc();
      debug_begin_stop();
    }
    // A breakpoint or step of this VP while another's stop is under way:
    // the VP stays there and the debugger sees it stopped (its PC shows it).
    held = hit || debug_state != DebugState::running || !debug_may_run[vp];
    if (held) debug_held[vp] = 1;
    report = debug_stop_complete();
  }
  if (report) gdb_server->report_stop(*report);
  return held;
}

void Runner::Impl::debug_begin_stop() {
  debug_state = DebugState::stopping;
  for (auto& engine : engines) engine->request_pause();
}

std::optional<gdb::StopEvent> Runner::Impl::debug_stop_complete() {
  if (debug_state != DebugState::stopping || slices_in_flight != 0) return std::nullopt;
  debug_state = DebugState::stopped;
  return debug_event;
}

void Runner::Impl::debug_stop_all() {
  std::optional<gdb::StopEvent> report;
  {
    std::lock_guard lock(debug_mutex);
    switch (debug_state) {
      case DebugState::stopped:
        debug_event.reason = gdb::StopEvent::Reason::interrupted;
        report = debug_event;
        break;
      case DebugState::running:
        debug_event.reason = gdb::StopEvent::Reason::interrupted;
        debug_begin_stop();
        report = debug_stop_complete();
        break;
      case DebugState::stopping:
      default:
        break;  // the stop under way is reported
    }
  }
  if (report) gdb_server->report_stop(*report);
  debug_cv.notify_all();
}

void Runner::Impl::debug_resume(std::span<const gdb::ResumeAction> actions) {
  std::vector<std::uint32_t> post;
  {
    std::lock_guard lock(debug_mutex);
    if (debug_state != DebugState::stopped || actions.size() != engines.size()) return;
    for (std::uint32_t vp = 0; vp < engines.size(); ++vp) {
      const bool run = actions[vp] != gdb::ResumeAction::stay_stopped;
      debug_may_run[vp] = run ? 1 : 0;
      if (VpDebug* d = engines[vp]->debug()) d->set_single_step(actions[vp] == gdb::ResumeAction::step);
      engines[vp]->clear_pause();
      if (run && debug_held[vp]) {
        debug_held[vp] = 0;
        post.push_back(vp);
      }
    }
    debug_state = DebugState::running;
    for (std::uint32_t vp : post) post_slice(vp);
    debug_work = true;
  }
  activity.fetch_add(1, std::memory_order_relaxed);
  debug_cv.notify_all();
}

bool Runner::Impl::debug_holding() {
  if (!debugging) return false;
  std::lock_guard lock(debug_mutex);
  return debug_state != DebugState::running;
}

bool Runner::Impl::debug_hold_wait() {
  if (!debugging) return false;
  {
    std::unique_lock lock(debug_mutex);
    // Resumed, or work posted, since the executor last ran: run it first.
    if (std::exchange(debug_work, false)) return true;
    if (debug_state == DebugState::running) return false;
    debug_cv.wait_for(lock, kHostNap, [this] {
      return debug_state == DebugState::running || debug_work || done.load(std::memory_order_acquire);
    });
    debug_work = false;
  }
  timed_out();
  return true;
}

std::optional<std::string> Runner::Impl::debug_on_strand(std::uint32_t vp, std::function<std::string()> work) {
  auto promise = std::make_shared<std::promise<std::string>>();
  auto future = promise->get_future();
  boost::asio::post(partition->vp(vp).strand(), [promise, work = std::move(work)] { promise->set_value(work()); });
  {
    std::lock_guard lock(debug_mutex);
    debug_work = true;
  }
  debug_cv.notify_all();
  if (future.wait_for(kDebugStrandWait) != std::future_status::ready) return std::nullopt;
  return future.get();
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
      if (done.load()) break;
      if (debug_hold_wait()) continue;  // the debugger holds the machine: no clock jump
      if (!(options.console_input ? wait_for_input(seen) : jump_to_next_deadline())) break;
    }
  } else {
    std::unique_lock lock(done_mutex);
    std::uint64_t last_activity = ~std::uint64_t{0};
    auto idle_since = std::chrono::steady_clock::now();
    while (!done.load()) {
      done_cv.wait_for(lock, kThreadedWatchPeriod);
      if (done.load()) break;
      lock.unlock();
      // Held by the debugger: not parked, and the clock stays.
      bool all_parked = !debug_holding();
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
  if (gdb_server) {
    {
      // What the host's commands use may go once run() returns.
      std::lock_guard lock(monitor_commands_mutex);
      monitor_commands.clear();
    }
    // The debugger sees the guest end (gdb then closes its connection).
    gdb::StopEvent exited;
    exited.reason = gdb::StopEvent::Reason::exited;
    exited.exit_code = static_cast<std::uint8_t>(exit_status(r));
    gdb_server->report_stop(exited);
    gdb_server->wait_until_disconnected(kDebugExitGrace);
  }
  return r;
}

Runner::Runner(RunnerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) { impl_->start_debugger(); }
std::uint16_t Runner::gdb_port() const { return impl_->gdb_server ? impl_->gdb_server->port() : 0; }
void Runner::add_monitor_command(std::string help,
                                 std::function<std::optional<std::string>(std::string_view)> handler) {
  std::lock_guard lock(impl_->monitor_commands_mutex);
  impl_->monitor_commands.push_back({std::move(help), std::move(handler)});
}
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
