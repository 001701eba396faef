// Runner: the reference emulator's machine. Owns guest RAM, the partition,
// one VpEngine per VP, the built-in host test ports and the schedule, loads
// the guest image and runs it until the guest writes the exit device, faults,
// deadlocks (every VP halted with nothing pending) or times out.
//
// Schedule: each VP's CPU runs in slices of `slice_blocks` translated blocks
// as work on that VP's strand, so SynIC strand work (message delivery, host
// ports) never races the VP's own instructions. Deterministic mode (threads
// == 0) runs everything on the calling thread with a DeterministicExecutor:
// the same image and options give the same console output and SynIC event
// sequence. Threaded mode (threads > 0) runs strands on a thread pool but
// still one engine at a time (a partition-wide engine mutex); it keeps every
// guarantee except the interleaving of VPs, which follows host timing.
//
// Debugger (options.gdb): a GDB remote stub (emu/gdb/server.h) serves the
// machine on its own thread. All-stop: when a VP hits a breakpoint, ends
// a step or the debugger interrupts, no VP starts another slice and the
// running ones end theirs at the next block boundary; the stop is reported
// once every VP is out of its slice. A VP held by the debugger is neither
// parked nor counted for deadlocks, and the clock does not jump while the
// debugger holds the machine. Holds in deterministic mode (the run thread
// waits for the debugger, running the strand work it asks for) and in
// threaded mode alike.
//
// Threading: construct, run() and destroy on one thread; stop(),
// gdb_port() and add_monitor_command() are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "emu/gdb/server.h"
#include "emu/vp_engine.h"

namespace softsynic {
class Partition;
class TimeSource;
class RamGuestMemory;
class SynicObserver;
}  // namespace softsynic

namespace softsynic::emu {

struct RunnerOptions {
  Arch arch = Arch::x86_64;
  // bare: the boot contract (vp_engine.h). pc (x86-64): `image` is a
  // multiboot kernel booted as on a PC (docs/PC_PLATFORM.md); `arguments`
  // follow the image path on its command line. Recording is refused on pc
  // (the test device's connections are not in the trace format).
  Platform platform = Platform::bare;
  std::string arguments;
  // pc: `image` is a Linux kernel (a bzImage, or a vmlinux with its PVH
  // entry) booted by its boot protocol with ACPI tables (docs/LINUX_GUEST.md);
  // `arguments` is its whole command line, `initrd` an optional initramfs.
  bool linux_kernel = false;
  std::string initrd;
  std::uint32_t vps = 1;
  std::uint64_t memory = 64ull << 20;  // bytes of RAM from memory_layout(arch).ram_base
  std::string image;                   // path: ELF (by magic) or flat binary
  std::vector<std::string> features_off;
  std::uint64_t slice_blocks = 20000;
  std::uint64_t timeout_blocks = 0;  // 0: none. Total blocks over all VPs.
  double timeout_seconds = 0;        // 0: none. Wall time; breaks determinism only when it fires.
  unsigned threads = 0;              // 0: deterministic, one thread
  // Reference time from the host's steady clock (interactive runs; halted
  // VPs sleep in host time until the next deadline) instead of one 100 ns
  // tick per executed block. Not deterministic: a recording of such a run
  // replays only where the guest did not depend on timing.
  bool host_clock = false;
  // MachineConfig::check_code_writes: false trades the check of stores
  // against translated code for speed (softsynic-run
  // --unchecked-code-writes).
  bool check_code_writes = true;
  std::ostream* console = nullptr;   // guest console bytes; nullptr: std::cout
  // The host types at the guest's console (console_input() from another
  // thread; the pc platform's COM1). The console output is then a byte
  // stream, flushed byte by byte (prompts without a newline show, "\r"
  // stays), instead of one whole line per VP. With every VP halted the run
  // waits for input in host time, never ending as a deadlock: until the
  // next deadline with the host clock (a wake-up ends the wait early), for
  // good when there is none. Not deterministic.
  bool console_input = false;
  std::ostream* log = nullptr;       // one readable line per SynIC event; nullptr: no log
  // One line the first time the guest touches each MSR, port or hypercall
  // code the machine does not model ("vp0: unhandled port read 0x61");
  // nullptr: not reported.
  std::ostream* diagnostics = nullptr;
  SynicObserver* observer = nullptr;  // extra observer, called after the log
  // Write the run as a trace (docs/TRACE_FORMAT.md) to this file when it
  // ends; empty: no recording. std::invalid_argument when the build has no
  // recorder.
  std::string record_path;
  // Write a Chrome trace-event timeline (emu/replay/timeline.h) of the run
  // to this file when it ends; empty: none. Same availability as recording.
  std::string timeline_path;
  // A GDB remote stub at this endpoint (docs/DEBUGGING.md); nullopt: none.
  // Port 0 picks a free one (gdb_port()).
  std::optional<gdb::Endpoint> gdb;
  // With gdb: no VP runs its first instruction until a debugger attached
  // and resumed the guest.
  bool gdb_wait = false;
};

enum class RunOutcome {
  guest_exit,   // the guest wrote the exit device
  guest_fault,   // unmapped access, broken IDT, an exception before long mode, ...
  triple_fault,  // x86: a fault while delivering #DF (the message has the registers)
  guest_crash,   // x86: the guest reported a crash through CRASH_CTL (the message has P0-P4)
  timeout,      // --timeout reached
  deadlock,     // every VP halted, no interrupt pending, no deadline
  host_error,   // the runner itself failed (bad image, ...)
};

struct RunResult {
  RunOutcome outcome = RunOutcome::host_error;
  std::uint32_t exit_code = 0;  // guest_exit: the guest's code
  std::string message;          // readable summary for the other outcomes
  std::string record_error;     // the recording or timeline could not be written
  std::uint64_t blocks = 0;     // blocks executed over all VPs
};

// Process exit status for softsynic-run: the guest's code for guest_exit
// (truncated to 0..255), else one of these.
inline constexpr int kExitHostError = 120;
inline constexpr int kExitGuestFault = 121;
inline constexpr int kExitDeadlock = 122;
inline constexpr int kExitTripleFault = 123;
inline constexpr int kExitTimeout = 124;
inline constexpr int kExitGuestCrash = 125;
int exit_status(const RunResult& result);

class Runner {
 public:
  // Throws std::invalid_argument / std::runtime_error on bad options or an
  // image that cannot be loaded.
  explicit Runner(RunnerOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  Partition& partition();
  RamGuestMemory& memory();
  // Reference time of the run (what TIME_REF_COUNT and the timers count).
  const TimeSource& time_source() const;
  // Before run(): a host device's own deadlines (reference time). The
  // runner counts next() among the deadlines a halted partition sleeps
  // until, and calls fire() once one is due. Both are called from the VPs'
  // strands and the runner's thread: they must be thread-safe.
  void add_deadline_source(std::function<std::optional<std::uint64_t>()> next, std::function<void()> fire);
  // Thread-safe: no source is called once this returns (call it after
  // run(), before what the sources use goes away: with --threads the pool
  // still runs strand work until the runner is destroyed).
  void remove_deadline_sources();

  // The GDB stub's listening port; 0 without options.gdb.
  std::uint16_t gdb_port() const;
  // A `monitor` command family for the debugger (add it before run() so a
  // debugger sees it from the start). `handler`
  // answers the commands it knows (nullopt for the others); it is called
  // from the stub's thread while the guest is stopped, so it must be
  // thread-safe against the host's own threads, and never after run()
  // returned. `help` lines are added to `monitor help`.
  void add_monitor_command(std::string help, std::function<std::optional<std::string>(std::string_view)> handler);

  RunResult run();
  void stop();  // thread-safe: ends run() with host_error "stopped"
  // Thread-safe: bytes typed at the guest's console (the pc platform's
  // COM1 receiver; see RunnerOptions::console_input). Returns how many the
  // machine took: fewer when its input backlog is full (try the rest
  // later), 0 on a platform without console input.
  std::size_t console_input(std::span<const std::uint8_t> bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace softsynic::emu
