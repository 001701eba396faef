// GdbTarget: what the GDB stub needs from a machine. The reference runner
// implements it over its VpEngines (x86-64 and ARM64); the stub itself
// knows no engine. gdb thread N is VP N - 1.
//
// Threading. The stub calls every method from its own thread (the
// server's strand), never two at once.
//  - Stopped-only methods (registers, memory, breakpoints, monitor) are
//    called only while every VP is stopped: after the target reported a
//    stop (GdbServer::report_stop) and before the next resume().
//  - resume(), stop_all() and kill() must be safe to call while VPs run on
//    other threads.
// The target reports every stop, and only after every VP has stopped
// (all-stop), through GdbServer::report_stop (thread-safe), at most once
// per resume() or stop_all().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace softsynic::gdb {

enum class TargetArch { x86_64, aarch64 };

// Guest-virtual (through the VP's page tables / translation regime) or
// guest-physical.
enum class AddressSpace { virtual_address, physical };

enum class BreakpointType { software, hardware, write_watch, read_watch, access_watch };

enum class BreakpointResult {
  ok,
  unsupported,  // this type is not offered at all: gdb stops asking for it
  failed,       // offered, but not at this address (gdb reports an error)
};

// What one VP does on resume().
enum class ResumeAction { stay_stopped, run, step };

struct StopEvent {
  enum class Reason {
    breakpoint,   // a software or hardware breakpoint at the VP's PC
    watchpoint,   // data access at `address`, of kind `watch`
    step,         // a single step finished
    interrupted,  // stop_all() (Ctrl-C, or the debugger attaching)
    exited,       // the guest ended (exit device, fault); `exit_code`
  };
  Reason reason = Reason::interrupted;
  std::uint32_t vp = 0;  // the VP that caused the stop (the one gdb selects)
  std::uint64_t address = 0;
  BreakpointType watch = BreakpointType::write_watch;
  std::uint8_t exit_code = 0;
};

class GdbTarget {
 public:
  virtual ~GdbTarget() = default;

  virtual TargetArch arch() const = 0;
  virtual std::uint32_t vp_count() const = 0;

  // Stopped-only. Registers by gdb number (target_description.h: the
  // order of the description); `value` has the register's size, little
  // endian. false: not available (gdb shows <unavailable>) or not written.
  virtual bool read_register(std::uint32_t vp, unsigned regno, std::span<std::byte> value) = 0;
  virtual bool write_register(std::uint32_t vp, unsigned regno, std::span<const std::byte> value) = 0;

  // Stopped-only. Bytes read or written from the start of the range before
  // the first one that is not mapped (0: none).
  virtual std::size_t read_memory(std::uint32_t vp, AddressSpace space, std::uint64_t address,
                                  std::span<std::byte> out) = 0;
  virtual std::size_t write_memory(std::uint32_t vp, AddressSpace space, std::uint64_t address,
                                   std::span<const std::byte> bytes) = 0;

  // Stopped-only. Breakpoints apply to every VP; software breakpoints must
  // not write guest memory (code hooks). `length`: gdb's kind (the
  // instruction size for breakpoints, the byte count for watchpoints).
  virtual BreakpointResult insert_breakpoint(BreakpointType type, std::uint64_t address,
                                             std::uint64_t length) = 0;
  virtual BreakpointResult remove_breakpoint(BreakpointType type, std::uint64_t address,
                                             std::uint64_t length) = 0;

  // Resumes: actions[vp] for every VP (actions.size() == vp_count()).
  // The next stop is reported with report_stop.
  virtual void resume(std::span<const ResumeAction> actions) = 0;
  // Stops every VP and reports interrupted (at once if already stopped).
  virtual void stop_all() = 0;
  // gdb's kill: ends the run; the target then reports exited.
  virtual void kill() = 0;

  // Stopped-only. A `monitor` command the stub does not know itself
  // (SynIC state dumps); nullopt: not a command of the target.
  virtual std::optional<std::string> monitor(std::string_view /*command*/) { return std::nullopt; }
};

}  // namespace softsynic::gdb
