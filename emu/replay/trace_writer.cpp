// Trace writer: see trace_writer.h.
#include "emu/replay/trace_writer.h"

#include <nlohmann/json.hpp>

#include "emu/replay/trace_values.h"
#include "synic/defs/registers.h"

namespace softsynic::replay {
namespace {

using Json = nlohmann::ordered_json;

// Invalid UTF-8 in host-supplied text (ids, notes) is replaced, never thrown.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json msr_json(std::uint32_t msr) {
  const auto name = msr_name(msr);
  return name.empty() ? Json(hex(msr)) : Json(std::string(name));
}

Json status_json(HvStatus s) {
  const auto name = status_name(s);
  return name.empty() ? Json(hex(static_cast<std::uint16_t>(s))) : Json("HV_STATUS_" + std::string(name));
}

Json regs_json(const std::vector<NamedReg>& regs) {
  Json out = Json::object();
  for (const auto& r : regs) out[r.name] = r.name == "imm" ? Json(r.value.low) : Json(hex(r.value));
  return out;
}

void put_error(Json& j, Error e) {
  if (e != Error::ok) j["expect"] = std::string(error_name(e));
}
void put_vtl(Json& j, const char* key, Vtl vtl) {
  if (vtl != 0) j[key] = vtl;
}

struct StepJson {
  Json& j;
  void operator()(const WriteStep& s) {
    j["gpa"] = hex(s.gpa);
    j["bytes"] = hex_bytes(s.bytes);
  }
  void operator()(const ExpectMemoryStep& s) {
    j["gpa"] = hex(s.gpa);
    j["bytes"] = hex_bytes(s.bytes);
    if (s.mask) j["mask"] = hex_bytes(*s.mask);
  }
  void operator()(const WrmsrStep& s) {
    j["vp"] = s.vp;
    put_vtl(j, "vtl", s.vtl);
    j["msr"] = msr_json(s.msr);
    j["value"] = hex(s.value);
    if (s.expect_gp) j["expect"] = "gp";
  }
  void operator()(const RdmsrStep& s) {
    j["vp"] = s.vp;
    put_vtl(j, "vtl", s.vtl);
    j["msr"] = msr_json(s.msr);
    if (s.expect_gp) {
      j["expect"] = "gp";
    } else {
      j["expect_value"] = hex(s.expect_value);
    }
  }
  void operator()(const HypercallStep& s) {
    j["vp"] = s.vp;
    put_vtl(j, "vtl", s.vtl);
    if (!s.long_mode) j["long_mode"] = false;
    j["regs"] = regs_json(s.regs);
    if (s.expect_status) j["expect_status"] = status_json(*s.expect_status);
    if (!s.expect_regs.empty()) j["expect_regs"] = regs_json(s.expect_regs);
  }
  void operator()(const ExpectInterruptStep& s) {
    j["vp"] = s.vp;
    put_vtl(j, "vtl", s.vtl);
    j["vector"] = hex(s.vector);
  }
  void operator()(const ExpectNoInterruptStep& s) {
    j["vp"] = s.vp;
    put_vtl(j, "vtl", s.vtl);
  }
  void operator()(const EoiStep& s) {
    j["vp"] = s.vp;
    put_vtl(j, "vtl", s.vtl);
  }
  void operator()(const AddMessagePortStep& s) {
    j["id"] = s.id;
    j["connection_id"] = s.connection_id;
    put_vtl(j, "minimum_vtl", s.minimum_vtl);
    if (s.capacity != 64) j["capacity"] = s.capacity;
    put_error(j, s.expect);
  }
  void operator()(const AddEventPortStep& s) {
    j["id"] = s.id;
    j["connection_id"] = s.connection_id;
    put_vtl(j, "minimum_vtl", s.minimum_vtl);
    put_error(j, s.expect);
  }
  void operator()(const RemovePortStep& s) { j["id"] = s.id; }
  void operator()(const ExpectPortMessagesStep& s) {
    j["id"] = s.id;
    Json list = Json::array();
    for (const auto& m : s.messages) list.push_back(Json{{"type", hex(m.type)}, {"payload", hex_bytes(m.payload)}});
    j["messages"] = std::move(list);
  }
  void operator()(const ExpectPortEventsStep& s) {
    j["id"] = s.id;
    j["flags"] = s.flags;
  }
  void operator()(const TakePortMessageStep& s) {
    j["id"] = s.id;
    if (s.count != 1) j["count"] = s.count;
  }
  void operator()(const PostMessageStep& s) {
    put_vtl(j, "vtl", s.vtl);
    j["vp"] = s.vp;
    j["sint"] = s.sint;
    j["type"] = hex(s.type);
    j["payload"] = hex_bytes(s.payload);
    put_error(j, s.expect);
  }
  void operator()(const NewGuestEventPortStep& s) {
    j["id"] = s.id;
    put_vtl(j, "vtl", s.vtl);
    j["vp"] = s.vp;
    j["sint"] = s.sint;
    j["flag"] = s.flag;
    put_error(j, s.expect);
  }
  void operator()(const SignalGuestEventStep& s) {
    j["id"] = s.id;
    if (s.expect) j["expect"] = std::string(error_name(*s.expect));
  }
  void operator()(const AdvanceTimeStep& s) { j["ticks_100ns"] = hex(s.ticks_100ns); }
};

}  // namespace

std::string write_trace(const Trace& trace) {
  Json machine;
  machine["arch"] = trace.machine.arch == TraceArch::x86_64 ? "x86_64" : "aarch64";
  if (trace.machine.arch == TraceArch::x86_64)
    machine["vendor"] = trace.machine.vendor == TraceVendor::amd ? "amd" : "intel";
  machine["vp_count"] = trace.machine.vp_count;
  machine["vtl_count"] = trace.machine.vtl_count;
  if (trace.machine.tsc_frequency_hz != 0) machine["tsc_frequency_hz"] = trace.machine.tsc_frequency_hz;
  Json memory = Json::array();
  for (const auto& r : trace.machine.memory) memory.push_back(Json{{"gpa", hex(r.gpa)}, {"size", hex(r.size)}});
  machine["memory"] = std::move(memory);

  Json head;
  head["format"] = "softsynic-trace";
  head["version"] = 1;
  head["description"] = trace.description;
  head["machine"] = std::move(machine);

  std::string out = "{\n";
  for (auto it = head.begin(); it != head.end(); ++it)
    out += "  " + dump(Json(it.key())) + ": " + dump(it.value()) + ",\n";
  out += "  \"steps\": [";
  for (std::size_t i = 0; i < trace.steps.size(); ++i) {
    const Step& step = trace.steps[i];
    Json j;
    j["op"] = std::string(op_name(step.op));
    std::visit(StepJson{j}, step.op);
    if (!step.note.empty()) j["note"] = step.note;
    out += (i ? ",\n    " : "\n    ") + dump(j);
  }
  out += trace.steps.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

}  // namespace softsynic::replay
