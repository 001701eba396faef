#include "emu/gdb/session.h"

#include <algorithm>
#include <cstdio>
#include <type_traits>
#include <utility>

#include "emu/gdb/hex.h"

namespace softsynic::gdb {
namespace {

constexpr std::string_view kError = "E01";
constexpr std::size_t kMaxWaiting = 64;
constexpr std::uint64_t kMaxMonitorDump = 4096;

std::size_t register_bytes(const RegisterInfo& r) { return (r.bits + 7) / 8; }

// Packets that touch guest state: they wait while the guest runs.
bool needs_stopped(const Request& r) {
  return !std::holds_alternative<QuerySupported>(r) && !std::holds_alternative<StartNoAckMode>(r) &&
         !std::holds_alternative<ReadFeatures>(r) && !std::holds_alternative<ThreadInfoFirst>(r) &&
         !std::holds_alternative<ThreadInfoNext>(r) && !std::holds_alternative<Attached>(r) &&
         !std::holds_alternative<ResumeQuery>(r) && !std::holds_alternative<Unsupported>(r) &&
         !std::holds_alternative<Malformed>(r) && !std::holds_alternative<Kill>(r) &&
         !std::holds_alternative<CurrentThread>(r);
}

std::string hex_dump(std::uint64_t address, std::span<const std::byte> bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 16) {
    char line[32];
    std::snprintf(line, sizeof line, "%016llx:", static_cast<unsigned long long>(address + i));
    out += line;
    for (std::size_t j = i; j < std::min(bytes.size(), i + 16); ++j) out += " " + to_hex(bytes.subspan(j, 1));
    out += "\n";
  }
  return out;
}

constexpr std::string_view kMonitorHelp =
    "softsynic gdb stub monitor commands:\n"
    "  help                        this text\n"
    "  phys ADDR [LEN]             dump LEN (default 64, at most 4096) bytes of guest-physical memory\n"
    "  memory virtual|physical     what addresses gdb's memory accesses mean (default virtual)\n";

}  // namespace

GdbSession::GdbSession(GdbTarget& target) : target_(target), description_(target_description(target.arch())) {}

void GdbSession::connect(Send send) {
  send_ = std::move(send);
  reader_ = PacketReader();
  no_ack_ = false;
  gdb_swbreak_ = false;
  last_reply_.clear();
  waiting_.clear();
  reply_owed_ = false;
  memory_space_ = AddressSpace::virtual_address;
  if (state_ == State::running) request_stop();
}

void GdbSession::disconnect() {
  send_ = nullptr;
  waiting_.clear();
  reply_owed_ = false;
  if (state_ == State::stopped) release();
  // Running: the next stop (a breakpoint, or a stop requested at attach)
  // finds no debugger and releases the guest then.
}

void GdbSession::request_stop() {
  if (stop_requested_) return;
  stop_requested_ = true;
  target_.stop_all();
}

void GdbSession::release() {
  for (const auto& [type, address, length] : breakpoints_) target_.remove_breakpoint(type, address, length);
  breakpoints_.clear();
  if (state_ != State::stopped) return;
  std::vector<ResumeAction> all(target_.vp_count(), ResumeAction::run);
  state_ = State::running;
  target_.resume(all);
}

void GdbSession::on_stop(const StopEvent& event) {
  if (state_ == State::exited) return;
  stop_requested_ = false;
  state_ = event.reason == StopEvent::Reason::exited ? State::exited : State::stopped;
  last_stop_ = event;
  if (!connected()) {
    release();
    return;
  }
  selected_g_ = selected_c_ = static_cast<ThreadId>(event.vp) + 1;
  if (reply_owed_) {
    reply_owed_ = false;
    reply(stop_reply());
  }
  while (!waiting_.empty() && state_ != State::running && connected()) {
    std::string payload = std::move(waiting_.front());
    waiting_.pop_front();
    handle(payload);
  }
}

void GdbSession::receive(std::string_view bytes) {
  std::vector<PacketEvent> events;
  reader_.feed(bytes, events);
  for (auto& e : events) {
    if (!connected()) return;
    switch (e.kind) {
      case PacketEvent::Kind::packet:
        if (!no_ack_) send_("+");
        handle(e.payload);
        break;
      case PacketEvent::Kind::bad_checksum:
        if (!no_ack_) send_("-");
        break;
      case PacketEvent::Kind::oversized:
        if (!no_ack_) send_("+");
        reply(kError);
        break;
      case PacketEvent::Kind::interrupt:
        if (state_ == State::running) request_stop();
        break;
      case PacketEvent::Kind::nak:
        if (!last_reply_.empty()) send_(last_reply_);
        break;
      case PacketEvent::Kind::ack:
        break;
    }
  }
}

void GdbSession::reply(std::string_view payload) {
  if (!connected()) return;
  last_reply_ = frame(payload);
  send_(last_reply_);
}

void GdbSession::handle(std::string_view payload) {
  Request request = parse_request(payload);
  if (state_ == State::running && needs_stopped(request)) {
    if (waiting_.size() >= kMaxWaiting) {
      reply(kError);
    } else {
      if (std::holds_alternative<StopQuery>(request) && waiting_.empty()) request_stop();
      waiting_.emplace_back(payload);
    }
    return;
  }
  if (state_ == State::exited && needs_stopped(request) && !std::holds_alternative<StopQuery>(request) &&
      !std::holds_alternative<Detach>(request)) {
    reply(kError);
    return;
  }
  std::string answer_text = answer(request);
  if (std::holds_alternative<StartNoAckMode>(request)) {
    reply(answer_text);  // acknowledged in the old mode, then none
    no_ack_ = true;
    return;
  }
  if (std::holds_alternative<Resume>(request) && answer_text.empty()) return;  // the stop replies later
  if (std::holds_alternative<Kill>(request)) return;                           // no reply to k
  reply(answer_text);
}

std::string GdbSession::answer(const Request& request) {
  return std::visit(
      [&](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, QuerySupported>) {
          gdb_swbreak_ = r.features.find("swbreak+") != std::string::npos;
          return "PacketSize=" + hex_number(kMaxPacketSize) +
                 ";qXfer:features:read+;QStartNoAckMode+;vContSupported+;swbreak+;hwbreak+";
        } else if constexpr (std::is_same_v<T, StartNoAckMode>) {
          return "OK";
        } else if constexpr (std::is_same_v<T, ReadFeatures>) {
          return read_features(r);
        } else if constexpr (std::is_same_v<T, ThreadInfoFirst>) {
          std::string out = "m";
          for (std::uint32_t vp = 0; vp < target_.vp_count(); ++vp) {
            if (vp != 0) out += ',';
            out += hex_number(vp + 1);
          }
          return out;
        } else if constexpr (std::is_same_v<T, ThreadInfoNext>) {
          return "l";
        } else if constexpr (std::is_same_v<T, CurrentThread>) {
          return "QC" + hex_number(vp_of(selected_g_, last_stop_.vp) + 1);
        } else if constexpr (std::is_same_v<T, Attached>) {
          return "1";
        } else if constexpr (std::is_same_v<T, SetThread>) {
          return set_thread(r);
        } else if constexpr (std::is_same_v<T, ThreadAlive>) {
          return r.thread > 0 && thread_exists(r.thread) ? "OK" : std::string(kError);
        } else if constexpr (std::is_same_v<T, ReadRegisters>) {
          return read_registers();
        } else if constexpr (std::is_same_v<T, WriteRegisters>) {
          return write_registers(r);
        } else if constexpr (std::is_same_v<T, ReadRegister>) {
          return read_register(r);
        } else if constexpr (std::is_same_v<T, WriteRegister>) {
          return write_register(r);
        } else if constexpr (std::is_same_v<T, ReadMemory>) {
          return read_memory(r);
        } else if constexpr (std::is_same_v<T, WriteMemory>) {
          return write_memory(r);
        } else if constexpr (std::is_same_v<T, Breakpoint>) {
          return breakpoint(r);
        } else if constexpr (std::is_same_v<T, ResumeQuery>) {
          return "vCont;c;C;s;S;t";
        } else if constexpr (std::is_same_v<T, Resume>) {
          return resume(r);
        } else if constexpr (std::is_same_v<T, StopQuery>) {
          return stop_reply();
        } else if constexpr (std::is_same_v<T, Kill>) {
          state_ = State::running;
          reply_owed_ = false;
          target_.kill();
          return "";
        } else if constexpr (std::is_same_v<T, Detach>) {
          release();
          return "OK";
        } else if constexpr (std::is_same_v<T, Monitor>) {
          return monitor(r);
        } else if constexpr (std::is_same_v<T, Malformed>) {
          return std::string(kError);
        } else {
          static_assert(std::is_same_v<T, Unsupported>);
          return "";
        }
      },
      request);
}

std::string GdbSession::stop_reply() const {
  const StopEvent& e = last_stop_;
  if (e.reason == StopEvent::Reason::exited) {
    return "W" + std::string(e.exit_code < 0x10 ? "0" : "") + hex_number(e.exit_code);
  }
  std::string out = e.reason == StopEvent::Reason::interrupted ? "T02" : "T05";
  switch (e.reason) {
    case StopEvent::Reason::breakpoint:
      if (gdb_swbreak_) out += "swbreak:;";
      break;
    case StopEvent::Reason::watchpoint:
      out += e.watch == BreakpointType::read_watch     ? "rwatch:"
             : e.watch == BreakpointType::access_watch ? "awatch:"
                                                       : "watch:";
      out += hex_number(e.address) + ";";
      break;
    default:
      break;
  }
  return out + "thread:" + hex_number(e.vp + 1) + ";";
}

bool GdbSession::thread_exists(ThreadId thread) const {
  return thread == kAllThreads || thread == kAnyThread ||
         (thread > 0 && thread <= static_cast<ThreadId>(target_.vp_count()));
}

std::uint32_t GdbSession::vp_of(ThreadId thread, std::uint32_t fallback) const {
  return thread > 0 && thread_exists(thread) ? static_cast<std::uint32_t>(thread - 1) : fallback;
}

std::string GdbSession::set_thread(const SetThread& r) {
  if (!thread_exists(r.thread)) return std::string(kError);
  (r.operation == 'g' ? selected_g_ : selected_c_) = r.thread;
  return "OK";
}

std::string GdbSession::resume(const Resume& r) {
  const std::uint32_t count = target_.vp_count();
  std::vector<ResumeAction> actions(count, ResumeAction::stay_stopped);
  bool any = false;
  for (std::uint32_t vp = 0; vp < count; ++vp) {
    for (const ResumeStep& step : r.steps) {
      ThreadId applies = step.thread;
      if (r.uses_selected_thread && step.action == 's') applies = vp_of(selected_c_, last_stop_.vp) + 1;
      if (applies != kAllThreads && applies != kAnyThread && applies != static_cast<ThreadId>(vp) + 1) continue;
      actions[vp] = step.action == 'c' ? ResumeAction::run
                    : step.action == 's' ? ResumeAction::step
                                         : ResumeAction::stay_stopped;
      break;
    }
    any = any || actions[vp] != ResumeAction::stay_stopped;
  }
  if (!any) return std::string(kError);
  if (r.address) {
    const std::uint32_t vp = vp_of(selected_c_, last_stop_.vp);
    std::vector<std::byte> pc(register_bytes(description_.registers[description_.pc_regno]));
    for (std::size_t i = 0; i < pc.size() && i < 8; ++i) pc[i] = static_cast<std::byte>(*r.address >> (8 * i));
    if (!target_.write_register(vp, description_.pc_regno, pc)) return std::string(kError);
  }
  state_ = State::running;
  reply_owed_ = true;
  target_.resume(actions);
  return "";
}

std::string GdbSession::read_registers() {
  const std::uint32_t vp = vp_of(selected_g_, last_stop_.vp);
  std::string out;
  std::vector<std::byte> value;
  for (unsigned n = 0; n < description_.registers.size(); ++n) {
    value.assign(register_bytes(description_.registers[n]), std::byte{0});
    if (target_.read_register(vp, n, value)) {
      out += to_hex(value);
    } else {
      out.append(value.size() * 2, 'x');
    }
  }
  return out;
}

std::string GdbSession::write_registers(const WriteRegisters& r) {
  const std::uint32_t vp = vp_of(selected_g_, last_stop_.vp);
  std::size_t offset = 0;
  // Registers the target cannot write (reported unavailable) are skipped:
  // gdb sends every register back.
  for (unsigned n = 0; n < description_.registers.size() && offset < r.bytes.size(); ++n) {
    const std::size_t size = register_bytes(description_.registers[n]);
    if (offset + size > r.bytes.size()) return std::string(kError);
    target_.write_register(vp, n, std::span(r.bytes).subspan(offset, size));
    offset += size;
  }
  return "OK";
}

std::string GdbSession::read_register(const ReadRegister& r) {
  if (r.regno >= description_.registers.size()) return std::string(kError);
  std::vector<std::byte> value(register_bytes(description_.registers[r.regno]));
  if (!target_.read_register(vp_of(selected_g_, last_stop_.vp), r.regno, value)) {
    return std::string(value.size() * 2, 'x');
  }
  return to_hex(value);
}

std::string GdbSession::write_register(const WriteRegister& r) {
  if (r.regno >= description_.registers.size() ||
      r.bytes.size() != register_bytes(description_.registers[r.regno])) {
    return std::string(kError);
  }
  return target_.write_register(vp_of(selected_g_, last_stop_.vp), r.regno, r.bytes) ? "OK" : std::string(kError);
}

std::string GdbSession::read_memory(const ReadMemory& r) {
  const std::uint64_t length = std::min<std::uint64_t>(r.length, kMaxPacketSize / 2);
  std::vector<std::byte> bytes(length);
  const std::size_t got = target_.read_memory(vp_of(selected_g_, last_stop_.vp), memory_space_, r.address, bytes);
  if (got == 0 && length != 0) return std::string(kError);
  return to_hex(std::span(bytes).first(std::min(got, bytes.size())));
}

std::string GdbSession::write_memory(const WriteMemory& r) {
  if (r.bytes.empty()) return "OK";
  const std::size_t put = target_.write_memory(vp_of(selected_g_, last_stop_.vp), memory_space_, r.address, r.bytes);
  return put == r.bytes.size() ? "OK" : std::string(kError);
}

std::string GdbSession::breakpoint(const Breakpoint& r) {
  const auto key = std::tuple(r.type, r.address, r.kind);
  const BreakpointResult result = r.insert ? target_.insert_breakpoint(r.type, r.address, r.kind)
                                           : target_.remove_breakpoint(r.type, r.address, r.kind);
  if (result == BreakpointResult::unsupported) return "";
  if (result == BreakpointResult::failed) return std::string(kError);
  if (r.insert) {
    breakpoints_.push_back(key);
  } else if (auto it = std::find(breakpoints_.begin(), breakpoints_.end(), key); it != breakpoints_.end()) {
    breakpoints_.erase(it);
  }
  return "OK";
}

std::string GdbSession::read_features(const ReadFeatures& r) const {
  if (r.annex != "target.xml") return "E00";
  const std::string& xml = description_.xml;
  if (r.offset >= xml.size()) return "l";
  const std::uint64_t length = std::min<std::uint64_t>(r.length, kMaxPacketSize / 2);
  const std::string chunk = xml.substr(r.offset, length);
  return (r.offset + chunk.size() >= xml.size() ? "l" : "m") + chunk;
}

std::string GdbSession::monitor(const Monitor& r) {
  std::string_view command = r.command;
  while (!command.empty() && command.back() == ' ') command.remove_suffix(1);
  std::string text;
  if (command == "help" || command.empty()) {
    text = kMonitorHelp;
    if (auto more = target_.monitor("help")) text += *more;
  } else if (command == "memory virtual" || command == "memory physical") {
    memory_space_ = command.ends_with("physical") ? AddressSpace::physical : AddressSpace::virtual_address;
    text = "memory accesses are now " + std::string(command.substr(7)) + "\n";
  } else if (command.starts_with("phys ")) {
    std::string_view args = command.substr(5);
    const auto space = args.find(' ');
    auto hex_arg = [](std::string_view s) {
      if (s.starts_with("0x")) s.remove_prefix(2);
      return number_from_hex(s);
    };
    auto address = hex_arg(args.substr(0, space));
    auto length = space == std::string_view::npos ? std::optional<std::uint64_t>(64) : hex_arg(args.substr(space + 1));
    if (!address || !length || *length == 0 || *length > kMaxMonitorDump) {
      text = "usage: phys ADDR [LEN] (hex, LEN at most 0x1000)\n";
    } else {
      std::vector<std::byte> bytes(*length);
      const std::size_t got =
          target_.read_memory(vp_of(selected_g_, last_stop_.vp), AddressSpace::physical, *address, bytes);
      text = got == 0 ? "no guest-physical memory at that address\n" : hex_dump(*address, std::span(bytes).first(got));
    }
  } else if (auto answer_text = target_.monitor(command)) {
    text = *answer_text;
  } else {
    text = "unknown monitor command '" + std::string(command) + "'; try 'monitor help'\n";
  }
  return text.empty() ? "OK" : to_hex(text);
}

}  // namespace softsynic::gdb
