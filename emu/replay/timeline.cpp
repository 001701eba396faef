// Timeline export: see timeline.h.
#include "emu/replay/timeline.h"

#include <nlohmann/json.hpp>

#include "cpu_hooks/arm64_hypervisor.h"
#include "emu/replay/replay_machine.h"
#include "emu/replay/replayer.h"
#include "emu/replay/trace_values.h"
#include "emu/replay/vmbus_message_names.h"
#include "synic/defs/hypercall.h"
#include "synic/defs/message.h"
#include "synic/defs/registers.h"

namespace softsynic::replay {
namespace {

using Json = nlohmann::ordered_json;
using Args = std::vector<std::pair<std::string, std::string>>;

constexpr int kGuestPid = 1;
constexpr int kHostPid = 2;
constexpr int kHostCallsTid = 1;

std::string call_name(std::uint64_t control) {
  switch (HypercallControl(control).code()) {
    case HvCallCode::get_vp_registers: return "HvGetVpRegisters";
    case HvCallCode::set_vp_registers: return "HvSetVpRegisters";
    case HvCallCode::post_message: return "HvPostMessage";
    case HvCallCode::signal_event: return "HvSignalEvent";
    default: return "hypercall " + hex(control & 0xFFFF);
  }
}

std::string message_label(std::uint32_t type, std::span<const std::byte> payload) {
  if (auto name = vmbus_message_name(type, payload)) return "VMBus " + std::string(*name);
  if (type == static_cast<std::uint32_t>(HvMessageType::timer_expired) && !payload.empty())
    return "TimerExpired STIMER" + std::to_string(std::to_integer<unsigned>(payload[0]));
  return "type " + hex(type);
}

std::string msr_label(std::uint32_t msr) {
  const auto name = msr_name(msr);
  return name.empty() ? hex(msr) : std::string(name);
}

std::string status_label(HvStatus s) {
  const auto name = status_name(s);
  return name.empty() ? hex(static_cast<std::uint16_t>(s)) : std::string(name);
}

std::string outcome_status(const HypercallOutcome& o) {
  if (o.action == HypercallAction::invalid_opcode) return "#UD";
  if (o.action == HypercallAction::not_mine) return "not_mine";
  return o.is_hypercall ? status_label(o.status) : "SMCCC service";
}

}  // namespace

struct TimelineBuilder::Event {
  Json j;
};

TimelineBuilder::TimelineBuilder(const Machine& machine, const TimeSource* time) : machine_(machine), time_(time) {}
TimelineBuilder::~TimelineBuilder() = default;

int TimelineBuilder::vp_tid(std::uint32_t vp, Vtl vtl) const {
  return static_cast<int>(vp * kMaxVtlCount + vtl + 1);
}

int TimelineBuilder::port_tid(const std::string& id) {
  auto [it, added] = port_tids_.try_emplace(id, static_cast<int>(port_tids_.size()) + 2);
  return it->second;
}

std::string TimelineBuilder::now_text() const { return time_ ? std::to_string(time_->now()) : "0"; }

void TimelineBuilder::slice(int pid, int tid, std::string name, std::uint64_t start, Args args) {
  Json a = Json::object();
  a["step"] = step_;
  a["ref_time_100ns"] = now_text();
  for (auto& [k, v] : args) a[k] = v;
  const std::uint64_t end = ts_ + 2;  // room for a readable label
  events_.push_back(std::make_unique<Event>(Event{Json{{"name", std::move(name)}, {"ph", "X"}, {"pid", pid},
                                                      {"tid", tid}, {"ts", start}, {"dur", end - start},
                                                      {"args", std::move(a)}}}));
  ts_ = end;
}

void TimelineBuilder::flow(char phase, std::uint64_t id, int pid, int tid, std::uint64_t ts) {
  Json j{{"name", "message"}, {"cat", "flow"}, {"ph", std::string(1, phase)}, {"id", id},
         {"pid", pid},        {"tid", tid},    {"ts", ts}};
  if (phase != 's') j["bp"] = "e";
  events_.push_back(std::make_unique<Event>(Event{std::move(j)}));
}

void TimelineBuilder::begin_step(std::size_t index) {
  std::lock_guard lock(mutex_);
  step_ = index;
  ts_ += 2;
}

void TimelineBuilder::before_crossing(std::uint32_t vp, Vtl vtl) {
  std::lock_guard lock(mutex_);
  crossing_start_[{vp, vtl}] = ts_++;
}

void TimelineBuilder::crossing(std::uint32_t vp, Vtl vtl, std::string name, Args args) {
  auto it = crossing_start_.find({vp, vtl});
  const std::uint64_t start = it == crossing_start_.end() ? ts_ : it->second;
  if (it != crossing_start_.end()) crossing_start_.erase(it);
  slice(kGuestPid, vp_tid(vp, vtl), std::move(name), start, std::move(args));
}

void TimelineBuilder::on_wrmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) {
  std::lock_guard lock(mutex_);
  crossing(vp, vtl, "WRMSR " + msr_label(msr), {{"value", hex(value)}, {"result", result == MsrResult::ok ? "ok" : "#GP"}});
}

void TimelineBuilder::on_rdmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) {
  std::lock_guard lock(mutex_);
  crossing(vp, vtl, "RDMSR " + msr_label(msr), {{"value", hex(value)}, {"result", result == MsrResult::ok ? "ok" : "#GP"}});
}

void TimelineBuilder::on_x86_hypercall(std::uint32_t vp, Vtl vtl, const X86Registers& before, const X86Registers&,
                                       const HypercallOutcome& outcome) {
  std::lock_guard lock(mutex_);
  const std::uint64_t control = before.long_mode() ? before.get(X86Reg::rcx) : before.get(X86Reg::rax);
  crossing(vp, vtl, call_name(control), {{"status", outcome_status(outcome)}, {"control", hex(control)}});
}

void TimelineBuilder::on_arm64_hvc(std::uint32_t vp, Vtl vtl, std::uint16_t imm, const Arm64Registers& before,
                                   const Arm64Registers&, const HypercallOutcome& outcome) {
  std::lock_guard lock(mutex_);
  std::string name = "HVC #" + std::to_string(imm);
  std::uint64_t control = 0;
  if (imm == kHvcImmHyperV) {
    control = before.get_x(0);
    name = call_name(control);
  } else if (imm == kHvcImmSmccc && before.get_x(0) == smccc::kHvHypercall) {
    control = before.get_x(1);
    name = call_name(control);
  } else if (imm == kHvcImmSmccc) {
    name = "SMCCC " + hex(before.get_x(0));
  }
  crossing(vp, vtl, std::move(name), {{"status", outcome_status(outcome)}, {"control", hex(control)}});
}

void TimelineBuilder::on_interrupt_taken(std::uint32_t vp, Vtl vtl, std::uint32_t vector) {
  std::lock_guard lock(mutex_);
  crossing(vp, vtl, "interrupt " + hex(vector), {});
}

void TimelineBuilder::on_eoi(std::uint32_t vp, Vtl vtl) {
  std::lock_guard lock(mutex_);
  crossing(vp, vtl, "EOI", {});
}

void TimelineBuilder::on_synic_event(const SynicEvent& e) {
  std::lock_guard lock(mutex_);
  const int vp_track = vp_tid(e.vp, e.vtl);
  const std::string sint = "SINT" + std::to_string(e.sint);
  switch (e.kind) {
    case SynicEventKind::host_post_queued: {
      const std::uint64_t id = next_flow_++;
      const std::uint64_t at = ts_;
      slice(kHostPid, kHostCallsTid, "post " + message_label(e.message_type, e.payload), at,
            {{"target", "VP " + std::to_string(e.vp) + " " + sint}, {"result", "ok"}});
      flow('s', id, kHostPid, kHostCallsTid, at);
      queued_flows_[{e.vtl, e.vp, e.sint}].push_back(id);
      break;
    }
    case SynicEventKind::host_post_rejected:
      slice(kHostPid, kHostCallsTid, "post " + message_label(e.message_type, e.payload), ts_,
            {{"target", "VP " + std::to_string(e.vp) + " " + sint},
             {"result", std::string(error_name(static_cast<Error>(e.error)))}});
      break;
    case SynicEventKind::message_delivered: {
      const std::uint64_t at = ts_;
      slice(kGuestPid, vp_track, "deliver " + sint + " " + message_label(e.message_type, e.payload), at, {});
      auto& queue = queued_flows_[{e.vtl, e.vp, e.sint}];
      if (!queue.empty()) {
        const std::uint64_t id = queue.front();
        queue.erase(queue.begin());
        flow('t', id, kGuestPid, vp_track, at);
        delivered_flows_[{e.vtl, e.vp}].push_back(id);
      }
      break;
    }
    case SynicEventKind::message_pending_set:
      slice(kGuestPid, vp_track, "slot busy " + sint + ": message_pending", ts_, {});
      break;
    case SynicEventKind::eom: {
      const std::uint64_t at = ts_;
      slice(kGuestPid, vp_track, "EOM", at, {});
      for (std::uint64_t id : std::exchange(delivered_flows_[{e.vtl, e.vp}], {})) flow('f', id, kGuestPid, vp_track, at);
      break;
    }
    case SynicEventKind::event_flag_set:
      slice(kGuestPid, vp_track, "event flag " + std::to_string(e.flag) + " " + sint, ts_,
            {{"interrupt", e.raised ? "yes" : "no"}});
      break;
    case SynicEventKind::guest_post_message:
    case SynicEventKind::guest_signal_event: {
      if (e.status != HvStatus::success) break;
      // Ports registered past the recorder (a VMBus host on the partition)
      // get a track per connection, so their messages still show by name.
      auto port = port_by_connection_.find(e.connection_id);
      const std::string port_id = port != port_by_connection_.end() ? port->second : "connection " + hex(e.connection_id);
      const std::uint64_t id = next_flow_++;
      flow('s', id, kGuestPid, vp_track, ts_);
      const int tid = port_tid(port_id);
      const std::string name = e.kind == SynicEventKind::guest_post_message
                                   ? "message " + message_label(e.message_type, e.payload)
                                   : "event flag " + std::to_string(e.flag);
      const std::uint64_t at = ts_;
      slice(kHostPid, tid, name, at, {{"from", "VP " + std::to_string(e.vp)}});
      flow('f', id, kHostPid, tid, at);
      break;
    }
    default:
      break;  // interrupt requests and register writes show through the crossings
  }
}

void TimelineBuilder::on_add_message_port(const std::string& id, std::uint32_t connection_id, Vtl, std::uint32_t,
                                          Error result) {
  std::lock_guard lock(mutex_);
  if (result == Error::ok) port_by_connection_[connection_id] = id;
  slice(kHostPid, port_tid(id), "add message port " + hex(connection_id), ts_,
        {{"result", std::string(error_name(result))}});
}

void TimelineBuilder::on_add_event_port(const std::string& id, std::uint32_t connection_id, Vtl, Error result) {
  std::lock_guard lock(mutex_);
  if (result == Error::ok) port_by_connection_[connection_id] = id;
  slice(kHostPid, port_tid(id), "add event port " + hex(connection_id), ts_,
        {{"result", std::string(error_name(result))}});
}

void TimelineBuilder::on_remove_port(const std::string& id) {
  std::lock_guard lock(mutex_);
  std::erase_if(port_by_connection_, [&](const auto& p) { return p.second == id; });
  slice(kHostPid, port_tid(id), "remove port", ts_, {});
}

void TimelineBuilder::on_take_port_message(const std::string& id, std::uint32_t count) {
  std::lock_guard lock(mutex_);
  slice(kHostPid, port_tid(id), "consumer takes " + std::to_string(count), ts_, {});
}

void TimelineBuilder::on_new_guest_event_port(const std::string& id, Vtl, std::uint32_t vp, std::uint8_t sint,
                                              std::uint16_t flag, Error result) {
  std::lock_guard lock(mutex_);
  slice(kHostPid, kHostCallsTid, "new guest event port " + id, ts_,
        {{"target", "VP " + std::to_string(vp) + " SINT" + std::to_string(sint) + " flag " + std::to_string(flag)},
         {"result", std::string(error_name(result))}});
}

void TimelineBuilder::on_signal_guest_event(const std::string& id, Error result) {
  std::lock_guard lock(mutex_);
  slice(kHostPid, kHostCallsTid, "signal " + id, ts_, {{"result", std::string(error_name(result))}});
}

void TimelineBuilder::on_advance_time(std::uint64_t ticks_100ns) {
  std::lock_guard lock(mutex_);
  slice(kHostPid, kHostCallsTid, "advance time", ts_, {{"ticks_100ns", std::to_string(ticks_100ns)}});
}

std::string TimelineBuilder::json() const {
  std::lock_guard lock(mutex_);
  Json events = Json::array();
  const auto meta = [&](int pid, int tid, const char* what, const std::string& name) {
    Json j{{"name", what}, {"ph", "M"}, {"pid", pid}};
    if (tid) j["tid"] = tid;
    j["args"] = Json{{"name", name}};
    events.push_back(std::move(j));
  };
  meta(kGuestPid, 0, "process_name", "guest");
  meta(kHostPid, 0, "process_name", "host");
  for (std::uint32_t vp = 0; vp < machine_.vp_count; ++vp)
    for (Vtl vtl = 0; vtl < machine_.vtl_count; ++vtl)
      meta(kGuestPid, vp_tid(vp, vtl), "thread_name",
           "VP " + std::to_string(vp) + (machine_.vtl_count > 1 ? " VTL " + std::to_string(vtl) : ""));
  meta(kHostPid, kHostCallsTid, "thread_name", "host calls");
  for (const auto& [id, tid] : port_tids_) meta(kHostPid, tid, "thread_name", "port " + id);
  for (const auto& e : events_) events.push_back(e->j);
  Json doc{{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"},
           {"otherData", Json{{"producer", "softsynic"}, {"time", "logical microseconds"}}}};
  return doc.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string timeline_of(const Trace& trace) {
  std::unique_ptr<TimelineBuilder> builder;
  replay_trace(trace, [&](ReplayMachine& machine) {
    builder = std::make_unique<TimelineBuilder>(trace.machine, &machine.clock());
    ReplayHooks hooks;
    hooks.cpu = builder.get();
    hooks.synic = builder.get();
    hooks.host = builder.get();
    hooks.before_step = [&](std::size_t index, const Step&) { builder->begin_step(index); };
    return hooks;
  });
  return builder->json();
}

}  // namespace softsynic::replay
