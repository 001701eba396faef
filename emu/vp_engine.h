// VpEngine: one virtual processor's CPU as the runner drives it, one
// implementation per architecture (emu/x86/, emu/arm64/). The runner owns
// guest RAM, the partition and the schedule; an engine owns its CPU model,
// its interrupt controller hook-up and the traps that lead into cpu_hooks/.
//
// Boot contract, both architectures: every VP starts at EngineConfig::entry
// in the most privileged mode the engine offers guests (x86-64: ring 0 long
// mode with identity paging; ARM64: EL1h), with the stack pointer at
// stack_top and the first two argument registers holding the VP index and
// the VP count (x86-64: RDI, RSI; ARM64: X0, X1).
//
// Threading: run_slice(), take_interrupt() and invalidate_code() are
// engine-affine: the runner calls them from the VP's strand with no other
// engine running (Unicorn engines are not safe to run side by side on one
// RAM: guest locked instructions would not be atomic). request_stop(),
// request_pause(), clear_pause() and interrupt_pending() are thread-safe;
// debug() is called while the VP is stopped (emu/vp_debug.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace softsynic {
struct GuestCrashReport;
class MonitorAccess;
class Partition;
class RamGuestMemory;
class SyntheticTimers;
class TimeSource;
}  // namespace softsynic

namespace softsynic::replay {
class GuestCpuObserver;
}  // namespace softsynic::replay

namespace softsynic::emu {

class MonitorPageWatch;
class VpDebug;

enum class Arch { x86_64, aarch64 };

std::string_view arch_name(Arch arch);
std::optional<Arch> arch_from_name(std::string_view name);

// Why run_slice() returned.
enum class StopReason {
  halted,          // HLT / WFI: nothing to run until an interrupt (or a deadline)
  exit_requested,  // request_stop(), the exit device, or a fatal host error
  slice_budget,    // the block budget ran out; the VP is still runnable
  guest_fault,     // the guest cannot go on (unmapped access, a broken IDT, ...)
  triple_fault,    // x86: a fault while delivering #DF (the CPU would shut down)
  breakpoint,      // a debugger's breakpoint (VpDebug): the PC is at it, not executed
  step,            // a debugger's single step finished
};

std::string_view stop_reason_name(StopReason reason);

struct SliceResult {
  StopReason reason = StopReason::slice_budget;
  std::uint64_t blocks = 0;  // translated blocks entered during the slice
  std::string fault;         // guest_fault: one readable line
};

struct UnhandledAccess {
  enum class Kind { msr_read, msr_write, port_read, port_write, hypercall };
  Kind kind;
  std::uint64_t number;  // the MSR, the port, the hypercall code
};
// "unhandled MSR read 0x8b", "unhandled hypercall 0x4f", ...
std::string describe(const UnhandledAccess& what);

// What the runner offers every engine. Every method is thread-safe.
class EngineHost {
 public:
  virtual ~EngineHost() = default;
  // One byte written to the debug console by `vp`.
  virtual void console_write(std::uint32_t vp, char c) = 0;
  // The guest wrote the exit device. The engine also ends its slice with
  // exit_requested; the runner stops the other VPs.
  virtual void guest_exit(std::uint32_t vp, std::uint32_t code) = 0;
  // The guest reported a crash (x86 CRASH_CTL; cpu_hooks/crash_msrs.h),
  // from the reporting VP's strand. The runner ends the run.
  virtual void guest_crash(const GuestCrashReport& /*report*/) {}
  // Guest code in [gpa, gpa + size) was written by the host or by `vp`'s
  // CPU through a trap (e.g. the hypercall page fill): the runner calls
  // invalidate_code() on every engine before each runs again.
  virtual void code_written(std::uint32_t vp, std::uint64_t gpa, std::uint64_t size) = 0;
  // The guest touched something the machine does not model: an MSR no
  // handler owns (and the CPU model does not implement), a port no device
  // claims, a hypercall code the hypervisor does not know. The engine goes
  // on with the architected default (reads 0 or all ones, writes ignored,
  // HV_STATUS_INVALID_HYPERCALL_CODE). From the engine's hooks.
  virtual void unhandled_access(std::uint32_t /*vp*/, const UnhandledAccess& /*what*/) {}
  // `vp`'s interrupt controller has a new request: a halted VP must be
  // scheduled again. Called from any thread (host ports, other VPs).
  virtual void wake(std::uint32_t vp) = 0;
  // `vp`'s CPU may have armed a deadline during its slice: it wrote a
  // synthetic timer register or set a monitor pending bit (engine-affine:
  // from the engine's hooks). The host may shorten the running slice with
  // VpEngine::limit_slice() so it ends at that deadline.
  virtual void deadline_armed(std::uint32_t /*vp*/) {}
};

// Where RAM and images live for each architecture (the runner's memory map).
struct MemoryLayout {
  std::uint64_t ram_base;
  std::uint64_t image_base;     // flat binaries load here; ELF uses its own addresses
  std::uint64_t reserved_size;  // bytes from ram_base the machine keeps for itself
};
MemoryLayout memory_layout(Arch arch);

// Which platform a machine models. bare: the runner's boot contract and
// debug devices (emu/debug_devices.h), both architectures. pc (x86-64
// only): a PC for multiboot kernels (docs/PC_PLATFORM.md): firmware ROM,
// 16550 serial, isa-debug-exit, fw_cfg, 8259 mask ports, the Hyper-V test
// device; VPs start as StartMode says. virt (ARM64 only): a small Arm
// machine for operating systems (emu/arm64/platform.h, virt_platform.h):
// the GICv3 distributor, the virtual timer, a PL011 and PSCI, with the
// debug devices still mapped; VP 0 starts, the others wait for PSCI CPU_ON.
enum class Platform { bare, pc, virt };

// Partition-wide inputs of a machine. Pointers outlive the machine.
struct MachineConfig {
  std::uint32_t vp_count = 1;
  RamGuestMemory* ram = nullptr;     // shared by every engine
  Partition* partition = nullptr;
  const TimeSource* time = nullptr;  // reference time (TIME_REF_COUNT, timers)
  EngineHost* host = nullptr;
  // Hypervisor features the user switched off (--feature-off NAME); the
  // names are cpu_hooks' HvFeatures names.
  std::vector<std::string> features_off;
  // Optional (recording, timelines): engines call before_crossing() and the
  // matching on_* around every MSR access, hypercall, interrupt taken and
  // EOI (emu/replay/guest_cpu_observer.h).
  replay::GuestCpuObserver* cpu_observer = nullptr;
  // Optional: the partition's synthetic timers. The machine advertises
  // them (stimers, and direct_timers as timers->config().direct_mode says),
  // routes the STIMER MSRs / register names to them and makes each VP's
  // interrupt controller their direct-mode sink; engines report their VP's
  // earliest expiry from next_deadline(). The runner calls fire_due().
  SyntheticTimers* timers = nullptr;
  // Optional: the partition's monitor pages. Engines watch the trigger
  // groups of the VTL 0 child-to-parent page that `monitor_pages` names and
  // report newly set pending bits with MonitorAccess::on_monitor_page_write
  // (emu/unicorn/monitor_trigger_watch.h).
  MonitorAccess* monitor = nullptr;
  const MonitorPageWatch* monitor_pages = nullptr;
  Platform platform = Platform::bare;
  // x86: keep Unicorn's check of stores against translated code armed on
  // every store (docs/PC_PLATFORM.md, "The engine on Unicorn 2.1.1" item 5).
  // false runs guest stores about 2.5 times faster, but a guest that
  // rewrites code it has run after storing to the same page (Linux's
  // boot-time alternatives) may go on running the old code.
  bool check_code_writes = true;
  // Device diagnostics (the pc platform's test device reports invalid
  // commands here). Called from engine threads. Default: none.
  std::function<void(const std::string&)> device_log;
};

// How a VP starts.
enum class StartMode {
  boot_contract,     // the boot contract above, at entry
  multiboot,         // pc: flat 32-bit protected mode at entry, EBX = multiboot_info
  wait_for_startup,  // pc APs: halted until INIT/SIPI start them in real mode
  long_mode,         // pc: 64-bit mode at entry with the tables of `long_mode` (Linux's 64-bit boot protocol)
  powered_off,       // virt: off until a PSCI CPU_ON names the VP
  arm64_linux,       // virt: EL1h, D A I F masked, MMU off, PC = entry, X0 = arm64_x0, X1-X3 = 0 (arm64 booting rules)
};

// StartMode::long_mode: the tables a loader wrote and RSI.
struct LongModeStart {
  std::uint64_t cr3 = 0;
  std::uint64_t gdt_base = 0;
  std::uint16_t gdt_limit = 0;
  std::uint16_t code_selector = 0;
  std::uint16_t data_selector = 0;
  std::uint64_t rsi = 0;
};

// Per VP.
struct EngineConfig {
  std::uint32_t vp_index = 0;
  std::uint64_t entry = 0;      // first instruction
  std::uint64_t stack_top = 0;  // initial stack pointer (boot_contract)
  StartMode start = StartMode::boot_contract;
  std::uint32_t multiboot_info = 0;  // multiboot: the information structure's address (EBX)
  std::uint32_t boot_magic = 0x2BAD'B002;  // multiboot: EAX (the multiboot magic; a PVH entry ignores it)
  LongModeStart long_mode{};         // long_mode
  std::uint64_t arm64_x0 = 0;        // arm64_linux: the DTB's address
};

// A readable register dump for logs and fault messages.
struct RegisterSnapshot {
  std::vector<std::pair<std::string, std::uint64_t>> registers;  // name, value
  std::string to_string() const;
};

class VpEngine {
 public:
  virtual ~VpEngine() = default;
  virtual Arch arch() const = 0;
  virtual std::uint32_t vp_index() const = 0;

  // Runs the CPU until it halts, is asked to stop, faults or has entered
  // `block_budget` translated blocks (the deterministic slice length; never
  // wall time). On entry the engine first calls take_interrupt(); a halted
  // CPU with nothing to take returns halted at once with blocks == 0.
  virtual SliceResult run_slice(std::uint64_t block_budget) = 0;

  // Thread-safe. Ends the running slice (or the next one, at once, when
  // none is running) with exit_requested.
  virtual void request_stop() = 0;

  // Engine-affine (from EngineHost::deadline_armed during the slice): the
  // running slice ends with slice_budget once `blocks` blocks in all have
  // run (at once if that many have). Never lengthens the slice.
  virtual void limit_slice(std::uint64_t /*blocks*/) {}

  // If the interrupt controller has a vector the CPU accepts now (x86-64:
  // RFLAGS.IF; ARM64: PSTATE.I clear), enters its handler through the
  // guest's IDT / VBAR_EL1 and clears the halted state. true if entered.
  virtual bool take_interrupt() = 0;

  // Thread-safe, approximate: the controller has a request that would wake
  // a halted CPU. The runner uses it to tell a sleeping VP from a deadlock.
  virtual bool interrupt_pending() const = 0;

  // Earliest timer deadline (TimeSource units) that would wake this VP, if
  // any; a halted VP sleeps until then.
  virtual std::optional<std::uint64_t> next_deadline() const { return std::nullopt; }
  // Strand-affine: the runner calls it once reference time has reached
  // next_deadline(), after the synthetic timers fired: the CPU's own timers
  // (x86-64: the APIC timer) fire.
  virtual void fire_due(std::uint64_t /*now*/) {}

  // Drops cached translations of [gpa, gpa + size).
  virtual void invalidate_code(std::uint64_t gpa, std::uint64_t size) = 0;

  virtual RegisterSnapshot registers() const = 0;

  // Thread-safe: the running slice ends with slice_budget at its next block
  // boundary, and any slice started before clear_pause() at its first (the
  // runner stopping every VP for a debugger).
  virtual void request_pause() {}
  virtual void clear_pause() {}
  // The debugger's view of this VP (emu/vp_debug.h); nullptr when the
  // engine offers none.
  virtual VpDebug* debug() { return nullptr; }
};

// One per partition: the hypervisor objects every VP shares (x86-64: the
// X86Hypervisor, the APIC bus; ARM64: the Arm64Hypervisor) and the engine
// factory. Set-up only: used before any VP runs, on the runner's thread;
// console_input() is the exception.
class ArchMachine {
 public:
  virtual ~ArchMachine() = default;
  virtual Arch arch() const = 0;
  // Creates VP config.vp_index's engine (each index once, in order).
  virtual std::unique_ptr<VpEngine> make_engine(const EngineConfig& config) = 0;
  // Thread-safe, while the run goes on: bytes typed at the guest's console
  // (the pc platform's COM1 receiver). Returns how many the machine took;
  // 0 where the platform has no console input.
  virtual std::size_t console_input(std::span<const std::uint8_t> /*bytes*/) { return 0; }
};

// Throw std::invalid_argument for a bad configuration (unknown feature
// name, RAM too small) and std::runtime_error when the CPU model cannot be
// created. Defined by the architecture's directory.
std::unique_ptr<ArchMachine> make_x86_64_machine(const MachineConfig& config);
std::unique_ptr<ArchMachine> make_aarch64_machine(const MachineConfig& config);

}  // namespace softsynic::emu
