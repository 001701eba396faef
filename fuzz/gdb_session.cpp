// fuzz_gdb_session: arbitrary bytes from a "debugger" into the GDB stub's
// session (emu/gdb) over a fake two-VP x86-64 target, in fuzzed pieces,
// with target stops, disconnects and reconnects between them. Also runs
// every complete packet through parse_request on its own.
//
// Invariants: the session answers only with well-framed packets (every
// '$' on the wire starts a frame whose checksum is right); a breakpoint
// the target holds is one the session inserted, and after a disconnect
// with the guest stopped none is left. Sanitizers catch the rest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "emu/gdb/packet.h"
#include "emu/gdb/request.h"
#include "emu/gdb/session.h"
#include "fuzz/fuzz_input.h"
#include "tests/gdb/fake_target.h"

namespace {

using namespace softsynic::gdb;

void check_wire(const std::string& wire) {
  std::vector<PacketEvent> events;
  PacketReader reader;
  reader.feed(wire, events);
  for (const auto& e : events) {
    if (e.kind == PacketEvent::Kind::bad_checksum || e.kind == PacketEvent::Kind::oversized) std::abort();
    if (e.kind == PacketEvent::Kind::packet) static_cast<void>(parse_request(e.payload));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  softsynic::fuzz::FuzzInput in(data, size);
  test::FakeTarget target(2);
  GdbSession session(target);
  std::string wire;
  session.connect([&](std::string_view bytes) { wire += bytes; });
  while (!in.empty()) {
    const std::uint8_t op = in.u8();
    switch (op % 8) {
      case 0: {
        StopEvent e;
        e.reason = static_cast<StopEvent::Reason>(in.below(5));
        e.vp = in.below(2);
        e.address = in.u64();
        e.exit_code = in.u8();
        session.on_stop(e);
        break;
      }
      case 1:
        session.disconnect();
        session.connect([&](std::string_view bytes) { wire += bytes; });
        break;
      default: {
        // The next chunk of raw bytes: up to 255 of them.
        const std::size_t n = in.u8();
        std::string chunk;
        for (std::size_t i = 0; i < n && !in.empty(); ++i) chunk += static_cast<char>(in.u8());
        session.receive(chunk);
        break;
      }
    }
    check_wire(wire);
    wire.clear();
  }
  session.disconnect();
  if (session.target_stopped() && !target.breakpoints.empty()) std::abort();
  return 0;
}
