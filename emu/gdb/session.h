// GdbSession: one debugger's conversation with a GdbTarget, bytes in and
// bytes out, no I/O of its own (GdbServer gives it a socket; tests give it
// strings). It lives as long as the stub, across connections, so that a
// debugger that disappears never leaves the guest stopped: its
// breakpoints are removed and every VP resumes, at once if the guest is
// stopped, else at the next stop.
//
// All-stop: when one VP stops every VP is stopped (the target's contract);
// gdb thread N is VP N - 1. Packets that need a stopped guest and arrive
// while it runs (after attaching, before the target confirmed the stop)
// wait for the stop.
//
// Not thread-safe: strand-affine. Every method, including on_stop(), runs
// on the one strand (GdbServer's); target calls are made from there.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "emu/gdb/packet.h"
#include "emu/gdb/request.h"
#include "emu/gdb/target.h"
#include "emu/gdb/target_description.h"

namespace softsynic::gdb {

class GdbSession {
 public:
  using Send = std::function<void(std::string_view bytes)>;

  explicit GdbSession(GdbTarget& target);

  // A debugger connected; replies go to `send`. Asks the target to stop.
  void connect(Send send);
  // Bytes from the debugger.
  void receive(std::string_view bytes);
  // The debugger went away (closed, or its connection broke).
  void disconnect();
  // The target stopped (every VP) or the guest ended.
  void on_stop(const StopEvent& event);

  bool connected() const { return static_cast<bool>(send_); }
  // The guest is stopped for the debugger (tests, diagnostics).
  bool target_stopped() const { return state_ == State::stopped; }

 private:
  enum class State { running, stopped, exited };

  void handle(std::string_view payload);
  void reply(std::string_view payload);
  std::string answer(const Request& request);
  std::string stop_reply() const;
  std::string resume(const Resume& request);
  std::string read_registers();
  std::string write_registers(const WriteRegisters& request);
  std::string read_register(const ReadRegister& request);
  std::string write_register(const WriteRegister& request);
  std::string read_memory(const ReadMemory& request);
  std::string write_memory(const WriteMemory& request);
  std::string breakpoint(const Breakpoint& request);
  std::string monitor(const Monitor& request);
  std::string read_features(const ReadFeatures& request) const;
  std::string set_thread(const SetThread& request);
  bool thread_exists(ThreadId thread) const;
  std::uint32_t vp_of(ThreadId thread, std::uint32_t fallback) const;
  void release();
  void request_stop();

  GdbTarget& target_;
  const TargetDescription& description_;
  Send send_;
  PacketReader reader_;
  bool no_ack_ = false;
  bool gdb_swbreak_ = false;
  std::string last_reply_;
  State state_ = State::running;
  bool stop_requested_ = false;
  bool reply_owed_ = false;
  StopEvent last_stop_;
  ThreadId selected_g_ = kAnyThread;
  ThreadId selected_c_ = kAnyThread;
  AddressSpace memory_space_ = AddressSpace::virtual_address;
  std::vector<std::tuple<BreakpointType, std::uint64_t, std::uint64_t>> breakpoints_;
  std::deque<std::string> waiting_;  // packets held until the guest stops
};

}  // namespace softsynic::gdb
