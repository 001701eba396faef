// Replayer, writer and recorder, run over every fixture in fixtures/: each
// passes, replays to the same report twice, survives a write/load round
// trip, fails precisely when one expectation is broken, and records into a
// trace that replays and passes.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "emu/replay/replay_machine.h"
#include "emu/replay/replayer.h"
#include "emu/replay/trace_loader.h"
#include "emu/replay/trace_recorder.h"
#include "emu/replay/trace_values.h"
#include "emu/replay/trace_writer.h"
#include "synic/timers/advance_time.h"

using namespace softsynic;
using namespace softsynic::replay;

namespace {

std::vector<std::string> fixture_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(SOFTSYNIC_FIXTURES_DIR))
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

Trace load_fixture(const std::string& path) {
  auto r = load_trace_file(path);
  INFO(path << ": " << r.error);
  REQUIRE(r);
  return *r.trace;
}

Trace load_text(const std::string& text) {
  auto r = load_trace(text);
  INFO(r.error);
  REQUIRE(r);
  return *r.trace;
}

bool flip_port_result(Error& e) {
  if (e != Error::ok && e != Error::connection_id_in_use) return false;
  e = e == Error::ok ? Error::connection_id_in_use : Error::ok;
  return true;
}

// Breaks the first expectation of a step; false when the step checks
// nothing that can be broken this way.
bool break_expectation(StepOp& op) {
  if (auto* s = std::get_if<ExpectMemoryStep>(&op)) {
    if (s->bytes.empty()) return false;
    s->bytes[0] ^= std::byte{0x01};
    if (s->mask) (*s->mask)[0] |= std::byte{0x01};
    return true;
  }
  if (auto* s = std::get_if<RdmsrStep>(&op)) {
    if (s->expect_gp) {
      s->expect_gp = false;
    } else {
      s->expect_value ^= 1;
    }
    return true;
  }
  if (auto* s = std::get_if<WrmsrStep>(&op)) {
    s->expect_gp = !s->expect_gp;
    return true;
  }
  if (auto* s = std::get_if<HypercallStep>(&op)) {
    if (s->expect_status) {
      s->expect_status = HvStatus(static_cast<std::uint16_t>(*s->expect_status) ^ 0x40);
      return true;
    }
    if (s->expect_regs.empty()) return false;
    s->expect_regs[0].value.low ^= 1;
    return true;
  }
  if (auto* s = std::get_if<ExpectInterruptStep>(&op)) {
    s->vector ^= 1;
    return true;
  }
  if (auto* s = std::get_if<ExpectPortMessagesStep>(&op)) {
    s->messages.push_back(PortMessage{0x77, {}});
    return true;
  }
  if (auto* s = std::get_if<ExpectPortEventsStep>(&op)) {
    s->flags.push_back(2047);
    return true;
  }
  if (auto* s = std::get_if<PostMessageStep>(&op)) {
    // Other errors admit out-of-range targets that only they make loadable.
    if (s->expect != Error::ok && s->expect != Error::queue_full) return false;
    s->expect = s->expect == Error::ok ? Error::queue_full : Error::ok;
    return true;
  }
  if (auto* s = std::get_if<AddMessagePortStep>(&op)) return flip_port_result(s->expect);
  if (auto* s = std::get_if<AddEventPortStep>(&op)) return flip_port_result(s->expect);
  if (auto* s = std::get_if<SignalGuestEventStep>(&op)) {
    if (!s->expect) return false;
    s->expect = *s->expect == Error::ok ? Error::flag_already_set : Error::ok;
    return true;
  }
  return false;
}

const std::string kScript = R"({"format":"softsynic-trace","version":1,"description":"script",
  "machine":{"arch":"x86_64","vp_count":1,"memory":[{"gpa":"0x0","size":"0x10000"}]},
  "steps":[
    {"op":"wrmsr","vp":0,"msr":"SIMP","value":"0x3001"},
    {"op":"wrmsr","vp":0,"msr":"SINT2","value":"0xf3"},
    {"op":"wrmsr","vp":0,"msr":"SCONTROL","value":1},
    {"op":"post_message","vp":0,"sint":2,"type":1,"payload":"01"},
    {"op":"expect_interrupt","vp":0,"vector":"0xf3","note":"first message"},
    {"op":"rdmsr","vp":0,"msr":"SVERSION","expect_value":2,"note":"deliberately wrong"},
    {"op":"expect_no_interrupt","vp":0},
    {"op":"expect_memory","gpa":"0x3200","bytes":"01 00 00 00 01","mask":"ff ff ff ff ff"}
  ]})";

}  // namespace

TEST_CASE("replay: a failing expectation names the step index, op, note, expected and observed value") {
  const ReplayResult r = replay_trace(load_text(kScript));
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].index == 5);
  CHECK(r.failures[0].op == "rdmsr");
  CHECK(format_result("script.json", r) ==
        "FAIL script.json\n"
        "  step 5 (rdmsr) \"deliberately wrong\": value: expected 0x2, observed 0x1\n");
}

TEST_CASE("replay: every failing step is reported, not only the first") {
  std::string text = kScript;
  text.replace(text.find("\"0xf3\",\"note\""), 6, "\"0xf4\"");
  const ReplayResult r = replay_trace(load_text(text));
  REQUIRE(r.failures.size() == 3);
  CHECK(format_result("s", r) ==
        "FAIL s\n"
        "  step 4 (expect_interrupt) \"first message\": vector: expected 0xf4, observed 0xf3\n"
        "  step 5 (rdmsr) \"deliberately wrong\": value: expected 0x2, observed 0x1\n"
        "  step 6 (expect_no_interrupt): vector: expected none, observed 0xf3\n");
}

TEST_CASE("replay: a load error is reported as FAIL with the reason") {
  CHECK(format_load_error("x.json", "step 1 (eoi): field 'vp': missing") ==
        "FAIL x.json\n  load error: step 1 (eoi): field 'vp': missing\n");
}

TEST_CASE("fixtures: there are at least 40, for both architectures, in every area") {
  const auto files = fixture_files();
  CHECK(files.size() >= 40);
  for (const char* area : {"msr", "post_message", "signal_event", "eom", "backpressure", "vtl", "errors", "timers"}) {
    CAPTURE(area);
    bool x86 = false;
    bool arm64 = false;
    for (const auto& f : files) {
      if (f.find(std::string("/") + area + "/") == std::string::npos) continue;
      const Trace t = load_fixture(f);
      CHECK_FALSE(t.description.empty());
      (t.machine.arch == TraceArch::x86_64 ? x86 : arm64) = true;
    }
    CHECK(x86);
    CHECK(arm64);
  }
}

TEST_CASE("fixtures: every fixture passes and replays to byte-identical output twice") {
  for (const auto& f : fixture_files()) {
    CAPTURE(f);
    const Trace t = load_fixture(f);
    const std::string first = format_result(f, replay_trace(t));
    CHECK(first == "PASS " + f + "\n");
    CHECK(format_result(f, replay_trace(t)) == first);
  }
}

TEST_CASE("writer: every fixture survives write -> load -> write unchanged and still passes") {
  for (const auto& f : fixture_files()) {
    CAPTURE(f);
    const std::string written = write_trace(load_fixture(f));
    const Trace again = load_text(written);
    CHECK(write_trace(again) == written);
    CHECK(replay_trace(again).passed());
  }
}

TEST_CASE("fixtures: breaking one expectation in a copy of any fixture fails exactly at that step") {
  for (const auto& f : fixture_files()) {
    CAPTURE(f);
    Trace t = load_fixture(f);
    auto it = std::find_if(t.steps.begin(), t.steps.end(), [](Step& s) {
      StepOp probe = s.op;
      return break_expectation(probe);
    });
    REQUIRE(it != t.steps.end());
    break_expectation(it->op);
    const std::size_t index = static_cast<std::size_t>(it - t.steps.begin());
    const ReplayResult r = replay_trace(load_text(write_trace(t)));
    REQUIRE_FALSE(r.passed());
    CHECK(r.failures[0].index == index);
    CHECK(r.failures[0].op == op_name(it->op));
    const std::string report = format_result("copy.json", r);
    CHECK(report.find("step " + std::to_string(index) + " (" + std::string(op_name(it->op)) + ")") != std::string::npos);
  }
}

TEST_CASE("recorder: recording the replay of any fixture gives a trace that replays unedited and passes") {
  for (const auto& f : fixture_files()) {
    CAPTURE(f);
    const Trace original = load_fixture(f);
    const RecordedReplay rec = record_replay(original, "recorded from " + f);
    CHECK(rec.result.passed());
    // Host posts are recorded once each; timer expiries are not host posts.
    const auto posts = [](const Trace& t) {
      return std::count_if(t.steps.begin(), t.steps.end(),
                           [](const Step& s) { return std::holds_alternative<PostMessageStep>(s.op); });
    };
    CHECK(posts(rec.recording) == posts(original));
    const std::string recorded = write_trace(rec.recording);
    const auto loaded = load_trace(recorded);
    INFO(loaded.error);
    REQUIRE(loaded);
    const ReplayResult r = replay_trace(*loaded.trace);
    INFO(format_result("recording", r));
    CHECK(r.passed());
    CHECK(write_trace(record_replay(original, "recorded from " + f).recording) == recorded);
  }
}

TEST_CASE("recorder: a scripted session recorded the way an emulator feeds it replays and passes") {
  Machine m;
  m.vp_count = 1;
  m.memory = {{0, 0x10000}};
  ReplayMachine machine(m);
  TraceRecorder rec(m, machine.memory(), "scripted");
  machine.set_cpu_observer(&rec);
  machine.partition().set_observer(&rec);

  machine.wrmsr(0, 0, 0x40000083, 0x3001);  // SIMP
  machine.wrmsr(0, 0, 0x40000092, 0xF3);    // SINT2
  machine.wrmsr(0, 0, 0x40000080, 1);       // SCONTROL
  const std::byte one[] = {std::byte{1}};
  const std::byte two[] = {std::byte{2}};
  rec.before_host_call();
  CHECK_FALSE(machine.partition().post_message(0, 0, 2, 1, one));
  rec.before_host_call();
  CHECK_FALSE(machine.partition().post_message(0, 0, 2, 1, two));
  machine.settle();
  CHECK(machine.take_interrupt(0, 0) == 0xF3u);
  CHECK(machine.eoi(0, 0));
  // The guest frees the slot with a plain store the recorder never sees.
  const std::byte zero[4] = {};
  machine.memory().write(0x3200, zero);
  machine.wrmsr(0, 0, 0x40000084, 0);  // EOM
  CHECK(machine.take_interrupt(0, 0) == 0xF3u);
  machine.partition().set_observer(nullptr);

  const Trace recorded = rec.trace();
  const bool has_slot_write = std::any_of(recorded.steps.begin(), recorded.steps.end(), [](const Step& s) {
    const auto* w = std::get_if<WriteStep>(&s.op);
    return w && w->gpa == 0x3200;
  });
  CHECK(has_slot_write);
  const ReplayResult r = replay_trace(load_text(rec.document()));
  INFO(rec.document());
  CHECK(r.passed());
}

TEST_CASE("recorder: timer expiries of a run whose emulator moves the clock itself replay and pass") {
  Machine m;
  m.vp_count = 1;
  m.memory = {{0, 0x10000}};
  ReplayMachine machine(m);
  TraceRecorder rec(m, machine.memory(), "timers");
  rec.set_time_source(&machine.clock());
  machine.set_cpu_observer(&rec);
  machine.partition().set_observer(&rec);
  const std::byte zero[4] = {};
  // An emulator's CPU slice: time moves, then the VP's timers are serviced
  // (late: every expiry due inside the slice is handed over at its end).
  const auto slice = [&](std::uint64_t ticks) {
    machine.clock().advance(ticks);
    fire_due_everywhere(machine.timers(), machine.executor());
  };
  const auto handle_message = [&] {
    CHECK(machine.take_interrupt(0, 0) == 0x40u);
    CHECK(machine.eoi(0, 0));
    machine.memory().write(0x3300, zero);  // the guest frees SINT3's slot
    machine.wrmsr(0, 0, 0x40000084, 0);    // EOM
  };

  machine.wrmsr(0, 0, 0x40000083, 0x3001);  // SIMP
  machine.wrmsr(0, 0, 0x40000093, 0x40);    // SINT3
  machine.wrmsr(0, 0, 0x40000080, 1);       // SCONTROL
  slice(5000);
  machine.wrmsr(0, 0, 0x400000B1, 10000);    // STIMER0_COUNT: 1 ms
  machine.wrmsr(0, 0, 0x400000B0, 0x30003);  // STIMER0_CONFIG: enable | periodic | SINT 3, start 0.5 ms
  slice(25000);                              // t = 3 ms: expiries at 1.5 and 2.5 ms
  handle_message();
  handle_message();
  std::uint64_t ref = 0;
  machine.rdmsr(0, 0, 0x40000020, ref);  // TIME_REF_COUNT
  CHECK(ref == 30000);
  slice(5000);  // t = 3.5 ms: expiry 3
  handle_message();
  CHECK(machine.pending_interrupt(0, 0) == std::nullopt);
  machine.partition().set_observer(nullptr);

  const Trace recorded = rec.trace();
  std::uint64_t advanced = 0;
  for (const Step& s : recorded.steps) {
    CHECK_FALSE(std::holds_alternative<PostMessageStep>(s.op));  // the replay's timers post them
    if (const auto* a = std::get_if<AdvanceTimeStep>(&s.op)) advanced += a->ticks_100ns;
  }
  CHECK(advanced == 35000);
  const std::size_t interrupts = static_cast<std::size_t>(std::count_if(
      recorded.steps.begin(), recorded.steps.end(),
      [](const Step& s) { return std::holds_alternative<ExpectInterruptStep>(s.op); }));
  CHECK(interrupts == 3);
  INFO(rec.document());
  const ReplayResult r = replay_trace(load_text(rec.document()));
  INFO(format_result("recording", r));
  CHECK(r.passed());
  CHECK(format_result("recording", replay_trace(load_text(rec.document()))) == format_result("recording", r));
}
