#include "emu/gdb/request.h"

#include "emu/gdb/hex.h"
#include "emu/gdb/packet.h"

namespace softsynic::gdb {
namespace {

// Splits `s` at the first `sep`: the part before, and `s` keeps the rest.
std::optional<std::string_view> take_until(std::string_view& s, char sep) {
  const auto at = s.find(sep);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view head = s.substr(0, at);
  s.remove_prefix(at + 1);
  return head;
}

// "ADDR,LENGTH" (followed by nothing, or by `tail` and more).
std::optional<std::pair<std::uint64_t, std::uint64_t>> address_length(std::string_view s) {
  auto a = take_until(s, ',');
  if (!a) return std::nullopt;
  auto address = number_from_hex(*a);
  auto length = number_from_hex(s);
  if (!address || !length) return std::nullopt;
  return std::pair{*address, *length};
}

std::optional<ThreadId> thread_id(std::string_view s) {
  if (s == "-1") return kAllThreads;
  auto n = number_from_hex(s);
  if (!n || *n > 0xffffffffull) return std::nullopt;
  return static_cast<ThreadId>(*n);
}

Request memory_write(std::string_view body, bool binary) {
  auto colon = take_until(body, ':');
  if (!colon) return Malformed{};
  auto al = address_length(*colon);
  if (!al) return Malformed{};
  WriteMemory w{al->first, {}};
  if (binary) {
    const std::string data = unescape(body);
    if (data.size() != al->second) return Malformed{};
    for (char c : data) w.bytes.push_back(static_cast<std::byte>(c));
  } else {
    auto bytes = bytes_from_hex(body);
    if (!bytes || bytes->size() != al->second) return Malformed{};
    w.bytes = std::move(*bytes);
  }
  return w;
}

Request breakpoint(std::string_view body, bool insert) {
  // TYPE,ADDR,KIND (conditions after ';' are not offered and ignored)
  body = body.substr(0, body.find(';'));
  auto type = take_until(body, ',');
  if (!type || type->size() != 1 || (*type)[0] < '0' || (*type)[0] > '4') return Malformed{};
  auto al = address_length(body);
  if (!al) return Malformed{};
  constexpr BreakpointType kTypes[] = {BreakpointType::software, BreakpointType::hardware,
                                       BreakpointType::write_watch, BreakpointType::read_watch,
                                       BreakpointType::access_watch};
  return Breakpoint{insert, kTypes[(*type)[0] - '0'], al->first, al->second};
}

Request resume_list(std::string_view body) {
  // ;ACTION[:THREAD];ACTION[:THREAD]...
  Resume r;
  if (body.empty()) return Malformed{};
  while (!body.empty()) {
    if (body[0] != ';') return Malformed{};
    body.remove_prefix(1);
    std::string_view item = body.substr(0, body.find(';'));
    body.remove_prefix(item.size());
    if (item.empty()) return Malformed{};
    ResumeStep step;
    step.action = item[0];
    item.remove_prefix(1);
    if (step.action == 'C' || step.action == 'S') {
      // With a signal: guests get no signals; the number is read and dropped.
      auto sig = item.substr(0, item.find(':'));
      if (!number_from_hex(sig)) return Malformed{};
      item.remove_prefix(sig.size());
      step.action = step.action == 'C' ? 'c' : 's';
    }
    if (step.action != 'c' && step.action != 's' && step.action != 't') return Malformed{};
    if (!item.empty()) {
      if (item[0] != ':') return Malformed{};
      auto id = thread_id(item.substr(1));
      if (!id) return Malformed{};
      step.thread = *id;
    }
    r.steps.push_back(step);
  }
  return r;
}

Request single_resume(char action, std::string_view body) {
  Resume r;
  r.uses_selected_thread = true;
  r.steps.push_back({action, kAllThreads});
  if (!body.empty()) {
    auto address = number_from_hex(body);
    if (!address) return Malformed{};
    r.address = *address;
  }
  return r;
}

Request query(std::string_view p) {
  if (p.starts_with("qSupported")) return QuerySupported{std::string(p.substr(10))};
  if (p == "QStartNoAckMode") return StartNoAckMode{};
  if (p == "qfThreadInfo") return ThreadInfoFirst{};
  if (p == "qsThreadInfo") return ThreadInfoNext{};
  if (p == "qC") return CurrentThread{};
  if (p.starts_with("qAttached")) return Attached{};
  if (p.starts_with("qXfer:features:read:")) {
    std::string_view rest = p.substr(20);
    auto annex = take_until(rest, ':');
    if (!annex) return Malformed{};
    auto al = address_length(rest);
    if (!al) return Malformed{};
    return ReadFeatures{std::string(*annex), al->first, al->second};
  }
  if (p.starts_with("qRcmd,")) {
    auto bytes = bytes_from_hex(p.substr(6));
    if (!bytes) return Malformed{};
    std::string text;
    for (std::byte b : *bytes) text += static_cast<char>(b);
    return Monitor{std::move(text)};
  }
  return Unsupported{};
}

}  // namespace

Request parse_request(std::string_view p) {
  if (p.empty()) return Unsupported{};
  const std::string_view body = p.substr(1);
  switch (p[0]) {
    case 'q':
    case 'Q':
      return query(p);
    case '?':
      return StopQuery{};
    case 'g':
      return body.empty() ? Request{ReadRegisters{}} : Request{Malformed{}};
    case 'G': {
      auto bytes = bytes_from_hex(body);
      if (!bytes) return Malformed{};
      return WriteRegisters{std::move(*bytes)};
    }
    case 'p': {
      auto n = number_from_hex(body);
      if (!n || *n > 0xffff) return Malformed{};
      return ReadRegister{static_cast<unsigned>(*n)};
    }
    case 'P': {
      std::string_view rest = body;
      auto number = take_until(rest, '=');
      if (!number) return Malformed{};
      auto n = number_from_hex(*number);
      auto bytes = bytes_from_hex(rest);
      if (!n || *n > 0xffff || !bytes) return Malformed{};
      return WriteRegister{static_cast<unsigned>(*n), std::move(*bytes)};
    }
    case 'm': {
      auto al = address_length(body);
      if (!al) return Malformed{};
      return ReadMemory{al->first, al->second};
    }
    case 'M':
      return memory_write(body, false);
    case 'X':
      return memory_write(body, true);
    case 'Z':
    case 'z':
      return breakpoint(body, p[0] == 'Z');
    case 'H': {
      if (body.empty() || (body[0] != 'g' && body[0] != 'c')) return Malformed{};
      auto id = thread_id(body.substr(1));
      if (!id) return Malformed{};
      return SetThread{body[0], *id};
    }
    case 'T': {
      auto id = thread_id(body);
      if (!id) return Malformed{};
      return ThreadAlive{*id};
    }
    case 'c':
    case 's':
      return single_resume(p[0], body);
    case 'k':
      return Kill{};
    case 'D':
      return Detach{};
    case 'v':
      if (p == "vCont?") return ResumeQuery{};
      if (p.starts_with("vCont;")) return resume_list(p.substr(5));
      return Unsupported{};
    default:
      return Unsupported{};
  }
}

}  // namespace softsynic::gdb
