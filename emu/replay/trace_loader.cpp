// Trace loader (docs/TRACE_FORMAT.md). nlohmann-json parses; everything
// after that reads the tree through Fields, which records the first problem
// and never throws.
#include "emu/replay/trace_loader.h"

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "emu/replay/trace_values.h"
#include "synic/defs/message.h"
#include "synic/defs/registers.h"

namespace softsynic::replay {
namespace {

using Json = nlohmann::ordered_json;

std::string in_quotes(std::string_view s) {
  std::string out = "'";
  out.append(s.substr(0, 60));
  if (s.size() > 60) out += "...";
  out += "'";
  return out;
}

const char* type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a fractional number";
    default: return "an unexpected value";
  }
}

// An integer field: number (up to 2^53) or hex/decimal string. Returns the
// reason when it is not one.
std::optional<std::string> read_integer(const Json& j, std::uint64_t max, std::uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<std::uint64_t>();
    if (out > kMaxJsonSafeInteger) return "numbers above 2^53 must be written as strings";
  } else if (j.is_number_integer()) {
    return "must not be negative";
  } else if (j.is_string()) {
    auto v = parse_integer_string(j.get_ref<const std::string&>());
    if (!v) return "malformed integer " + in_quotes(j.get_ref<const std::string&>());
    out = *v;
  } else {
    return std::string("expected an integer (number or hex/decimal string), got ") + type_name(j);
  }
  if (out > max) return hex(out) + " is out of range (at most " + hex(max) + ")";
  return std::nullopt;
}

// Reads one JSON object's fields, remembering which were used so that
// unknown ones can be reported. The first problem wins.
class Fields {
 public:
  Fields(const Json& obj, std::string where, std::string& error) : obj_(obj), where_(std::move(where)), error_(error) {}

  bool ok() const { return error_.empty(); }
  bool fail(std::string_view field, const std::string& reason) {
    if (error_.empty()) error_ = where_ + ": field '" + std::string(field) + "': " + reason;
    return false;
  }
  bool fail_step(const std::string& reason) {
    if (error_.empty()) error_ = where_ + ": " + reason;
    return false;
  }

  const Json* find(std::string_view key) {
    used_.insert(std::string(key));
    auto it = obj_.find(std::string(key));
    return it == obj_.end() ? nullptr : &*it;
  }
  const Json* need(std::string_view key) {
    const Json* j = find(key);
    if (!j) fail(key, "missing");
    return j;
  }
  bool has(std::string_view key) const { return obj_.contains(std::string(key)); }
  const Json* need_array(std::string_view key) {
    const Json* j = need(key);
    if (j && !j->is_array()) {
      fail(key, std::string("expected an array, got ") + type_name(*j));
      return nullptr;
    }
    return j;
  }

  template <typename T>
  bool integer_at(std::string_view name, const Json& j, T& out, std::uint64_t max) {
    std::uint64_t v = 0;
    if (auto why = read_integer(j, max, v)) return fail(name, *why);
    out = static_cast<T>(v);
    return true;
  }
  // Required integer; max defaults to the type's range.
  template <typename T>
  bool integer(std::string_view key, T& out, std::uint64_t max = static_cast<std::uint64_t>(~T{0})) {
    const Json* j = need(key);
    return j && integer_at(key, *j, out, max);
  }
  // Optional integer: out keeps its default when absent.
  template <typename T>
  bool opt_integer(std::string_view key, T& out, std::uint64_t max = static_cast<std::uint64_t>(~T{0})) {
    const Json* j = find(key);
    return !j || integer_at(key, *j, out, max);
  }

  bool string_at(std::string_view name, const Json& j, std::string& out) {
    if (!j.is_string()) return fail(name, std::string("expected a string, got ") + type_name(j));
    out = j.get<std::string>();
    return true;
  }
  bool string(std::string_view key, std::string& out) {
    const Json* j = need(key);
    return j && string_at(key, *j, out);
  }
  bool opt_string(std::string_view key, std::string& out) {
    const Json* j = find(key);
    return !j || string_at(key, *j, out);
  }

  bool bytes_at(std::string_view name, const Json& j, Bytes& out) {
    if (!j.is_string()) return fail(name, std::string("expected a hex byte string, got ") + type_name(j));
    auto b = parse_hex_bytes(j.get_ref<const std::string&>());
    if (!b) return fail(name, "malformed hex bytes " + in_quotes(j.get_ref<const std::string&>()));
    out = std::move(*b);
    return true;
  }
  bool bytes(std::string_view key, Bytes& out) {
    const Json* j = need(key);
    return j && bytes_at(key, *j, out);
  }

  // Fields that nobody asked for are mistakes (a misspelt "expect_status"
  // must not silently pass).
  bool no_unknown_fields() {
    for (auto it = obj_.begin(); it != obj_.end(); ++it)
      if (!used_.count(it.key())) return fail(it.key(), "unknown field");
    return true;
  }

 private:
  const Json& obj_;
  std::string where_;
  std::string& error_;
  std::set<std::string> used_;
};

enum class PortKind { message, event, guest_event };

const char* kind_name(PortKind k) {
  switch (k) {
    case PortKind::message: return "a message port";
    case PortKind::event: return "an event port";
    case PortKind::guest_event: return "a guest event port";
    default: return "a port";
  }
}

// Load-time state shared by the step parsers.
struct Context {
  const Machine& machine;
  std::map<std::string, PortKind> declared;  // every id ever added
  std::set<std::string> live;                // added and not removed
};

// ---- common field groups ----

bool parse_error_expect(Fields& f, std::string_view key, Error& out) {
  const Json* j = f.find(key);
  if (!j) return true;
  std::string name;
  if (!f.string_at(key, *j, name)) return false;
  auto e = error_from_name(name);
  if (!e) return f.fail(key, "unknown result name " + in_quotes(name) + " (\"ok\" or a softsynic error name)");
  out = *e;
  return true;
}

// "ok" / "gp".
bool parse_gp_expect(Fields& f, bool& expect_gp) {
  std::string s = "ok";
  if (!f.opt_string("expect", s)) return false;
  if (s != "ok" && s != "gp") return f.fail("expect", "expected \"ok\" or \"gp\", got " + in_quotes(s));
  expect_gp = s == "gp";
  return true;
}

// Range checks that a step may waive when it expects the matching error.
bool vp_field(Fields& f, Context& c, std::uint32_t& vp, bool allow_out_of_range = false) {
  if (!f.integer("vp", vp)) return false;
  if (!allow_out_of_range && vp >= c.machine.vp_count)
    return f.fail("vp", std::to_string(vp) + " is out of range (vp_count " + std::to_string(c.machine.vp_count) + ")");
  return true;
}
bool vtl_check(Fields& f, Context& c, std::string_view key, Vtl vtl, bool allow_out_of_range = false) {
  if (!allow_out_of_range && vtl >= c.machine.vtl_count)
    return f.fail(key, std::to_string(vtl) + " is out of range (vtl_count " + std::to_string(c.machine.vtl_count) + ")");
  return true;
}
bool vtl_field(Fields& f, Context& c, Vtl& vtl, std::string_view key = "vtl", bool allow_out_of_range = false) {
  return f.opt_integer(key, vtl, 255) && vtl_check(f, c, key, vtl, allow_out_of_range);
}
bool sint_field(Fields& f, std::uint8_t& sint, bool allow_out_of_range = false) {
  return f.integer("sint", sint, allow_out_of_range ? 255 : kSintCount - 1);
}

bool gpa_range(Fields& f, Context& c, std::uint64_t gpa, std::size_t len) {
  for (const auto& r : c.machine.memory)
    if (gpa >= r.gpa && gpa - r.gpa <= r.size && len <= r.size - (gpa - r.gpa)) return true;
  return f.fail("gpa", hex(gpa) + " + " + std::to_string(len) + " bytes is outside guest memory");
}

bool msr_field(Fields& f, std::uint32_t& msr) {
  const Json* j = f.need("msr");
  if (!j) return false;
  if (j->is_string()) {
    const auto& s = j->get_ref<const std::string&>();
    if (auto m = msr_from_name(s)) {
      msr = *m;
      return true;
    }
    if (!parse_integer_string(s)) return f.fail("msr", "unknown MSR name " + in_quotes(s));
  }
  return f.integer_at("msr", *j, msr, 0xFFFFFFFF);
}

bool regs_field(Fields& f, Context& c, std::string_view key, std::vector<NamedReg>& out, bool required) {
  const Json* j = required ? f.need(key) : f.find(key);
  if (!j) return !required;
  if (!j->is_object()) return f.fail(key, std::string("expected an object of registers, got ") + type_name(*j));
  for (auto it = j->begin(); it != j->end(); ++it) {
    const std::string name = std::string(key) + "." + it.key();
    if (!is_trace_register(c.machine.arch, it.key()))
      return f.fail(name, std::string("not a register of ") + (c.machine.arch == TraceArch::x86_64 ? "x86_64" : "aarch64"));
    NamedReg reg{it.key(), {}};
    if (is_wide_register(it.key()) && it->is_string()) {
      auto v = parse_integer_string_128(it->get_ref<const std::string&>());
      if (!v) return f.fail(name, "malformed 128-bit value " + in_quotes(it->get_ref<const std::string&>()));
      reg.value = *v;
    } else {
      const std::uint64_t max = it.key() == "imm" ? 0xFFFF : ~std::uint64_t{0};
      if (!f.integer_at(name, *it, reg.value.low, max)) return false;
    }
    out.push_back(std::move(reg));
  }
  return true;
}

bool port_id_use(Fields& f, Context& c, std::string& id, std::initializer_list<PortKind> kinds) {
  if (!f.string("id", id)) return false;
  auto it = c.declared.find(id);
  if (it == c.declared.end()) return f.fail("id", in_quotes(id) + " was not added by an earlier step");
  for (PortKind k : kinds)
    if (it->second == k) return true;
  return f.fail("id", in_quotes(id) + " is " + kind_name(it->second));
}

bool port_id_add(Fields& f, Context& c, std::string& id, PortKind kind) {
  if (!f.string("id", id)) return false;
  if (id.empty()) return f.fail("id", "must not be empty");
  if (c.live.count(id)) return f.fail("id", in_quotes(id) + " is already in use");
  c.declared[id] = kind;
  c.live.insert(id);
  return true;
}

// ---- step parsers ----

bool parse_write(Fields& f, Context& c, StepOp& op) {
  WriteStep s;
  if (!f.integer("gpa", s.gpa) || !f.bytes("bytes", s.bytes) || !gpa_range(f, c, s.gpa, s.bytes.size())) return false;
  op = std::move(s);
  return true;
}

bool parse_expect_memory(Fields& f, Context& c, StepOp& op) {
  ExpectMemoryStep s;
  if (!f.integer("gpa", s.gpa) || !f.bytes("bytes", s.bytes) || !gpa_range(f, c, s.gpa, s.bytes.size())) return false;
  if (const Json* m = f.find("mask")) {
    s.mask.emplace();
    if (!f.bytes_at("mask", *m, *s.mask)) return false;
    if (s.mask->size() != s.bytes.size())
      return f.fail("mask", std::to_string(s.mask->size()) + " bytes, but 'bytes' has " + std::to_string(s.bytes.size()));
  }
  op = std::move(s);
  return true;
}

bool x86_only(Fields& f, Context& c) {
  if (c.machine.arch != TraceArch::x86_64) return f.fail_step("MSR steps need machine.arch \"x86_64\"");
  return true;
}

bool parse_wrmsr(Fields& f, Context& c, StepOp& op) {
  WrmsrStep s;
  if (!x86_only(f, c) || !vp_field(f, c, s.vp) || !vtl_field(f, c, s.vtl) || !msr_field(f, s.msr) ||
      !f.integer("value", s.value) || !parse_gp_expect(f, s.expect_gp))
    return false;
  op = s;
  return true;
}

bool parse_rdmsr(Fields& f, Context& c, StepOp& op) {
  RdmsrStep s;
  if (!x86_only(f, c) || !vp_field(f, c, s.vp) || !vtl_field(f, c, s.vtl) || !msr_field(f, s.msr) ||
      !parse_gp_expect(f, s.expect_gp))
    return false;
  if (s.expect_gp) {
    if (f.has("expect_value")) return f.fail("expect_value", "not allowed with expect \"gp\"");
  } else if (!f.integer("expect_value", s.expect_value)) {
    return false;
  }
  op = s;
  return true;
}

bool parse_hypercall(Fields& f, Context& c, StepOp& op) {
  HypercallStep s;
  if (!vp_field(f, c, s.vp) || !vtl_field(f, c, s.vtl) || !regs_field(f, c, "regs", s.regs, true) ||
      !regs_field(f, c, "expect_regs", s.expect_regs, false))
    return false;
  if (const Json* j = f.find("long_mode")) {
    if (!j->is_boolean()) return f.fail("long_mode", std::string("expected a boolean, got ") + type_name(*j));
    if (c.machine.arch != TraceArch::x86_64) return f.fail("long_mode", "only for machine.arch \"x86_64\"");
    s.long_mode = j->get<bool>();
  }
  if (const Json* j = f.find("expect_status")) {
    if (j->is_string()) {
      const auto& name = j->get_ref<const std::string&>();
      if (auto st = status_from_name(name)) {
        s.expect_status = *st;
      } else if (!parse_integer_string(name)) {
        return f.fail("expect_status", "unknown status name " + in_quotes(name));
      }
    }
    if (!s.expect_status) {
      std::uint16_t v = 0;
      if (!f.integer_at("expect_status", *j, v, 0xFFFF)) return false;
      s.expect_status = HvStatus(v);
    }
  }
  op = std::move(s);
  return true;
}

bool parse_expect_interrupt(Fields& f, Context& c, StepOp& op) {
  ExpectInterruptStep s;
  const std::uint64_t max_vector = c.machine.arch == TraceArch::x86_64 ? 255 : 1019;
  if (!vp_field(f, c, s.vp) || !vtl_field(f, c, s.vtl) || !f.integer("vector", s.vector, max_vector)) return false;
  op = s;
  return true;
}

template <typename S>
bool parse_vp_only(Fields& f, Context& c, StepOp& op) {
  S s;
  if (!vp_field(f, c, s.vp) || !vtl_field(f, c, s.vtl)) return false;
  op = s;
  return true;
}

bool parse_add_message_port(Fields& f, Context& c, StepOp& op) {
  AddMessagePortStep s;
  if (!parse_error_expect(f, "expect", s.expect) || !port_id_add(f, c, s.id, PortKind::message) ||
      !f.integer("connection_id", s.connection_id) ||
      !vtl_field(f, c, s.minimum_vtl, "minimum_vtl", s.expect == Error::invalid_vtl) ||
      !f.opt_integer("capacity", s.capacity, 1u << 20))
    return false;
  if (s.capacity == 0) return f.fail("capacity", "must be at least 1");
  op = std::move(s);
  return true;
}

bool parse_add_event_port(Fields& f, Context& c, StepOp& op) {
  AddEventPortStep s;
  if (!parse_error_expect(f, "expect", s.expect) || !port_id_add(f, c, s.id, PortKind::event) ||
      !f.integer("connection_id", s.connection_id) ||
      !vtl_field(f, c, s.minimum_vtl, "minimum_vtl", s.expect == Error::invalid_vtl))
    return false;
  op = std::move(s);
  return true;
}

bool parse_remove_port(Fields& f, Context& c, StepOp& op) {
  RemovePortStep s;
  if (!port_id_use(f, c, s.id, {PortKind::message, PortKind::event, PortKind::guest_event})) return false;
  if (!c.live.erase(s.id)) return f.fail("id", in_quotes(s.id) + " was already removed");
  op = std::move(s);
  return true;
}

bool parse_expect_port_messages(Fields& f, Context& c, StepOp& op) {
  ExpectPortMessagesStep s;
  if (!port_id_use(f, c, s.id, {PortKind::message})) return false;
  const Json* list = f.need_array("messages");
  if (!list) return false;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const Json& m = (*list)[i];
    const std::string name = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return f.fail(name, std::string("expected an object, got ") + type_name(m));
    PortMessage pm;
    const auto type_it = m.find("type");
    const auto payload_it = m.find("payload");
    if (type_it == m.end()) return f.fail(name + ".type", "missing");
    if (payload_it == m.end()) return f.fail(name + ".payload", "missing");
    for (auto it = m.begin(); it != m.end(); ++it)
      if (it.key() != "type" && it.key() != "payload") return f.fail(name + "." + it.key(), "unknown field");
    if (!f.integer_at(name + ".type", *type_it, pm.type, 0xFFFFFFFF) || !f.bytes_at(name + ".payload", *payload_it, pm.payload))
      return false;
    s.messages.push_back(std::move(pm));
  }
  op = std::move(s);
  return true;
}

bool parse_expect_port_events(Fields& f, Context& c, StepOp& op) {
  ExpectPortEventsStep s;
  if (!port_id_use(f, c, s.id, {PortKind::event})) return false;
  const Json* list = f.need_array("flags");
  if (!list) return false;
  for (std::size_t i = 0; i < list->size(); ++i) {
    std::uint16_t flag = 0;
    if (!f.integer_at("flags[" + std::to_string(i) + "]", (*list)[i], flag, kEventFlagsPerSint - 1)) return false;
    s.flags.push_back(flag);
  }
  op = std::move(s);
  return true;
}

bool parse_take_port_message(Fields& f, Context& c, StepOp& op) {
  TakePortMessageStep s;
  if (!port_id_use(f, c, s.id, {PortKind::message}) || !f.opt_integer("count", s.count, 1u << 20)) return false;
  op = std::move(s);
  return true;
}

bool parse_post_message(Fields& f, Context& c, StepOp& op) {
  PostMessageStep s;
  if (!parse_error_expect(f, "expect", s.expect) || !vtl_field(f, c, s.vtl, "vtl", s.expect == Error::invalid_vtl) ||
      !vp_field(f, c, s.vp, s.expect == Error::invalid_vp) || !sint_field(f, s.sint, s.expect == Error::invalid_sint) ||
      !f.integer("type", s.type) || !f.bytes("payload", s.payload))
    return false;
  // Oversized payloads are a host error the core reports; keep documents
  // bounded all the same.
  if (s.payload.size() > 4096) return f.fail("payload", "longer than 4096 bytes");
  op = std::move(s);
  return true;
}

bool parse_new_guest_event_port(Fields& f, Context& c, StepOp& op) {
  NewGuestEventPortStep s;
  if (!parse_error_expect(f, "expect", s.expect) || !port_id_add(f, c, s.id, PortKind::guest_event) ||
      !vtl_field(f, c, s.vtl, "vtl", s.expect == Error::invalid_vtl) ||
      !vp_field(f, c, s.vp, s.expect == Error::invalid_vp) || !sint_field(f, s.sint, s.expect == Error::invalid_sint) ||
      !f.integer("flag", s.flag, s.expect == Error::invalid_flag ? 0xFFFF : kEventFlagsPerSint - 1))
    return false;
  op = std::move(s);
  return true;
}

bool parse_signal_guest_event(Fields& f, Context& c, StepOp& op) {
  SignalGuestEventStep s;
  if (!port_id_use(f, c, s.id, {PortKind::guest_event})) return false;
  if (f.has("expect")) {
    s.expect = Error::ok;
    if (!parse_error_expect(f, "expect", *s.expect)) return false;
  }
  op = std::move(s);
  return true;
}

bool parse_advance_time(Fields& f, Context&, StepOp& op) {
  AdvanceTimeStep s;
  const bool has_ns = f.has("ns");
  const bool has_ticks = f.has("ticks_100ns");
  if (has_ns == has_ticks) return f.fail_step("needs exactly one of 'ns' and 'ticks_100ns'");
  if (has_ns) {
    std::uint64_t ns = 0;
    if (!f.integer("ns", ns)) return false;
    s.ticks_100ns = ns / 100;
  } else if (!f.integer("ticks_100ns", s.ticks_100ns)) {
    return false;
  }
  op = s;
  return true;
}

using StepParser = bool (*)(Fields&, Context&, StepOp&);
struct OpEntry {
  std::string_view name;
  StepParser parse;
};
constexpr OpEntry kOps[] = {
    {"write", parse_write},
    {"expect_memory", parse_expect_memory},
    {"wrmsr", parse_wrmsr},
    {"rdmsr", parse_rdmsr},
    {"hypercall", parse_hypercall},
    {"expect_interrupt", parse_expect_interrupt},
    {"expect_no_interrupt", parse_vp_only<ExpectNoInterruptStep>},
    {"eoi", parse_vp_only<EoiStep>},
    {"add_message_port", parse_add_message_port},
    {"add_event_port", parse_add_event_port},
    {"remove_port", parse_remove_port},
    {"expect_port_messages", parse_expect_port_messages},
    {"expect_port_events", parse_expect_port_events},
    {"take_port_message", parse_take_port_message},
    {"post_message", parse_post_message},
    {"new_guest_event_port", parse_new_guest_event_port},
    {"signal_guest_event", parse_signal_guest_event},
    {"advance_time", parse_advance_time},
};
// op_name() indexes this table by the variant's index.
static_assert(std::size(kOps) == std::variant_size_v<StepOp>);

// ---- machine ----

bool parse_memory(Fields& f, Machine& m) {
  const Json* list = f.need("memory");
  if (!list) return false;
  if (!list->is_array() || list->empty()) return f.fail("memory", "expected a non-empty array of regions");
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string name = "memory[" + std::to_string(i) + "]";
    const Json& r = (*list)[i];
    if (!r.is_object()) return f.fail(name, std::string("expected an object, got ") + type_name(r));
    MemoryRegion region;
    const auto gpa = r.find("gpa");
    const auto size = r.find("size");
    if (gpa == r.end()) return f.fail(name + ".gpa", "missing");
    if (size == r.end()) return f.fail(name + ".size", "missing");
    if (!f.integer_at(name + ".gpa", *gpa, region.gpa, ~std::uint64_t{0}) ||
        !f.integer_at(name + ".size", *size, region.size, kMaxTraceMemory))
      return false;
    if (region.size == 0 || region.size % 4096 != 0 || region.gpa % 4096 != 0)
      return f.fail(name, "gpa and size must be non-zero multiples of 4096 (size may not be 0)");
    if (region.gpa + region.size < region.gpa) return f.fail(name, "wraps around the address space");
    for (const auto& o : m.memory)
      if (region.gpa < o.gpa + o.size && o.gpa < region.gpa + region.size) return f.fail(name, "overlaps another region");
    total += region.size;
    if (total > kMaxTraceMemory) return f.fail(name, "guest memory above " + hex(kMaxTraceMemory) + " bytes in total");
    m.memory.push_back(region);
  }
  return true;
}

bool parse_machine(const Json& j, Machine& m, std::string& error) {
  if (!j.is_object()) {
    error = std::string("field 'machine': expected an object, got ") + type_name(j);
    return false;
  }
  Fields f(j, "machine", error);
  std::string arch;
  if (!f.string("arch", arch)) return false;
  if (arch == "x86_64") {
    m.arch = TraceArch::x86_64;
  } else if (arch == "aarch64") {
    m.arch = TraceArch::aarch64;
  } else {
    return f.fail("arch", "expected \"x86_64\" or \"aarch64\", got " + in_quotes(arch));
  }
  std::string vendor = "intel";
  if (!f.opt_string("vendor", vendor)) return false;
  if (vendor != "intel" && vendor != "amd") return f.fail("vendor", "expected \"intel\" or \"amd\", got " + in_quotes(vendor));
  m.vendor = vendor == "amd" ? TraceVendor::amd : TraceVendor::intel;
  if (!f.integer("vp_count", m.vp_count, 256) || !f.opt_integer("vtl_count", m.vtl_count, kMaxVtlCount)) return false;
  if (m.vp_count == 0) return f.fail("vp_count", "must be at least 1");
  if (m.vtl_count == 0) return f.fail("vtl_count", "must be at least 1");
  if (!f.opt_integer("tsc_frequency_hz", m.tsc_frequency_hz)) return false;
  return parse_memory(f, m) && f.no_unknown_fields();
}

bool parse_step(const Json& j, std::size_t index, Context& c, Step& out, std::string& error) {
  const std::string where = "step " + std::to_string(index);
  if (!j.is_object()) {
    error = where + ": expected an object, got " + type_name(j);
    return false;
  }
  auto op_it = j.find("op");
  if (op_it == j.end()) {
    error = where + ": field 'op': missing";
    return false;
  }
  if (!op_it->is_string()) {
    error = where + ": field 'op': expected a string, got " + type_name(*op_it);
    return false;
  }
  const auto& op = op_it->get_ref<const std::string&>();
  for (const auto& entry : kOps) {
    if (entry.name != op) continue;
    Fields f(j, where + " (" + op + ")", error);
    f.find("op");
    return f.opt_string("note", out.note) && entry.parse(f, c, out.op) && f.no_unknown_fields();
  }
  error = where + ": field 'op': unknown op " + in_quotes(op);
  return false;
}

}  // namespace

LoadResult load_trace(std::string_view json_text) {
  LoadResult result;
  Json doc;
  try {
    doc = Json::parse(json_text.begin(), json_text.end());
  } catch (const std::exception& e) {
    result.error = std::string("not valid JSON: ") + e.what();
    return result;
  }
  if (!doc.is_object()) {
    result.error = std::string("the document must be a JSON object, got ") + type_name(doc);
    return result;
  }
  Trace trace;
  // Unknown top-level fields are ignored (the contract says so); the known
  // ones are checked.
  if (auto it = doc.find("format"); it != doc.end() && *it != "softsynic-trace") {
    result.error = "field 'format': expected \"softsynic-trace\"";
    return result;
  }
  if (auto it = doc.find("version"); it != doc.end() && *it != 1) {
    result.error = "field 'version': only version 1 is supported";
    return result;
  }
  if (auto it = doc.find("description"); it != doc.end()) {
    if (!it->is_string()) {
      result.error = "field 'description': expected a string";
      return result;
    }
    trace.description = it->get<std::string>();
  }
  auto machine = doc.find("machine");
  if (machine == doc.end()) {
    result.error = "field 'machine': missing";
    return result;
  }
  if (!parse_machine(*machine, trace.machine, result.error)) return result;
  auto steps = doc.find("steps");
  if (steps == doc.end() || !steps->is_array()) {
    result.error = steps == doc.end() ? "field 'steps': missing" : "field 'steps': expected an array";
    return result;
  }
  Context context{trace.machine, {}, {}};
  for (std::size_t i = 0; i < steps->size(); ++i) {
    Step step;
    if (!parse_step((*steps)[i], i, context, step, result.error)) return result;
    trace.steps.push_back(std::move(step));
  }
  result.trace = std::move(trace);
  return result;
}

LoadResult load_trace_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return LoadResult{std::nullopt, "cannot open " + path};
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return load_trace(buffer.str());
}

std::string_view op_name(const StepOp& op) { return kOps[op.index()].name; }

}  // namespace softsynic::replay
