// Timeline export: tracks per VP and per host port, slices for crossings
// and deliveries, flow arrows post -> delivery -> EOM and guest post ->
// port, VMBus names, and the same bytes every time.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "emu/replay/timeline.h"
#include "emu/replay/trace_loader.h"
#include "emu/replay/vmbus_message_names.h"

using namespace softsynic;
using namespace softsynic::replay;
using Json = nlohmann::json;

namespace {

Trace fixture(const std::string& rel) {
  auto r = load_trace_file(std::string(SOFTSYNIC_FIXTURES_DIR) + "/" + rel);
  INFO(r.error);
  REQUIRE(r);
  return *r.trace;
}

struct Parsed {
  std::map<std::pair<int, int>, std::string> tracks;  // (pid, tid) -> name
  std::multimap<std::string, Json> slices;             // name -> event
  std::map<std::uint64_t, std::string> flows;          // id -> phases in order ("stf")
};

Parsed parse(const std::string& text) {
  Parsed p;
  const Json doc = Json::parse(text);
  for (const auto& e : doc.at("traceEvents")) {
    const std::string ph = e.at("ph");
    if (ph == "M" && e.at("name") == "thread_name") p.tracks[{e.at("pid"), e.at("tid")}] = e.at("args").at("name");
    if (ph == "X") p.slices.emplace(e.at("name"), e);
    if (ph == "s" || ph == "t" || ph == "f") p.flows[e.at("id")] += ph;
  }
  return p;
}

}  // namespace

TEST_CASE("timeline: one track per VP and per host port, VMBus messages named, guest post flows to its port") {
  const Parsed p = parse(timeline_of(fixture("post_message/x86_linux_startup_echo.json")));
  std::set<std::string> names;
  for (const auto& [key, name] : p.tracks) names.insert(name);
  CHECK(names == std::set<std::string>{"VP 0", "host calls", "port vmbus"});
  CHECK(p.slices.count("HvPostMessage") == 1);
  CHECK(p.slices.count("message VMBus INITIATE_CONTACT") == 1);
  CHECK(p.slices.count("deliver SINT2 VMBus VERSION_RESPONSE") == 1);
  CHECK(p.slices.count("interrupt 0xf3") == 1);
  CHECK(p.slices.find("HvPostMessage")->second.at("args").at("status") == "SUCCESS");
  CHECK(p.flows.size() == 2);
  CHECK(p.flows.at(1) == "sf");  // guest post -> port
  CHECK(p.flows.at(2) == "st");  // host post -> delivery (no EOM in this trace)
}

TEST_CASE("timeline: a host post flows to its delivery and on to the EOM that freed the slot") {
  const Parsed p = parse(timeline_of(fixture("eom/x86_busy_slot_then_eom.json")));
  CHECK(p.slices.count("deliver SINT2 type 0x1") == 2);
  CHECK(p.slices.count("slot busy SINT2: message_pending") == 1);
  CHECK(p.slices.count("EOM") == 1);
  REQUIRE(p.flows.size() == 2);
  CHECK(p.flows.at(1) == "stf");  // first message: post -> delivery -> EOM
  CHECK(p.flows.at(2) == "st");   // second: delivered after the EOM, not yet acknowledged
}

TEST_CASE("timeline: VPs and VTLs get their own tracks, and the document is the same every time") {
  const Trace t = fixture("vtl/x86_separate_synics.json");
  const std::string first = timeline_of(t);
  CHECK(timeline_of(t) == first);
  const Parsed p = parse(first);
  std::set<std::string> names;
  for (const auto& [key, name] : p.tracks) names.insert(name);
  CHECK(names.count("VP 0 VTL 0"));
  CHECK(names.count("VP 0 VTL 1"));
}

TEST_CASE("vmbus names: a type-1 message with a known channel message type is named, others are not") {
  const std::byte contact[8] = {std::byte{14}};
  const std::byte unknown[8] = {std::byte{19}};
  CHECK(vmbus_message_name(1, contact) == "INITIATE_CONTACT");
  CHECK_FALSE(vmbus_message_name(2, contact));
  CHECK_FALSE(vmbus_message_name(1, unknown));
  CHECK_FALSE(vmbus_message_name(1, std::span(contact, 4)));
}

TEST_CASE("timeline: synthetic timer expiries are labelled with their timer, on the advance_time step") {
  const Parsed p = parse(timeline_of(fixture("timers/x86_periodic_message.json")));
  CHECK(p.slices.count("post TimerExpired STIMER0") == 4);
  CHECK(p.slices.count("deliver SINT3 TimerExpired STIMER0") == 4);
  CHECK(p.slices.count("post type 0x80000010") == 0);
}
