// TraceRecorder: see trace_recorder.h.
#include "emu/replay/trace_recorder.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <string_view>

#include "emu/replay/replay_machine.h"
#include "emu/replay/trace_writer.h"
#include "synic/defs/hypercall.h"
#include "synic/defs/message.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"

namespace softsynic::replay {
namespace {

constexpr std::size_t kPage = 4096;
// Differences closer than this are written as one `write` step.
constexpr std::size_t kMergeGap = 16;

constexpr std::array<X86Reg, 16> kX86Gprs = {X86Reg::rax, X86Reg::rbx, X86Reg::rcx, X86Reg::rdx,
                                             X86Reg::rsi, X86Reg::rdi, X86Reg::rbp, X86Reg::rsp,
                                             X86Reg::r8,  X86Reg::r9,  X86Reg::r10, X86Reg::r11,
                                             X86Reg::r12, X86Reg::r13, X86Reg::r14, X86Reg::r15};
constexpr unsigned kTraceXmmCount = 6;
constexpr unsigned kTraceArm64XCount = 18;

// A register's value before and after a crossing, by trace name.
struct RegPair {
  std::string name;
  RegValue128 before;
  RegValue128 after;
};

std::vector<RegPair> x86_pairs(const X86Registers& before, const X86Registers& after) {
  std::vector<RegPair> out;
  for (X86Reg r : kX86Gprs) out.push_back({std::string(x86_reg_name(r)), {before.get(r), 0}, {after.get(r), 0}});
  for (unsigned n = 0; n < kTraceXmmCount; ++n) {
    const Uint128 b = before.get_xmm(n);
    const Uint128 a = after.get_xmm(n);
    out.push_back({"xmm" + std::to_string(n), {b.low, b.high}, {a.low, a.high}});
  }
  return out;
}

std::vector<RegPair> arm64_pairs(const Arm64Registers& before, const Arm64Registers& after) {
  std::vector<RegPair> out;
  for (unsigned n = 0; n < kTraceArm64XCount; ++n)
    out.push_back({"x" + std::to_string(n), {before.get_x(n), 0}, {after.get_x(n), 0}});
  return out;
}

// Inputs: every non-zero register (the replay starts each call from zeros).
// Expectations: the result register and every register the call changed.
void fill_hypercall(HypercallStep& s, const std::vector<RegPair>& pairs, std::string_view result_reg,
                    const HypercallOutcome& o) {
  const RegValue128 zero{};
  for (const auto& p : pairs)
    if (!(p.before == zero)) s.regs.push_back({p.name, p.before});
  if (o.action != HypercallAction::completed) return;  // nothing written back
  for (const auto& p : pairs) {
    if (p.name == result_reg) {
      if (o.is_hypercall) s.expect_status = HypercallResult(p.after.low).status();
      s.expect_regs.push_back({p.name, p.after});
    } else if (!(p.before == p.after)) {
      s.expect_regs.push_back({p.name, p.after});
    }
  }
}

}  // namespace

// Forwards to the host's port and tells the recorder what arrived.
class TraceRecorder::MessageTap final : public MessagePort {
 public:
  MessageTap(TraceRecorder& r, std::string id, std::shared_ptr<MessagePort> inner)
      : r_(r), id_(std::move(id)), inner_(std::move(inner)) {}
  bool on_message(const GuestMessage& m) override {
    const bool accepted = inner_->on_message(m);
    std::lock_guard lock(r_.mutex_);
    r_.port_message(id_, m, accepted);
    return accepted;
  }

 private:
  TraceRecorder& r_;
  std::string id_;
  std::shared_ptr<MessagePort> inner_;
};

class TraceRecorder::EventTap final : public EventPort {
 public:
  EventTap(TraceRecorder& r, std::string id, std::shared_ptr<EventPort> inner)
      : r_(r), id_(std::move(id)), inner_(std::move(inner)) {}
  void on_event(const GuestEvent& e) override {
    inner_->on_event(e);
    std::lock_guard lock(r_.mutex_);
    r_.port_event(id_, e.flag);
  }

 private:
  TraceRecorder& r_;
  std::string id_;
  std::shared_ptr<EventPort> inner_;
};

TraceRecorder::TraceRecorder(Machine machine, GuestMemory& memory, std::string description) : memory_(memory) {
  trace_.machine = std::move(machine);
  trace_.description = std::move(description);
}

TraceRecorder::~TraceRecorder() = default;

Trace TraceRecorder::trace() const {
  std::lock_guard lock(mutex_);
  return trace_;
}

std::string TraceRecorder::document() const { return write_trace(trace()); }

bool TraceRecorder::write_file(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << document();
  return static_cast<bool>(out.flush());
}

void TraceRecorder::add(StepOp op) { trace_.steps.push_back(Step{std::move(op), {}}); }

void TraceRecorder::set_time_source(const TimeSource* time) {
  std::lock_guard lock(mutex_);
  time_ = time;
  recorded_time_ = time ? time->now() : 0;
}

// Time that passed since the last step becomes an advance_time step, so the
// replay reaches the next step at the same reference time.
void TraceRecorder::catch_up_time() {
  if (!time_) return;
  const std::uint64_t now = time_->now();
  if (now <= recorded_time_) return;
  add(AdvanceTimeStep{now - recorded_time_});
  recorded_time_ = now;
}

// ---- guest memory ----

void TraceRecorder::sync_memory() {
  std::vector<std::byte> now(kPage);
  for (auto& [gpa, shadow] : shadow_) {
    if (!memory_.read(gpa, now)) continue;
    std::size_t i = 0;
    while (i < kPage) {
      if (now[i] == shadow[i]) {
        ++i;
        continue;
      }
      std::size_t end = i + 1;  // one past the last differing byte
      for (std::size_t j = end; j < kPage && j < end + kMergeGap; ++j)
        if (now[j] != shadow[j]) end = j + 1;
      add(WriteStep{gpa + i, Bytes(now.begin() + static_cast<std::ptrdiff_t>(i), now.begin() + static_cast<std::ptrdiff_t>(end))});
      i = end;
    }
    shadow = now;
  }
}

void TraceRecorder::refresh_pages() {
  // Pages enabled by the crossing just recorded get their first snapshot.
  for (const auto& [key, gpa] : pages_) shadow_.try_emplace(gpa);
  for (auto& [gpa, shadow] : shadow_) {
    shadow.resize(kPage);
    memory_.read(gpa, shadow);
  }
}

void TraceRecorder::refresh_shadow(std::uint64_t gpa, std::size_t len) {
  const std::uint64_t page = gpa & ~std::uint64_t{kPage - 1};
  auto it = shadow_.find(page);
  if (it == shadow_.end() || it->second.size() != kPage) return;
  len = std::min<std::size_t>(len, kPage - (gpa - page));
  memory_.read(gpa, std::span(it->second).subspan(gpa - page, len));
}

void TraceRecorder::capture_input(std::uint64_t control_raw, std::uint64_t gpa) {
  const HypercallControl control(control_raw);
  if (control.fast()) return;
  std::size_t len = 0;
  switch (control.code()) {
    case HvCallCode::post_message: {
      std::array<std::byte, 16> header{};
      if (!memory_.read(gpa, header)) return;
      std::uint32_t size = 0;
      std::memcpy(&size, header.data() + offsetof(PostMessageInput, payload_size), sizeof size);
      len = offsetof(PostMessageInput, payload) + std::min<std::size_t>(size, kMessagePayloadMax);
      break;
    }
    case HvCallCode::signal_event: len = sizeof(SignalEventInput); break;
    case HvCallCode::get_vp_registers: len = sizeof(VpRegistersInputHeader) + 4u * control.rep_count(); break;
    case HvCallCode::set_vp_registers: len = sizeof(VpRegistersInputHeader) + 32u * control.rep_count(); break;
    default: return;  // reads no input
  }
  len = std::min<std::size_t>(len, kPage - (gpa % kPage));
  Bytes bytes(len);
  if (len == 0 || !memory_.read(gpa, bytes)) return;
  add(WriteStep{gpa, std::move(bytes)});
}

// ---- ports ----

void TraceRecorder::port_message(const std::string& id, const GuestMessage& m, bool accepted) {
  PortModel& p = ports_[id];
  if (!accepted) return;  // the replay port reports full on its own when it holds `capacity`
  if (p.queued >= p.capacity && p.capacity > 0) {
    // The live consumer made room the trace has not seen: take one.
    add(TakePortMessageStep{id, 1});
    --p.queued;
  }
  ++p.queued;
  p.unchecked.push_back(PortMessage{m.message_type, Bytes(m.payload.begin(), m.payload.end())});
}

void TraceRecorder::port_event(const std::string& id, std::uint16_t flag) { ports_[id].unchecked_flags.push_back(flag); }

void TraceRecorder::flush_ports() {
  for (auto& [id, p] : ports_) {
    if (!p.unchecked.empty()) add(ExpectPortMessagesStep{id, std::exchange(p.unchecked, {})});
    if (!p.unchecked_flags.empty()) add(ExpectPortEventsStep{id, std::exchange(p.unchecked_flags, {})});
  }
}

std::shared_ptr<MessagePort> TraceRecorder::wrap_message_port(const std::string& id, std::shared_ptr<MessagePort> port) {
  return std::make_shared<MessageTap>(*this, id, std::move(port));
}

std::shared_ptr<EventPort> TraceRecorder::wrap_event_port(const std::string& id, std::shared_ptr<EventPort> port) {
  return std::make_shared<EventTap>(*this, id, std::move(port));
}

// ---- GuestCpuObserver ----

void TraceRecorder::before_crossing(std::uint32_t, Vtl) {
  std::lock_guard lock(mutex_);
  sync_memory();
  catch_up_time();
}

void TraceRecorder::before_host_call() {
  std::lock_guard lock(mutex_);
  sync_memory();
  catch_up_time();
}

void TraceRecorder::on_wrmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) {
  std::lock_guard lock(mutex_);
  add(WrmsrStep{vp, vtl, msr, value, result != MsrResult::ok});
  refresh_pages();
}

void TraceRecorder::on_rdmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) {
  std::lock_guard lock(mutex_);
  const bool gp = result != MsrResult::ok;
  add(RdmsrStep{vp, vtl, msr, gp, gp ? 0 : value});
  refresh_pages();
}

void TraceRecorder::on_x86_hypercall(std::uint32_t vp, Vtl vtl, const X86Registers& before, const X86Registers& after,
                                     const HypercallOutcome& outcome) {
  std::lock_guard lock(mutex_);
  const bool long_mode = before.long_mode();
  const auto low32 = [&](X86Reg r) { return before.get(r) & 0xFFFFFFFF; };
  const std::uint64_t control = long_mode ? before.get(X86Reg::rcx) : (low32(X86Reg::rdx) << 32 | low32(X86Reg::rax));
  const std::uint64_t input = long_mode ? before.get(X86Reg::rdx) : (low32(X86Reg::rbx) << 32 | low32(X86Reg::rcx));
  capture_input(control, input);
  HypercallStep s;
  s.vp = vp;
  s.vtl = vtl;
  s.long_mode = long_mode;
  fill_hypercall(s, x86_pairs(before, after), "rax", outcome);
  add(std::move(s));
  flush_ports();
  refresh_pages();
}

void TraceRecorder::on_arm64_hvc(std::uint32_t vp, Vtl vtl, std::uint16_t imm, const Arm64Registers& before,
                                 const Arm64Registers& after, const HypercallOutcome& outcome) {
  std::lock_guard lock(mutex_);
  // HVC #1: X0 control, X1 input; SMCCC HVC #0: X1 control, X2 input.
  if (imm == 1) {
    capture_input(before.get_x(0), before.get_x(1));
  } else if (imm == 0 && outcome.is_hypercall) {
    capture_input(before.get_x(1), before.get_x(2));
  }
  HypercallStep s;
  s.vp = vp;
  s.vtl = vtl;
  s.regs.push_back({"imm", {imm, 0}});
  fill_hypercall(s, arm64_pairs(before, after), "x0", outcome);
  add(std::move(s));
  flush_ports();
  refresh_pages();
}

void TraceRecorder::on_interrupt_taken(std::uint32_t vp, Vtl vtl, std::uint32_t vector) {
  std::lock_guard lock(mutex_);
  add(ExpectInterruptStep{vp, vtl, vector});
  refresh_pages();
}

void TraceRecorder::on_eoi(std::uint32_t vp, Vtl vtl) {
  std::lock_guard lock(mutex_);
  add(EoiStep{vp, vtl});
  refresh_pages();
}

// ---- SynicObserver ----

void TraceRecorder::on_synic_event(const SynicEvent& e) {
  std::lock_guard lock(mutex_);
  const auto page = [&](bool siefp) -> std::optional<std::uint64_t> {
    auto it = pages_.find(PageKey{e.vp, e.vtl, siefp});
    if (it == pages_.end()) return std::nullopt;
    return it->second;
  };
  switch (e.kind) {
    case SynicEventKind::host_post_queued:
    case SynicEventKind::host_post_rejected:
      // The replay's synthetic timers post their expiries themselves.
      if (e.message_type == static_cast<std::uint32_t>(HvMessageType::timer_expired)) break;
      add(PostMessageStep{e.vtl, e.vp, e.sint, e.message_type, Bytes(e.payload.begin(), e.payload.end()),
                          static_cast<Error>(e.error)});
      break;
    case SynicEventKind::message_delivered:
    case SynicEventKind::message_pending_set:
      if (auto simp = page(false)) refresh_shadow(*simp + e.sint * kMessageSize, kMessageSize);
      break;
    case SynicEventKind::event_flag_set:
      if (auto siefp = page(true)) refresh_shadow(*siefp + e.sint * kEventFlagsSlotSize + (e.flag / 64u) * 8u, 8);
      break;
    case SynicEventKind::register_write: {
      const auto reg = static_cast<HvRegisterName>(e.reg);
      if (reg != HvRegisterName::simp && reg != HvRegisterName::siefp) break;
      const PageReg value(e.value);
      const PageKey key{e.vp, e.vtl, reg == HvRegisterName::siefp};
      if (value.enabled()) {
        pages_[key] = value.gpa();  // snapshot taken once the crossing is recorded
      } else {
        pages_.erase(key);
      }
      // Forget pages no register points at any more.
      std::erase_if(shadow_, [&](const auto& entry) {
        return std::none_of(pages_.begin(), pages_.end(), [&](const auto& p) { return p.second == entry.first; });
      });
      break;
    }
    default:
      break;  // interrupts, EOMs and guest calls are recorded from the CPU side
  }
}

// ---- HostPortObserver ----

void TraceRecorder::on_add_message_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl,
                                        std::uint32_t capacity, Error result) {
  std::lock_guard lock(mutex_);
  add(AddMessagePortStep{id, connection_id, minimum_vtl, capacity, result});
  ports_[id] = PortModel{capacity, 0, {}, {}, true};
}

void TraceRecorder::on_add_event_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl,
                                      Error result) {
  std::lock_guard lock(mutex_);
  add(AddEventPortStep{id, connection_id, minimum_vtl, result});
  ports_[id] = PortModel{0, 0, {}, {}, false};
}

void TraceRecorder::on_remove_port(const std::string& id) {
  std::lock_guard lock(mutex_);
  add(RemovePortStep{id});
}

void TraceRecorder::on_take_port_message(const std::string& id, std::uint32_t count) {
  std::lock_guard lock(mutex_);
  PortModel& p = ports_[id];
  count = std::min(count, p.queued);
  if (count == 0) return;
  p.queued -= count;
  add(TakePortMessageStep{id, count});
}

void TraceRecorder::on_new_guest_event_port(const std::string& id, Vtl vtl, std::uint32_t vp, std::uint8_t sint,
                                            std::uint16_t flag, Error result) {
  std::lock_guard lock(mutex_);
  add(NewGuestEventPortStep{id, vtl, vp, sint, flag, result});
}

void TraceRecorder::on_signal_guest_event(const std::string& id, Error result) {
  std::lock_guard lock(mutex_);
  add(SignalGuestEventStep{id, result});
}

void TraceRecorder::on_advance_time(std::uint64_t ticks_100ns) {
  std::lock_guard lock(mutex_);
  add(AdvanceTimeStep{ticks_100ns});
  if (time_) {
    recorded_time_ = time_->now();
  } else {
    recorded_time_ = ticks_100ns > ~recorded_time_ ? ~std::uint64_t{0} : recorded_time_ + ticks_100ns;
  }
}

RecordedReplay record_replay(const Trace& trace, std::string description) {
  std::unique_ptr<TraceRecorder> recorder;
  RecordedReplay out;
  out.result = replay_trace(trace, [&](ReplayMachine& machine) {
    recorder = std::make_unique<TraceRecorder>(trace.machine, machine.memory(), std::move(description));
    recorder->set_time_source(&machine.clock());
    ReplayHooks hooks;
    hooks.cpu = recorder.get();
    hooks.synic = recorder.get();
    hooks.host = recorder.get();
    return hooks;
  });
  out.recording = recorder->trace();
  return out;
}

}  // namespace softsynic::replay
