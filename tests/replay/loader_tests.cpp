// Trace loader: values, machine, every op's fields, and the load errors a
// bad document gets (docs/TRACE_FORMAT.md).
#include <doctest/doctest.h>

#include <string>

#include "emu/replay/trace_loader.h"
#include "emu/replay/trace_values.h"

using namespace softsynic;
using namespace softsynic::replay;

namespace {

std::string doc_with(const std::string& steps, const std::string& machine_extra = "",
                     const std::string& arch = "x86_64") {
  return R"({"format":"softsynic-trace","version":1,"description":"t",
    "machine":{"arch":")" + arch + R"(","vp_count":2,"vtl_count":2)" + machine_extra +
         R"(,"memory":[{"gpa":"0x0","size":"0x10000"}]},"steps":[)" + steps + "]}";
}

Trace load_ok(const std::string& text) {
  auto r = load_trace(text);
  INFO(r.error);
  REQUIRE(r);
  return *r.trace;
}

std::string load_error(const std::string& text) {
  auto r = load_trace(text);
  REQUIRE_FALSE(r);
  return r.error;
}

}  // namespace

TEST_CASE("values: integers are numbers or hex/decimal strings") {
  CHECK(parse_integer_string("0x5c") == 0x5c);
  CHECK(parse_integer_string("0X5C") == 0x5c);
  CHECK(parse_integer_string("92") == 92);
  CHECK(parse_integer_string("0xffffffffffffffff") == ~std::uint64_t{0});
  CHECK(parse_integer_string("18446744073709551615") == ~std::uint64_t{0});
  CHECK_FALSE(parse_integer_string("18446744073709551616"));
  CHECK_FALSE(parse_integer_string("0x1ffffffffffffffff"));
  CHECK_FALSE(parse_integer_string("0x"));
  CHECK_FALSE(parse_integer_string(""));
  CHECK_FALSE(parse_integer_string("-1"));
  CHECK_FALSE(parse_integer_string("12z"));
  CHECK_FALSE(parse_integer_string(" 1"));
}

TEST_CASE("values: 128-bit XMM values take up to 32 hex digits") {
  auto v = parse_integer_string_128("0x0102030405060708090a0b0c0d0e0f10");
  REQUIRE(v);
  CHECK(v->high == 0x0102030405060708);
  CHECK(v->low == 0x090a0b0c0d0e0f10);
  CHECK_FALSE(parse_integer_string_128("0x1000000000000000000000000000000000"));
  CHECK(hex(*v) == "0x0102030405060708090a0b0c0d0e0f10");
  CHECK(hex(RegValue128{0x5c, 0}) == "0x5c");
}

TEST_CASE("values: bytes are hex pairs with spaces between bytes") {
  auto b = parse_hex_bytes("00 01 ff");
  REQUIRE(b);
  CHECK(b->size() == 3);
  CHECK(hex_bytes(*b) == "00 01 ff");
  CHECK(parse_hex_bytes("0001FF")->size() == 3);
  CHECK(parse_hex_bytes("")->empty());
  CHECK_FALSE(parse_hex_bytes("0"));
  CHECK_FALSE(parse_hex_bytes("0 1"));
  CHECK_FALSE(parse_hex_bytes("zz"));
  CHECK_FALSE(parse_hex_bytes("0x01"));
}

TEST_CASE("loader: a minimal document loads with its machine") {
  Trace t = load_ok(doc_with("", R"(,"vendor":"amd")"));
  CHECK(t.description == "t");
  CHECK(t.machine.arch == TraceArch::x86_64);
  CHECK(t.machine.vendor == TraceVendor::amd);
  CHECK(t.machine.vp_count == 2);
  CHECK(t.machine.vtl_count == 2);
  REQUIRE(t.machine.memory.size() == 1);
  CHECK(t.machine.memory[0].size == 0x10000);
  CHECK(t.steps.empty());
}

TEST_CASE("loader: vtl_count defaults to 1 and unknown top-level fields are ignored") {
  Trace t = load_ok(R"({"machine":{"arch":"aarch64","vp_count":1,"memory":[{"gpa":0,"size":4096}]},
                        "steps":[],"whatever":{"x":1}})");
  CHECK(t.machine.vtl_count == 1);
  CHECK(t.machine.arch == TraceArch::aarch64);
}

TEST_CASE("loader: MSRs by name or number, values above 2^53 as strings") {
  Trace t = load_ok(doc_with(R"({"op":"wrmsr","vp":1,"msr":"SINT2","value":"0xfffffffffffff0f3","expect":"gp","note":"n"},
                                {"op":"rdmsr","vp":0,"msr":"0x40000081","expect_value":1},
                                {"op":"rdmsr","vp":0,"msr":1073741953,"expect":"gp"})"));
  REQUIRE(t.steps.size() == 3);
  auto& w = std::get<WrmsrStep>(t.steps[0].op);
  CHECK(w.vp == 1);
  CHECK(w.msr == 0x40000092);
  CHECK(w.value == 0xfffffffffffff0f3);
  CHECK(w.expect_gp);
  CHECK(t.steps[0].note == "n");
  CHECK(std::get<RdmsrStep>(t.steps[1].op).msr == 0x40000081);
  CHECK(std::get<RdmsrStep>(t.steps[1].op).expect_value == 1);
  CHECK(std::get<RdmsrStep>(t.steps[2].op).expect_gp);
  CHECK(op_name(t.steps[2].op) == "rdmsr");
}

TEST_CASE("loader: hypercall registers, statuses by name or number") {
  Trace t = load_ok(doc_with(R"({"op":"hypercall","vp":0,"vtl":1,"regs":{"rcx":"0x1005c","rdx":16,"xmm0":"0x0102030405060708090a0b0c0d0e0f10"},
                                 "expect_status":"HV_STATUS_INVALID_CONNECTION_ID","expect_regs":{"rax":"0x12"}},
                                {"op":"hypercall","vp":0,"regs":{},"expect_status":"INVALID_PARAMETER"},
                                {"op":"hypercall","vp":0,"regs":{},"expect_status":"0x13"})"));
  auto& h = std::get<HypercallStep>(t.steps[0].op);
  CHECK(h.vtl == 1);
  REQUIRE(h.regs.size() == 3);
  CHECK(h.regs[0].name == "rcx");
  CHECK(h.regs[2].value.high == 0x0102030405060708);
  CHECK(h.expect_status == HvStatus::invalid_connection_id);
  REQUIRE(h.expect_regs.size() == 1);
  CHECK(std::get<HypercallStep>(t.steps[1].op).expect_status == HvStatus::invalid_parameter);
  CHECK(std::get<HypercallStep>(t.steps[2].op).expect_status == HvStatus::insufficient_buffers);
}

TEST_CASE("loader: aarch64 hypercalls use x0..x17 and imm") {
  Trace t = load_ok(doc_with(R"({"op":"hypercall","vp":0,"regs":{"imm":0,"x0":"0x46000001","x17":1}})", "", "aarch64"));
  CHECK(std::get<HypercallStep>(t.steps[0].op).regs.size() == 3);
  CHECK(load_error(doc_with(R"({"op":"hypercall","vp":0,"regs":{"x18":1}})", "", "aarch64")) ==
        "step 0 (hypercall): field 'regs.x18': not a register of aarch64");
  CHECK(load_error(doc_with(R"({"op":"hypercall","vp":0,"regs":{"rax":1}})", "", "aarch64")) ==
        "step 0 (hypercall): field 'regs.rax': not a register of aarch64");
  CHECK(load_error(doc_with(R"({"op":"hypercall","vp":0,"regs":{"x0":1}})")) ==
        "step 0 (hypercall): field 'regs.x0': not a register of x86_64");
  CHECK(load_error(doc_with(R"({"op":"wrmsr","vp":0,"msr":"SIMP","value":1})", "", "aarch64")) ==
        "step 0 (wrmsr): MSR steps need machine.arch \"x86_64\"");
}

TEST_CASE("loader: host steps with ports, errors by name and defaults") {
  Trace t = load_ok(doc_with(R"({"op":"add_message_port","id":"p","connection_id":4},
      {"op":"add_message_port","id":"q","connection_id":4,"minimum_vtl":1,"capacity":2,"expect":"connection_id_in_use"},
      {"op":"add_event_port","id":"e","connection_id":5},
      {"op":"expect_port_messages","id":"p","messages":[{"type":1,"payload":"01 02"}]},
      {"op":"expect_port_events","id":"e","flags":[0,"2047"]},
      {"op":"take_port_message","id":"p"},
      {"op":"post_message","vp":1,"sint":2,"type":"0x1","payload":"aa","expect":"queue_full"},
      {"op":"new_guest_event_port","id":"g","vp":0,"sint":3,"flag":7},
      {"op":"signal_guest_event","id":"g"},
      {"op":"signal_guest_event","id":"g","expect":"flag_already_set"},
      {"op":"remove_port","id":"p"},
      {"op":"advance_time","ns":1000},
      {"op":"advance_time","ticks_100ns":"0x10"})"));
  REQUIRE(t.steps.size() == 13);
  auto& p = std::get<AddMessagePortStep>(t.steps[0].op);
  CHECK(p.capacity == 64);
  CHECK(p.minimum_vtl == 0);
  CHECK(p.expect == Error::ok);
  auto& q = std::get<AddMessagePortStep>(t.steps[1].op);
  CHECK(q.capacity == 2);
  CHECK(q.expect == Error::connection_id_in_use);
  CHECK(std::get<ExpectPortMessagesStep>(t.steps[3].op).messages[0].payload.size() == 2);
  CHECK(std::get<ExpectPortEventsStep>(t.steps[4].op).flags[1] == 2047);
  CHECK(std::get<TakePortMessageStep>(t.steps[5].op).count == 1);
  CHECK(std::get<PostMessageStep>(t.steps[6].op).expect == Error::queue_full);
  CHECK_FALSE(std::get<SignalGuestEventStep>(t.steps[8].op).expect);
  CHECK(std::get<SignalGuestEventStep>(t.steps[9].op).expect == Error::flag_already_set);
  CHECK(std::get<AdvanceTimeStep>(t.steps[11].op).ticks_100ns == 10);
  CHECK(std::get<AdvanceTimeStep>(t.steps[12].op).ticks_100ns == 16);
}

TEST_CASE("loader: an out-of-range target is allowed when the step expects that very error") {
  Trace t = load_ok(doc_with(R"({"op":"post_message","vp":9,"sint":2,"type":1,"payload":"","expect":"invalid_vp"},
      {"op":"post_message","vp":0,"sint":16,"type":1,"payload":"","expect":"invalid_sint"},
      {"op":"post_message","vtl":3,"vp":0,"sint":1,"type":1,"payload":"","expect":"invalid_vtl"},
      {"op":"new_guest_event_port","id":"g","vp":0,"sint":3,"flag":4096,"expect":"invalid_flag"})"));
  CHECK(t.steps.size() == 4);
}

TEST_CASE("loader: every bad document names the step and field") {
  struct Case {
    const char* steps;
    const char* error;
  };
  const Case cases[] = {
      {R"({"op":"jump"})", "step 0: field 'op': unknown op 'jump'"},
      {R"({"vp":0})", "step 0: field 'op': missing"},
      {R"({"op":7})", "step 0: field 'op': expected a string, got an integer"},
      {R"(3)", "step 0: expected an object, got an integer"},
      {R"({"op":"wrmsr","vp":0,"msr":"SIMP"})", "step 0 (wrmsr): field 'value': missing"},
      {R"({"op":"wrmsr","vp":2,"msr":"SIMP","value":1})", "step 0 (wrmsr): field 'vp': 2 is out of range (vp_count 2)"},
      {R"({"op":"wrmsr","vp":0,"vtl":2,"msr":"SIMP","value":1})", "step 0 (wrmsr): field 'vtl': 2 is out of range (vtl_count 2)"},
      {R"({"op":"wrmsr","vp":0,"msr":"SIMPLE","value":1})", "step 0 (wrmsr): field 'msr': unknown MSR name 'SIMPLE'"},
      {R"({"op":"wrmsr","vp":0,"msr":"SIMP","value":true})",
       "step 0 (wrmsr): field 'value': expected an integer (number or hex/decimal string), got a boolean"},
      {R"({"op":"wrmsr","vp":0,"msr":"SIMP","value":-1})", "step 0 (wrmsr): field 'value': must not be negative"},
      {R"({"op":"wrmsr","vp":0,"msr":"SIMP","value":1.5})",
       "step 0 (wrmsr): field 'value': expected an integer (number or hex/decimal string), got a fractional number"},
      {R"({"op":"wrmsr","vp":0,"msr":"SIMP","value":18014398509481984})",
       "step 0 (wrmsr): field 'value': numbers above 2^53 must be written as strings"},
      {R"({"op":"wrmsr","vp":0,"msr":"SIMP","value":"0xg"})", "step 0 (wrmsr): field 'value': malformed integer '0xg'"},
      {R"({"op":"wrmsr","vp":0,"msr":"SIMP","value":1,"expect":"boom"})",
       "step 0 (wrmsr): field 'expect': expected \"ok\" or \"gp\", got 'boom'"},
      {R"({"op":"wrmsr","vp":0,"msr":"SIMP","value":1,"expect_status":"SUCCESS"})",
       "step 0 (wrmsr): field 'expect_status': unknown field"},
      {R"({"op":"rdmsr","vp":0,"msr":"SIMP"})", "step 0 (rdmsr): field 'expect_value': missing"},
      {R"({"op":"write","gpa":"0xfffe","bytes":"00 01 02"})",
       "step 0 (write): field 'gpa': 0xfffe + 3 bytes is outside guest memory"},
      {R"({"op":"write","gpa":0,"bytes":"0 1"})", "step 0 (write): field 'bytes': malformed hex bytes '0 1'"},
      {R"({"op":"expect_memory","gpa":0,"bytes":"00 01","mask":"ff"})",
       "step 0 (expect_memory): field 'mask': 1 bytes, but 'bytes' has 2"},
      {R"({"op":"hypercall","vp":0})", "step 0 (hypercall): field 'regs': missing"},
      {R"({"op":"hypercall","vp":0,"regs":[]})", "step 0 (hypercall): field 'regs': expected an object of registers, got an array"},
      {R"({"op":"hypercall","vp":0,"regs":{"rcx":"0x1g"}})", "step 0 (hypercall): field 'regs.rcx': malformed integer '0x1g'"},
      {R"({"op":"hypercall","vp":0,"regs":{"xmm0":"0xzz"}})",
       "step 0 (hypercall): field 'regs.xmm0': malformed 128-bit value '0xzz'"},
      {R"({"op":"hypercall","vp":0,"regs":{},"expect_status":"HV_STATUS_NOPE"})",
       "step 0 (hypercall): field 'expect_status': unknown status name 'HV_STATUS_NOPE'"},
      {R"({"op":"hypercall","vp":0,"regs":{},"expect_status":"0x10000"})",
       "step 0 (hypercall): field 'expect_status': 0x10000 is out of range (at most 0xffff)"},
      {R"({"op":"expect_interrupt","vp":0,"vector":256})",
       "step 0 (expect_interrupt): field 'vector': 0x100 is out of range (at most 0xff)"},
      {R"({"op":"post_message","vp":0,"sint":16,"type":1,"payload":""})",
       "step 0 (post_message): field 'sint': 0x10 is out of range (at most 0xf)"},
      {R"({"op":"post_message","vp":0,"sint":1,"type":1,"payload":"","expect":"kaput"})",
       "step 0 (post_message): field 'expect': unknown result name 'kaput' (\"ok\" or a softsynic error name)"},
      {R"({"op":"remove_port","id":"nope"})", "step 0 (remove_port): field 'id': 'nope' was not added by an earlier step"},
      {R"({"op":"add_event_port","id":"e","connection_id":1},{"op":"expect_port_messages","id":"e","messages":[]})",
       "step 1 (expect_port_messages): field 'id': 'e' is an event port"},
      {R"({"op":"add_event_port","id":"e","connection_id":1},{"op":"add_message_port","id":"e","connection_id":2})",
       "step 1 (add_message_port): field 'id': 'e' is already in use"},
      {R"({"op":"add_message_port","id":"p","connection_id":1},{"op":"expect_port_messages","id":"p","messages":[{"type":1}]})",
       "step 1 (expect_port_messages): field 'messages[0].payload': missing"},
      {R"({"op":"add_message_port","id":"p","connection_id":1,"capacity":0})",
       "step 0 (add_message_port): field 'capacity': must be at least 1"},
      {R"({"op":"add_event_port","id":"e","connection_id":1},{"op":"expect_port_events","id":"e","flags":[2048]})",
       "step 1 (expect_port_events): field 'flags[0]': 0x800 is out of range (at most 0x7ff)"},
      {R"({"op":"new_guest_event_port","id":"g","vp":0,"sint":3,"flag":2048})",
       "step 0 (new_guest_event_port): field 'flag': 0x800 is out of range (at most 0x7ff)"},
      {R"({"op":"advance_time"})", "step 0 (advance_time): needs exactly one of 'ns' and 'ticks_100ns'"},
      {R"({"op":"eoi","vp":0,"note":5})", "step 0 (eoi): field 'note': expected a string, got an integer"},
  };
  for (const auto& c : cases) {
    const std::string steps = c.steps;
    CAPTURE(steps);
    CHECK(load_error(doc_with(c.steps)) == c.error);
  }
}

TEST_CASE("loader: bad machines and documents are load errors") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {R"({"machine":{"arch":"x86_64","vp_count":1,"memory":[{"gpa":0,"size":4096}]}})", "field 'steps': missing"},
      {R"({"steps":[]})", "field 'machine': missing"},
      {R"({"machine":{"arch":"mips","vp_count":1,"memory":[{"gpa":0,"size":4096}]},"steps":[]})",
       "machine: field 'arch': expected \"x86_64\" or \"aarch64\", got 'mips'"},
      {R"({"machine":{"arch":"x86_64","vp_count":0,"memory":[{"gpa":0,"size":4096}]},"steps":[]})",
       "machine: field 'vp_count': must be at least 1"},
      {R"({"machine":{"arch":"x86_64","vp_count":1,"vtl_count":4,"memory":[{"gpa":0,"size":4096}]},"steps":[]})",
       "machine: field 'vtl_count': 0x4 is out of range (at most 0x3)"},
      {R"({"machine":{"arch":"x86_64","vp_count":1,"memory":[{"gpa":0,"size":100}]},"steps":[]})",
       "machine: field 'memory[0]': gpa and size must be non-zero multiples of 4096 (size may not be 0)"},
      {R"({"machine":{"arch":"x86_64","vp_count":1,"memory":[{"gpa":0,"size":8192},{"gpa":4096,"size":4096}]},"steps":[]})",
       "machine: field 'memory[1]': overlaps another region"},
      {R"({"machine":{"arch":"x86_64","vp_count":1,"memory":[{"gpa":0,"size":"0x80000000"}]},"steps":[]})",
       "machine: field 'memory[0].size': 0x80000000 is out of range (at most 0x40000000)"},
      {R"({"machine":{"arch":"x86_64","vp_count":1,"vendor":"via","memory":[{"gpa":0,"size":4096}]},"steps":[]})",
       "machine: field 'vendor': expected \"intel\" or \"amd\", got 'via'"},
      {R"({"version":2,"machine":{},"steps":[]})", "field 'version': only version 1 is supported"},
      {R"([1,2])", "the document must be a JSON object, got an array"},
  };
  for (const auto& c : cases) {
    const std::string text = c.text;
    CAPTURE(text);
    CHECK(load_error(c.text) == c.error);
  }
}

TEST_CASE("loader: truncated or malformed JSON is a load error, not a crash") {
  const std::string full = doc_with(R"({"op":"eoi","vp":0})");
  for (std::size_t n = 0; n < full.size(); n += 7) {
    auto r = load_trace(full.substr(0, n));
    CHECK_FALSE(r);
    CHECK_FALSE(r.error.empty());
  }
  CHECK(load_error("{\"machine\": nul").rfind("not valid JSON: ", 0) == 0);
  CHECK(load_error(std::string(100000, '[')).rfind("not valid JSON: ", 0) == 0);
}

TEST_CASE("loader: an unreadable file is a load error") {
  auto r = load_trace_file("/nonexistent/trace.json");
  CHECK_FALSE(r);
  CHECK(r.error == "cannot open /nonexistent/trace.json");
}
