// The GDB stub's session, driven packet by packet with a fake target:
// what gdb sends, what the stub answers, what the target is asked to do.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "emu/gdb/hex.h"
#include "emu/gdb/packet.h"
#include "emu/gdb/request.h"
#include "emu/gdb/session.h"
#include "tests/gdb/fake_target.h"

namespace {

using namespace softsynic::gdb;
using softsynic::gdb::test::FakeTarget;

// A debugger on the other end: sends framed packets, collects the reply
// payloads (acks dropped, frames checked).
struct Debugger {
  explicit Debugger(FakeTarget& target, bool stop_at_once = true) : session(target) {
    session.connect([this](std::string_view bytes) { wire += bytes; });
    if (stop_at_once) session.on_stop({StopEvent::Reason::interrupted, 0});
    wire.clear();
  }
  // Sends one packet; returns the replies it produced, payloads only.
  std::vector<std::string> send(std::string_view payload) { return raw(frame(payload)); }
  std::string ask(std::string_view payload) {
    auto r = send(payload);
    REQUIRE(r.size() == 1);
    return r[0];
  }
  std::vector<std::string> raw(std::string_view bytes) {
    wire.clear();
    session.receive(bytes);
    return replies();
  }
  std::vector<std::string> replies() {
    std::vector<PacketEvent> events;
    PacketReader reader;
    reader.feed(wire, events);
    std::vector<std::string> out;
    for (auto& e : events) {
      if (e.kind == PacketEvent::Kind::packet) out.push_back(unescape(e.payload));
      CHECK(e.kind != PacketEvent::Kind::bad_checksum);
    }
    wire.clear();
    return out;
  }
  GdbSession session;
  std::string wire;
};

std::string hex_text(std::string_view s) { return to_hex(s); }

// A frame around bytes that are already escaped.
std::string as_sent(std::string_view escaped) {
  const std::uint8_t sum = checksum(escaped);
  return "$" + std::string(escaped) + "#" + (sum < 0x10 ? "0" : "") + hex_number(sum);
}

}  // namespace

TEST_CASE("framing: checksums, escapes and acknowledgements") {
  CHECK(frame("OK") == "$OK#9a");
  CHECK(frame("a}b") == "$a}]b#" + std::string(hex_number(checksum("a}]b"))));
  CHECK(unescape("a}]b}\x03") == "a}b#");

  std::vector<PacketEvent> events;
  PacketReader reader;
  reader.feed("+$g#67-\x03$g#00", events);
  REQUIRE(events.size() == 5);
  CHECK(events[0].kind == PacketEvent::Kind::ack);
  CHECK(events[1].kind == PacketEvent::Kind::packet);
  CHECK(events[1].payload == "g");
  CHECK(events[2].kind == PacketEvent::Kind::nak);
  CHECK(events[3].kind == PacketEvent::Kind::interrupt);
  CHECK(events[4].kind == PacketEvent::Kind::bad_checksum);
}

TEST_CASE("framing: a packet split across reads is one packet; an oversized one is refused") {
  std::vector<PacketEvent> events;
  PacketReader reader;
  reader.feed("$qC", events);
  CHECK(events.empty());
  reader.feed("#b4", events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].payload == "qC");

  events.clear();
  reader.feed("$" + std::string(kMaxPacketSize + 1, 'a') + "#00", events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == PacketEvent::Kind::oversized);
}

TEST_CASE("attaching stops the guest; '?' waits for the stop and names the thread") {
  FakeTarget target(2);
  Debugger gdb(target, false);
  CHECK(target.stop_requests == 1);
  CHECK(gdb.send("?").empty());  // held until the target confirms
  gdb.session.on_stop({StopEvent::Reason::interrupted, 1});
  CHECK(gdb.replies() == std::vector<std::string>{"T02thread:2;"});
}

TEST_CASE("every packet is acknowledged until QStartNoAckMode") {
  FakeTarget target(1);
  Debugger gdb(target);
  gdb.session.receive(frame("qAttached"));
  CHECK(gdb.wire.starts_with("+$1#"));
  gdb.wire.clear();
  gdb.session.receive(frame("QStartNoAckMode"));
  CHECK(gdb.wire.starts_with("+$OK#"));
  gdb.wire.clear();
  gdb.session.receive(frame("qAttached"));
  CHECK(gdb.wire.starts_with("$1#"));
}

TEST_CASE("a corrupted packet is answered with '-', a '-' repeats the last reply") {
  FakeTarget target(1);
  Debugger gdb(target);
  gdb.session.receive("$qC#00");
  CHECK(gdb.wire == "-");
  gdb.wire.clear();
  gdb.session.receive(frame("qC"));
  const std::string first = gdb.wire.substr(1);
  gdb.wire.clear();
  gdb.session.receive("-");
  CHECK(gdb.wire == first);
}

TEST_CASE("qSupported offers the target description, no-ack mode and vCont") {
  FakeTarget target(1);
  Debugger gdb(target);
  const std::string r = gdb.ask("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+");
  CHECK(r.find("PacketSize=4000") != std::string::npos);
  CHECK(r.find("qXfer:features:read+") != std::string::npos);
  CHECK(r.find("QStartNoAckMode+") != std::string::npos);
  CHECK(gdb.ask("vCont?") == "vCont;c;C;s;S;t");
}

TEST_CASE("qXfer:features:read serves target.xml in pieces, 'l' on the last") {
  FakeTarget target(1);
  Debugger gdb(target);
  const std::string& xml = target_description(TargetArch::x86_64).xml;
  std::string got;
  for (;;) {
    const std::string r = gdb.ask("qXfer:features:read:target.xml:" + hex_number(got.size()) + ",100");
    REQUIRE(!r.empty());
    got += r.substr(1);
    if (r[0] == 'l') break;
    REQUIRE(r[0] == 'm');
  }
  CHECK(got == xml);
  CHECK(gdb.ask("qXfer:features:read:other.xml:0,100") == "E00");
}

TEST_CASE("target descriptions: x86-64 with system registers, aarch64 core") {
  const auto& x86 = target_description(TargetArch::x86_64);
  CHECK(x86.xml.find("<architecture>i386:x86-64</architecture>") != std::string::npos);
  CHECK(x86.registers[x86.pc_regno].name == "rip");
  for (auto name : {"rax", "r15", "eflags", "cs", "gs", "fs_base", "gs_base", "cr0", "cr2", "cr3", "cr4", "efer"}) {
    CHECK_MESSAGE(x86.regno(name).has_value(), name);
  }
  const auto& arm = target_description(TargetArch::aarch64);
  CHECK(arm.xml.find("org.gnu.gdb.aarch64.core") != std::string::npos);
  CHECK(arm.registers.size() == 34);
  CHECK(arm.registers[arm.pc_regno].name == "pc");
  CHECK(*arm.regno("cpsr") == 33);
}

TEST_CASE("each VP is a thread: qfThreadInfo lists them, Hg selects whose registers p reads") {
  FakeTarget target(3);
  Debugger gdb(target);
  CHECK(gdb.ask("qfThreadInfo") == "m1,2,3");
  CHECK(gdb.ask("qsThreadInfo") == "l");
  CHECK(gdb.ask("qC") == "QC1");
  CHECK(gdb.ask("T3") == "OK");
  CHECK(gdb.ask("T4") == "E01");
  CHECK(gdb.ask("Hg4") == "E01");
  CHECK(gdb.ask("Hg2") == "OK");
  CHECK(gdb.ask("qC") == "QC2");
  // rax (register 0) of VP 1 holds 0x2000.
  CHECK(gdb.ask("p0") == "0020000000000000");
  CHECK(gdb.ask("Hg1") == "OK");
  CHECK(gdb.ask("p0") == "0010000000000000");
}

TEST_CASE("g sends every register in description order; unavailable ones as x") {
  FakeTarget target(1);
  target.unavailable[24] = 1;  // st0: 10 bytes
  Debugger gdb(target);
  const std::string g = gdb.ask("g");
  const auto& d = target_description(TargetArch::x86_64);
  std::size_t bytes = 0;
  for (auto& r : d.registers) bytes += r.bits / 8;
  CHECK(g.size() == bytes * 2);
  CHECK(g.starts_with("0010000000000000"));
  CHECK(g.find(std::string(20, 'x')) != std::string::npos);
  CHECK(gdb.ask("p18") == std::string(20, 'x'));  // 0x18 = 24
}

TEST_CASE("P writes one register, G writes them all, and p reads back") {
  FakeTarget target(1);
  Debugger gdb(target);
  CHECK(gdb.ask("P10=efbeadde00000000") == "OK");  // rip
  CHECK(target.reg(0, 16) == 0xdeadbeef);
  CHECK(gdb.ask("P10=ef") == "E01");  // wrong size
  CHECK(gdb.ask("P999=00") == "E01");
  std::string g = gdb.ask("g");
  g.replace(0, 16, "0100000000000000");
  CHECK(gdb.ask("G" + g) == "OK");
  CHECK(target.reg(0, 0) == 1);
}

TEST_CASE("memory: m reads, M and X write, unmapped is an error; monitor switches to physical") {
  FakeTarget target(1);
  Debugger gdb(target);
  CHECK(gdb.ask("m100000,4") == "00010203");
  CHECK(gdb.ask("m10fffe,4") == "feff");  // partial at the end of the mapping
  CHECK(gdb.ask("m0,4") == "E01");
  CHECK(gdb.ask("M100000,2:abcd") == "OK");
  CHECK(gdb.ask("m100000,2") == "abcd");
  CHECK(gdb.ask("X100000,0:") == "OK");
  // X data arrives escaped as gdb sends it: '}' then the byte XOR 0x20.
  CHECK(gdb.raw(as_sent("X100000,3:}]")) == std::vector<std::string>{"E01"});  // 1 byte, not 3
  CHECK(gdb.raw(as_sent("X100000,2:}]}\x03")) == std::vector<std::string>{"OK"});  // '}' and '#'
  CHECK(gdb.ask("m100000,2") == "7d23");
  CHECK(gdb.ask("M100000,2:ab") == "E01");
  CHECK(gdb.ask("qRcmd," + hex_text("memory physical")) == hex_text("memory accesses are now physical\n"));
  CHECK(gdb.ask("m0,2") == "fffe");
}

TEST_CASE("breakpoints: Z0/z0 go to the target, unsupported types answer empty, failures E") {
  FakeTarget target(1);
  Debugger gdb(target);
  CHECK(gdb.ask("Z0,100010,1") == "OK");
  CHECK(target.breakpoints.at(0x100010) == 1);
  CHECK(gdb.ask("Z2,100020,4") == "");
  CHECK(gdb.ask("Z0,10,1") == "E01");
  CHECK(gdb.ask("z0,100010,1") == "OK");
  CHECK(target.breakpoints.empty());
  CHECK(gdb.ask("Z9,0,1") == "E01");
}

TEST_CASE("continue: every VP runs, and the stop reply comes when the target stops") {
  FakeTarget target(2);
  Debugger gdb(target);
  gdb.ask("qSupported:swbreak+");
  CHECK(gdb.send("c").empty());
  REQUIRE(target.resumes.size() == 1);
  CHECK(target.resumes[0] == std::vector{ResumeAction::run, ResumeAction::run});
  CHECK_FALSE(gdb.session.target_stopped());
  gdb.session.on_stop({StopEvent::Reason::breakpoint, 1, 0x100010});
  CHECK(gdb.replies() == std::vector<std::string>{"T05swbreak:;thread:2;"});
  CHECK(gdb.ask("qC") == "QC2");  // gdb looks at the thread that stopped
}

TEST_CASE("vCont: step one thread, continue the others; a thread with no action stays stopped") {
  FakeTarget target(3);
  Debugger gdb(target);
  CHECK(gdb.send("vCont;s:2;c").empty());
  CHECK(target.resumes.back() == std::vector{ResumeAction::run, ResumeAction::step, ResumeAction::run});
  gdb.session.on_stop({StopEvent::Reason::step, 1});
  CHECK(gdb.replies() == std::vector<std::string>{"T05thread:2;"});
  CHECK(gdb.send("vCont;s:1").empty());
  CHECK(target.resumes.back() ==
        std::vector{ResumeAction::step, ResumeAction::stay_stopped, ResumeAction::stay_stopped});
  gdb.session.on_stop({StopEvent::Reason::step, 0});
  CHECK(gdb.replies() == std::vector<std::string>{"T05thread:1;"});
  CHECK(gdb.ask("vCont;t:1") == "E01");  // nothing would run
  CHECK(gdb.ask("vCont;x") == "E01");
}

TEST_CASE("s steps the Hc thread only; c ADDR resumes at ADDR") {
  FakeTarget target(2);
  Debugger gdb(target);
  CHECK(gdb.ask("Hc2") == "OK");
  CHECK(gdb.send("s").empty());
  CHECK(target.resumes.back() == std::vector{ResumeAction::stay_stopped, ResumeAction::step});
  gdb.session.on_stop({StopEvent::Reason::step, 1});
  gdb.replies();
  CHECK(gdb.send("c100040").empty());
  CHECK(target.reg(1, 16) == 0x100040);
}

TEST_CASE("Ctrl-C while running asks the target to stop; the reply is SIGINT") {
  FakeTarget target(2);
  Debugger gdb(target);
  gdb.send("c");
  const int before = target.stop_requests;
  CHECK(gdb.raw("\x03").empty());
  CHECK(target.stop_requests == before + 1);
  gdb.session.on_stop({StopEvent::Reason::interrupted, 0});
  CHECK(gdb.replies() == std::vector<std::string>{"T02thread:1;"});
}

TEST_CASE("watchpoint and exit stop replies") {
  FakeTarget target(1);
  Debugger gdb(target);
  gdb.send("c");
  StopEvent watch{StopEvent::Reason::watchpoint, 0, 0x2000};
  watch.watch = BreakpointType::access_watch;
  gdb.session.on_stop(watch);
  CHECK(gdb.replies() == std::vector<std::string>{"T05awatch:2000;thread:1;"});
  gdb.send("c");
  StopEvent exit{StopEvent::Reason::exited, 0};
  exit.exit_code = 3;
  gdb.session.on_stop(exit);
  CHECK(gdb.replies() == std::vector<std::string>{"W03"});
  CHECK(gdb.ask("?") == "W03");
  CHECK(gdb.ask("g") == "E01");
}

TEST_CASE("monitor: built-in commands, the target's commands, unknown ones") {
  FakeTarget target(1);
  Debugger gdb(target);
  auto text = [&](std::string_view command) {
    auto bytes = bytes_from_hex(gdb.ask("qRcmd," + hex_text(command)));
    REQUIRE(bytes.has_value());
    std::string s;
    for (auto b : *bytes) s += static_cast<char>(b);
    return s;
  };
  CHECK(text("help").find("phys ADDR") != std::string::npos);
  CHECK(text("help").find("synic") != std::string::npos);
  CHECK(text("synic") == "vp0 SCONTROL=0x1 SIMP=0x5000 (fake)\n");
  CHECK(text("phys 0x10 4") == "0000000000000010: ef ee ed ec\n");
  CHECK(text("phys zz").starts_with("usage: phys"));
  CHECK(text("frobnicate").starts_with("unknown monitor command 'frobnicate'"));
  CHECK(gdb.ask("qRcmd,zz") == "E01");
}

TEST_CASE("detach removes the breakpoints and resumes every VP") {
  FakeTarget target(2);
  Debugger gdb(target);
  gdb.ask("Z0,100010,1");
  CHECK(gdb.ask("D") == "OK");
  CHECK(target.breakpoints.empty());
  CHECK(target.resumes.back() == std::vector{ResumeAction::run, ResumeAction::run});
}

TEST_CASE("a debugger that disappears never leaves the guest stopped") {
  FakeTarget target(2);
  SUBCASE("while the guest is stopped: released at once") {
    Debugger gdb(target);
    gdb.ask("Z0,100010,1");
    gdb.session.disconnect();
    CHECK(target.breakpoints.empty());
    CHECK(target.resumes.back() == std::vector{ResumeAction::run, ResumeAction::run});
  }
  SUBCASE("while the attach stop is still on its way: released when it arrives") {
    Debugger gdb(target, false);
    gdb.session.disconnect();
    CHECK(target.resumes.empty());
    gdb.session.on_stop({StopEvent::Reason::interrupted, 0});
    CHECK(target.resumes.size() == 1);
    CHECK_FALSE(gdb.session.target_stopped());
  }
  SUBCASE("while running with a breakpoint: released when it hits") {
    Debugger gdb(target);
    gdb.ask("Z0,100010,1");
    gdb.send("c");
    gdb.session.disconnect();
    gdb.session.on_stop({StopEvent::Reason::breakpoint, 0, 0x100010});
    CHECK(target.breakpoints.empty());
    CHECK(target.resumes.size() == 2);
    CHECK_FALSE(gdb.session.target_stopped());
  }
}

TEST_CASE("k asks the target to end the run and gets no reply") {
  FakeTarget target(1);
  Debugger gdb(target);
  CHECK(gdb.send("k").empty());
  CHECK(target.kills == 1);
}

TEST_CASE("malformed packets get E01, unknown ones an empty reply") {
  FakeTarget target(1);
  Debugger gdb(target);
  for (auto bad : {"m", "m1", "mzz,1", "M1,2:xyz", "p", "pzz", "P1", "Hx1", "Hg", "T", "Z0", "Z0,1", "G123",
                   "c1x", "vCont;", "vCont;c:", "gx", "qXfer:features:read:target.xml:1"}) {
    CHECK_MESSAGE(gdb.ask(bad) == "E01", bad);
  }
  for (auto unknown : {"qTStatus", "vMustReplyEmpty", "!", "qOffsets", "vFile:open:"}) {
    CHECK_MESSAGE(gdb.ask(unknown) == "", unknown);
  }
}
