// Replayer: runs a loaded Trace on a fresh ReplayMachine, step by step,
// each to quiescence, and checks every expectation (docs/TRACE_FORMAT.md
// "Ops", "Results"). A failed expectation does not stop the run: every
// failing step is reported, with its index, op, note, what was checked, the
// expected and the observed value. Output is a pure function of the trace,
// so replaying a file twice prints the same bytes.
//
// Threading: replay() runs on the calling thread; hooks are called on it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "emu/replay/guest_cpu_observer.h"
#include "emu/replay/host_port_observer.h"
#include "emu/replay/trace.h"
#include "synic/observer.h"

namespace softsynic::replay {

struct StepFailure {
  std::size_t index = 0;
  std::string op;
  std::string note;
  std::string what;  // "status", "value", "regs.rax", "messages", ...
  std::string expected;
  std::string observed;
};

struct ReplayResult {
  std::vector<StepFailure> failures;
  bool passed() const { return failures.empty(); }
};

// Optional observers of the run (the recorder and the timeline use them).
struct ReplayHooks {
  GuestCpuObserver* cpu = nullptr;
  SynicObserver* synic = nullptr;
  HostPortObserver* host = nullptr;
  // Around each step (after: once the step is quiescent).
  std::function<void(std::size_t index, const Step& step)> before_step;
  std::function<void(std::size_t index, const Step& step)> after_step;
};

class ReplayMachine;

ReplayResult replay_trace(const Trace& trace, const ReplayHooks& hooks = {});
// Same, with hooks made once the machine exists, for observers that need
// it (the recorder reads its guest memory). make_hooks runs before step 0.
ReplayResult replay_trace(const Trace& trace, const std::function<ReplayHooks(ReplayMachine&)>& make_hooks);

// "PASS name\n", or "FAIL name\n" and one indented line per failure:
//   step 4 (rdmsr) "note": value: expected 0x1, observed 0x0
std::string format_result(const std::string& name, const ReplayResult& result);
// "FAIL name\n  load error: <reason>\n".
std::string format_load_error(const std::string& name, const std::string& reason);

}  // namespace softsynic::replay
