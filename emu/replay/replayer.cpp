// Replayer: see replayer.h. One method per op; each leaves the machine
// quiescent.
#include "emu/replay/replayer.h"

#include <map>
#include <memory>
#include <optional>

#include "emu/replay/recording_ports.h"
#include "emu/replay/replay_machine.h"
#include "emu/replay/trace_values.h"
#include "synic/defs/hypercall.h"
#include "synic/guest_event_port.h"

namespace softsynic::replay {
namespace {

std::string status_text(HvStatus s) {
  const auto name = status_name(s);
  const std::string code = hex(static_cast<std::uint16_t>(s));
  return name.empty() ? code : "HV_STATUS_" + std::string(name) + " (" + code + ")";
}

std::string error_text(const boost::system::error_code& ec) {
  if (!ec) return "ok";
  if (ec.category() == error_category()) return std::string(error_name(static_cast<Error>(ec.value())));
  return ec.message();
}

std::string msr_result_text(MsrResult r) {
  switch (r) {
    case MsrResult::ok: return "ok";
    case MsrResult::gp: return "gp";
    case MsrResult::not_mine: return "gp (no handler: not_mine)";
    default: return "unknown";
  }
}

std::string outcome_text(const HypercallOutcome& o) {
  switch (o.action) {
    case HypercallAction::completed: return "completed";
    case HypercallAction::invalid_opcode: return "#UD (invalid opcode)";
    case HypercallAction::not_mine: return "not_mine (not a hypercall)";
    default: return "unknown";
  }
}

std::string messages_text(const std::vector<PortMessage>& ms) {
  std::string out = "[";
  for (std::size_t i = 0; i < ms.size(); ++i) {
    if (i) out += ", ";
    out += "{type " + hex(ms[i].type) + ", payload \"" + hex_bytes(ms[i].payload) + "\"}";
  }
  return out + "]";
}

std::string flags_text(const std::vector<std::uint16_t>& flags) {
  std::string out = "[";
  for (std::size_t i = 0; i < flags.size(); ++i) out += (i ? ", " : "") + std::to_string(flags[i]);
  return out + "]";
}

// Register access by trace name on the two register files.
std::optional<unsigned> xmm_index(std::string_view name) {
  if (name.size() == 4 && name.substr(0, 3) == "xmm" && name[3] >= '0' && name[3] <= '5')
    return static_cast<unsigned>(name[3] - '0');
  return std::nullopt;
}

void set_x86(X86RegisterFile& regs, const NamedReg& r) {
  if (auto n = xmm_index(r.name)) {
    regs.xmm[*n] = Uint128{r.value.low, r.value.high};
  } else if (auto reg = x86_reg_from_name(r.name)) {
    regs.gpr[static_cast<unsigned>(*reg)] = r.value.low;
  }
}

RegValue128 get_x86(const X86RegisterFile& regs, const std::string& name) {
  if (auto n = xmm_index(name)) return {regs.xmm[*n].low, regs.xmm[*n].high};
  if (auto reg = x86_reg_from_name(name)) return {regs.gpr[static_cast<unsigned>(*reg)], 0};
  return {};
}

// "x7" -> 7 (the loader admitted only x0..x17).
unsigned arm64_index(std::string_view name) {
  return static_cast<unsigned>(parse_integer_string(name.substr(1)).value_or(0));
}

bool is_host_step(const StepOp& op) {
  return std::holds_alternative<AddMessagePortStep>(op) || std::holds_alternative<AddEventPortStep>(op) ||
         std::holds_alternative<RemovePortStep>(op) || std::holds_alternative<TakePortMessageStep>(op) ||
         std::holds_alternative<PostMessageStep>(op) || std::holds_alternative<NewGuestEventPortStep>(op) ||
         std::holds_alternative<SignalGuestEventStep>(op) || std::holds_alternative<AdvanceTimeStep>(op);
}

class Run {
 public:
  explicit Run(const Trace& trace) : trace_(trace), machine_(trace.machine) {}
  void set_hooks(ReplayHooks hooks) {
    hooks_ = std::move(hooks);
    machine_.set_cpu_observer(hooks_.cpu);
    machine_.partition().set_observer(hooks_.synic);
  }
  ReplayMachine& machine() { return machine_; }
  ~Run() {
    // Unregister ports and drop event ports before the machine goes.
    for (auto& [id, p] : ports_) {
      p.handle.reset();
      p.guest_event.reset();
    }
    machine_.settle();
    machine_.partition().set_observer(nullptr);
  }

  ReplayResult run() {
    for (std::size_t i = 0; i < trace_.steps.size(); ++i) {
      const Step& step = trace_.steps[i];
      index_ = i;
      step_ = &step;
      if (hooks_.before_step) hooks_.before_step(i, step);
      if (host() && is_host_step(step.op)) host()->before_host_call();
      std::visit([this](const auto& s) { exec(s); }, step.op);
      machine_.settle();
      if (hooks_.after_step) hooks_.after_step(i, step);
    }
    return std::move(result_);
  }

 private:
  struct Port {
    std::shared_ptr<RecordingMessagePort> messages;
    std::shared_ptr<RecordingEventPort> events;
    PortHandle handle;
    std::unique_ptr<GuestEventPort> guest_event;
  };

  void fail(std::string what, std::string expected, std::string observed) {
    result_.failures.push_back(StepFailure{index_, std::string(op_name(step_->op)), step_->note, std::move(what),
                                           std::move(expected), std::move(observed)});
  }
  template <typename T>
  void check(const char* what, const T& expected, const T& observed, const std::string& e, const std::string& o) {
    if (!(expected == observed)) fail(what, e, o);
  }
  void check_error(Error expected, const boost::system::error_code& observed) {
    const std::string want(error_name(expected));
    const std::string got = error_text(observed);
    if (want != got) fail("result", want, got);
  }
  HostPortObserver* host() const { return hooks_.host; }

  // ---- guest side ----
  void exec(const WriteStep& s) { machine_.memory().write(s.gpa, s.bytes); }

  void exec(const ExpectMemoryStep& s) {
    Bytes observed(s.bytes.size());
    machine_.memory().read(s.gpa, observed);
    Bytes expected = s.bytes;
    if (s.mask) {
      for (std::size_t i = 0; i < observed.size(); ++i) {
        observed[i] &= (*s.mask)[i];
        expected[i] &= (*s.mask)[i];
      }
    }
    check("memory", expected, observed, hex_bytes(expected), hex_bytes(observed));
  }

  void exec(const WrmsrStep& s) {
    const MsrResult r = machine_.wrmsr(s.vp, s.vtl, s.msr, s.value);
    const std::string want = s.expect_gp ? "gp" : "ok";
    if ((r == MsrResult::ok) == s.expect_gp) fail("result", want, msr_result_text(r));
  }

  void exec(const RdmsrStep& s) {
    std::uint64_t value = 0;
    const MsrResult r = machine_.rdmsr(s.vp, s.vtl, s.msr, value);
    if (s.expect_gp) {
      if (r == MsrResult::ok) fail("result", "gp", "ok, value " + hex(value));
    } else if (r != MsrResult::ok) {
      fail("result", "ok, value " + hex(s.expect_value), msr_result_text(r));
    } else {
      check("value", s.expect_value, value, hex(s.expect_value), hex(value));
    }
  }

  void exec(const HypercallStep& s) {
    if (trace_.machine.arch == TraceArch::x86_64) {
      X86RegisterFile regs;
      regs.is_long_mode = s.long_mode;
      for (const auto& r : s.regs) set_x86(regs, r);
      const HypercallOutcome o = machine_.x86_hypercall(s.vp, s.vtl, regs);
      check_hypercall(s, o, regs.gpr[static_cast<unsigned>(X86Reg::rax)],
                      [&](const std::string& name) { return get_x86(regs, name); });
    } else {
      Arm64RegisterFile regs;
      std::uint16_t imm = 1;
      for (const auto& r : s.regs) {
        if (r.name == "imm") {
          imm = static_cast<std::uint16_t>(r.value.low);
        } else {
          regs.x[arm64_index(r.name)] = r.value.low;
        }
      }
      const HypercallOutcome o = machine_.arm64_hvc(s.vp, s.vtl, imm, regs);
      check_hypercall(s, o, regs.x[0], [&](const std::string& name) -> RegValue128 {
        if (name == "imm") return {imm, 0};
        return {regs.x[arm64_index(name)], 0};
      });
    }
  }

  template <typename Get>
  void check_hypercall(const HypercallStep& s, const HypercallOutcome& o, std::uint64_t result_reg, Get get) {
    if (o.action != HypercallAction::completed && (s.expect_status || !s.expect_regs.empty())) {
      fail("outcome", "completed", outcome_text(o));
      return;
    }
    if (s.expect_status) {
      const HvStatus observed = HypercallResult(result_reg).status();
      check("status", *s.expect_status, observed, status_text(*s.expect_status), status_text(observed));
    }
    for (const auto& r : s.expect_regs) {
      const RegValue128 observed = get(r.name);
      if (!(observed == r.value)) fail("regs." + r.name, hex(r.value), hex(observed));
    }
  }

  static std::string vector_text(std::optional<std::uint32_t> v) { return v ? hex(*v) : "none"; }

  void exec(const ExpectInterruptStep& s) {
    const auto pending = machine_.pending_interrupt(s.vp, s.vtl);
    if (pending != s.vector) {
      fail("vector", hex(s.vector), vector_text(pending));
      return;
    }
    machine_.take_interrupt(s.vp, s.vtl);
  }

  void exec(const ExpectNoInterruptStep& s) {
    const auto pending = machine_.pending_interrupt(s.vp, s.vtl);
    if (pending) fail("vector", "none", vector_text(pending));
  }

  void exec(const EoiStep& s) { machine_.eoi(s.vp, s.vtl); }

  // ---- host side ----
  void exec(const AddMessagePortStep& s) {
    Port& p = ports_[s.id];
    p = Port{};
    p.messages = std::make_shared<RecordingMessagePort>(s.capacity);
    std::shared_ptr<MessagePort> port = p.messages;
    if (host()) port = host()->wrap_message_port(s.id, port);
    auto r = machine_.partition().add_message_port(s.connection_id, s.minimum_vtl, std::move(port));
    const boost::system::error_code ec = r ? boost::system::error_code{} : r.error();
    if (r) p.handle = std::move(*r);
    if (host()) host()->on_add_message_port(s.id, s.connection_id, s.minimum_vtl, s.capacity, error_of(ec));
    check_error(s.expect, ec);
  }

  void exec(const AddEventPortStep& s) {
    Port& p = ports_[s.id];
    p = Port{};
    p.events = std::make_shared<RecordingEventPort>();
    std::shared_ptr<EventPort> port = p.events;
    if (host()) port = host()->wrap_event_port(s.id, port);
    auto r = machine_.partition().add_event_port(s.connection_id, s.minimum_vtl, std::move(port));
    const boost::system::error_code ec = r ? boost::system::error_code{} : r.error();
    if (r) p.handle = std::move(*r);
    if (host()) host()->on_add_event_port(s.id, s.connection_id, s.minimum_vtl, error_of(ec));
    check_error(s.expect, ec);
  }

  void exec(const RemovePortStep& s) {
    Port& p = ports_[s.id];
    p.handle.reset();
    p.guest_event.reset();
    if (host()) host()->on_remove_port(s.id);
  }

  void exec(const ExpectPortMessagesStep& s) {
    const auto& p = ports_[s.id];
    const std::vector<PortMessage> observed = p.messages ? p.messages->take_unchecked() : std::vector<PortMessage>{};
    check("messages", s.messages, observed, messages_text(s.messages), messages_text(observed));
  }

  void exec(const ExpectPortEventsStep& s) {
    const auto& p = ports_[s.id];
    const std::vector<std::uint16_t> observed = p.events ? p.events->take_unchecked() : std::vector<std::uint16_t>{};
    check("flags", s.flags, observed, flags_text(s.flags), flags_text(observed));
  }

  void exec(const TakePortMessageStep& s) {
    const auto& p = ports_[s.id];
    const std::uint32_t taken = p.messages ? p.messages->take(s.count) : 0;
    if (host()) host()->on_take_port_message(s.id, taken);
    if (taken != s.count)
      fail("count", std::to_string(s.count) + " queued message(s)", std::to_string(taken) + " queued message(s)");
  }

  void exec(const PostMessageStep& s) {
    const auto ec = machine_.partition().post_message(s.vtl, s.vp, s.sint, s.type, s.payload);
    check_error(s.expect, ec);
  }

  void exec(const NewGuestEventPortStep& s) {
    Port& p = ports_[s.id];
    p = Port{};
    auto r = machine_.partition().new_guest_event_port(s.vtl, s.vp, s.sint, s.flag);
    const boost::system::error_code ec = r ? boost::system::error_code{} : r.error();
    if (r) p.guest_event = std::move(*r);
    if (host()) host()->on_new_guest_event_port(s.id, s.vtl, s.vp, s.sint, s.flag, error_of(ec));
    check_error(s.expect, ec);
  }

  void exec(const SignalGuestEventStep& s) {
    const auto& p = ports_[s.id];
    if (!p.guest_event) {
      fail("port", "a live guest event port", "none (creation failed or removed)");
      return;
    }
    const auto ec = p.guest_event->signal();
    if (host()) host()->on_signal_guest_event(s.id, error_of(ec));
    if (s.expect) check_error(*s.expect, ec);
  }

  void exec(const AdvanceTimeStep& s) {
    machine_.advance_time(s.ticks_100ns);
    if (host()) host()->on_advance_time(s.ticks_100ns);
  }

  static Error error_of(const boost::system::error_code& ec) {
    if (!ec) return Error::ok;
    return ec.category() == error_category() ? static_cast<Error>(ec.value()) : Error::cancelled;
  }

  const Trace& trace_;
  ReplayHooks hooks_;
  ReplayMachine machine_;
  std::map<std::string, Port> ports_;
  ReplayResult result_;
  std::size_t index_ = 0;
  const Step* step_ = nullptr;
};

}  // namespace

ReplayResult replay_trace(const Trace& trace, const ReplayHooks& hooks) {
  Run run(trace);
  run.set_hooks(hooks);
  return run.run();
}

ReplayResult replay_trace(const Trace& trace, const std::function<ReplayHooks(ReplayMachine&)>& make_hooks) {
  Run run(trace);
  run.set_hooks(make_hooks(run.machine()));
  return run.run();
}

std::string format_result(const std::string& name, const ReplayResult& result) {
  if (result.passed()) return "PASS " + name + "\n";
  std::string out = "FAIL " + name + "\n";
  for (const auto& f : result.failures) {
    out += "  step " + std::to_string(f.index) + " (" + f.op + ")";
    if (!f.note.empty()) out += " \"" + f.note + "\"";
    out += ": " + f.what + ": expected " + f.expected + ", observed " + f.observed + "\n";
  }
  return out;
}

std::string format_load_error(const std::string& name, const std::string& reason) {
  return "FAIL " + name + "\n  load error: " + reason + "\n";
}

}  // namespace softsynic::replay
