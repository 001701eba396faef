// HvPostMessage and HvSignalEvent expectations, each row run through every
// hypercall ABI: x86-64 (slow and RDX/R8 fast), x86-64 with XMM fast input,
// the 32-bit x86 convention, ARM64 HVC #1 and ARM64 SMCCC.
#include <doctest/doctest.h>

#include <functional>

#include "harness.h"
#include "synic/defs/message.h"

namespace softsynic::test {
namespace {

HypercallControl control(HvCallCode code) { return HypercallControl{}.with_code(code); }

struct PostRow {
  const char* what;
  std::function<GuestCall(Machine&)> prepare;  // writes the input block, returns the call
  HvStatus expect;
  Vtl vtl = 0;
  std::function<void(HvFeatures&)> features = [](HvFeatures&) {};
};

GuestCall post_at(Machine& m, std::uint64_t gpa, std::uint32_t conn, std::uint32_t type, std::uint32_t size) {
  if (gpa < kRamSize && gpa % 8 == 0 && gpa % kHvPageSize + kMessageSize <= kHvPageSize)
    write_post_message(m, gpa, conn, type, size);
  return GuestCall{control(HvCallCode::post_message), gpa, 0, {}};
}

GuestCall good_post(Machine& m) { return post_at(m, kInputPage, kMessageConn, 7, 24); }

GuestCall with_control(GuestCall c, HypercallControl ctl) {
  c.control = ctl;
  return c;
}

const std::vector<PostRow>& post_rows() {
  static const std::vector<PostRow> rows{
      {"a valid message reaches the port", good_post, HvStatus::success},
      {"a VTL 1 caller reaches a VTL 1 port",
       [](Machine& m) { return post_at(m, kInputPage, kMessageConnVtl1, 7, 24); }, HvStatus::success, 1},
      {"payload of 240 bytes is the maximum",
       [](Machine& m) { return post_at(m, kInputPage, kMessageConn, 7, 240); }, HvStatus::success},
      {"payload over 240 bytes", [](Machine& m) { return post_at(m, kInputPage, kMessageConn, 7, 241); },
       HvStatus::invalid_parameter},
      {"message type 0", [](Machine& m) { return post_at(m, kInputPage, kMessageConn, 0, 8); },
       HvStatus::invalid_parameter},
      {"hypervisor message type (bit 31)",
       [](Machine& m) { return post_at(m, kInputPage, kMessageConn, 0x80000010, 8); }, HvStatus::invalid_parameter},
      {"unknown connection id", [](Machine& m) { return post_at(m, kInputPage, 0x99, 7, 8); },
       HvStatus::invalid_connection_id},
      {"an event port's connection id", [](Machine& m) { return post_at(m, kInputPage, kEventConn, 7, 8); },
       HvStatus::invalid_connection_id},
      {"caller VTL below the port's minimum",
       [](Machine& m) { return post_at(m, kInputPage, kMessageConnVtl1, 7, 8); }, HvStatus::operation_denied},
      {"port full",
       [](Machine& m) {
         m.message_port->full = true;
         return good_post(m);
       },
       HvStatus::insufficient_buffers},
      {"input GPA not 8-byte aligned", [](Machine& m) { return post_at(m, kInputPage + 4, kMessageConn, 7, 8); },
       HvStatus::invalid_alignment},
      {"input block crosses a page",
       [](Machine& m) { return post_at(m, kInputPage + kHvPageSize - 128, kMessageConn, 7, 8); },
       HvStatus::invalid_hypercall_input},
      {"input GPA outside RAM", [](Machine& m) { return post_at(m, kOutsideRam, kMessageConn, 7, 8); },
       HvStatus::invalid_parameter},
      {"rep count on a simple call",
       [](Machine& m) { return with_control(good_post(m), control(HvCallCode::post_message).with_rep_count(1)); },
       HvStatus::invalid_hypercall_input},
      {"rep start index on a simple call",
       [](Machine& m) { return with_control(good_post(m), control(HvCallCode::post_message).with_rep_start(1)); },
       HvStatus::invalid_hypercall_input},
      {"variable header size on a simple call",
       [](Machine& m) {
         return with_control(good_post(m), control(HvCallCode::post_message).with_variable_header_size(1));
       },
       HvStatus::invalid_hypercall_input},
      {"nested bit",
       [](Machine& m) { return with_control(good_post(m), control(HvCallCode::post_message).with_nested(true)); },
       HvStatus::invalid_hypercall_input},
      {"reserved control bit 27",
       [](Machine& m) {
         return with_control(good_post(m), HypercallControl(control(HvCallCode::post_message).raw() | (1u << 27)));
       },
       HvStatus::invalid_hypercall_input},
      {"reserved control bit 62",
       [](Machine& m) {
         return with_control(good_post(m),
                             HypercallControl(control(HvCallCode::post_message).raw() | (std::uint64_t{1} << 62)));
       },
       HvStatus::invalid_hypercall_input},
      {"fast form: 256 bytes of input fit no ABI's registers",
       [](Machine& m) {
         GuestCall c = good_post(m);
         c.control = c.control.with_fast(true);
         c.fast = {kMessageConn, 7 | (std::uint64_t{8} << 32)};
         return c;
       },
       HvStatus::invalid_hypercall_input},
      {"unknown call code 0x5E",
       [](Machine& m) { return with_control(good_post(m), control(HvCallCode(0x5E))); },
       HvStatus::invalid_hypercall_code},
      {"PostMessages switched off", good_post, HvStatus::access_denied, 0,
       [](HvFeatures& f) { f.post_messages = false; }},
  };
  return rows;
}

TEST_CASE("HvPostMessage: every row of the facts sheet through every ABI") {
  for (const Abi* abi : all_abis()) {
    for (const PostRow& row : post_rows()) {
      INFO(abi->name() << ": " << row.what);
      HvFeatures features = abi->features();
      row.features(features);
      Machine m(abi->arch(), features);
      const GuestCall call = row.prepare(m);
      const CallResult r = abi->call(m, 1, row.vtl, call);

      CHECK(r.outcome.action == HypercallAction::completed);
      CHECK(r.outcome.is_hypercall);
      CHECK(r.outcome.status == row.expect);
      CHECK(r.result.status() == row.expect);
      CHECK(r.result.reps_completed() == 0);
      CHECK(r.written == written_names(*abi));
      const auto& port = row.vtl == 1 ? m.message_port_vtl1 : m.message_port;
      if (row.expect == HvStatus::success) {
        REQUIRE(port->messages.size() == 1);
        const ReceivedMessage& got = port->messages[0];
        CHECK(got.vp == 1);
        CHECK(got.vtl == row.vtl);
        CHECK(got.message_type == 7);
        CHECK(got.payload == std::vector<std::byte>(got.payload.size(), std::byte{0xA5}));
      } else {
        CHECK(m.message_port->messages.empty());
        CHECK(m.message_port_vtl1->messages.empty());
      }
    }
  }
}

struct SignalRow {
  const char* what;
  std::uint32_t connection;
  std::uint32_t flag;
  HvStatus expect;
  Vtl vtl = 0;
  std::function<void(HvFeatures&)> features = [](HvFeatures&) {};
  // Bends the control word of an otherwise good call (slow or fast).
  std::function<HypercallControl(HypercallControl)> bend = [](HypercallControl c) { return c; };
};

SignalRow bent(const char* what, std::function<HypercallControl(HypercallControl)> bend) {
  return SignalRow{what, kEventConn, 5, HvStatus::invalid_hypercall_input, 0, [](HvFeatures&) {}, std::move(bend)};
}

const std::vector<SignalRow>& signal_rows() {
  static const std::vector<SignalRow> rows{
      {"a valid signal reaches the port", kEventConn, 5, HvStatus::success},
      {"flag 2047 is the last flag", kEventConn, 2047, HvStatus::success},
      {"a VTL 1 caller reaches a VTL 1 port", kEventConnVtl1, 1, HvStatus::success, 1},
      {"flag 2048", kEventConn, 2048, HvStatus::invalid_parameter},
      {"flag 0xFFFF", kEventConn, 0xFFFF, HvStatus::invalid_parameter},
      {"unknown connection id", 0x99, 0, HvStatus::invalid_connection_id},
      {"a message port's connection id", kMessageConn, 0, HvStatus::invalid_connection_id},
      {"caller VTL below the port's minimum", kEventConnVtl1, 0, HvStatus::operation_denied},
      {"SignalEvents switched off", kEventConn, 5, HvStatus::access_denied, 0,
       [](HvFeatures& f) { f.signal_events = false; }},
      bent("rep count on a simple call", [](HypercallControl c) { return c.with_rep_count(1); }),
      bent("rep start index on a simple call", [](HypercallControl c) { return c.with_rep_start(1); }),
      bent("variable header size on a simple call", [](HypercallControl c) { return c.with_variable_header_size(1); }),
      bent("nested bit", [](HypercallControl c) { return c.with_nested(true); }),
      bent("reserved control bit 27", [](HypercallControl c) { return HypercallControl(c.raw() | (1u << 27)); }),
      bent("reserved control bit 62",
           [](HypercallControl c) { return HypercallControl(c.raw() | (std::uint64_t{1} << 62)); }),
  };
  return rows;
}

void check_signal(const Abi& abi, const SignalRow& row, bool fast) {
  INFO(abi.name() << (fast ? " fast: " : " slow: ") << row.what);
  HvFeatures features = abi.features();
  row.features(features);
  Machine m(abi.arch(), features);
  GuestCall call{row.bend(control(HvCallCode::signal_event).with_fast(fast)), kInputPage, 0, {}};
  const std::uint64_t packed = row.connection | (std::uint64_t{row.flag} << 32);
  if (fast)
    call.fast = {packed, 0};
  else
    m.write(kInputPage, &packed, sizeof(packed));
  const CallResult r = abi.call(m, 1, row.vtl, call);

  CHECK(r.outcome.action == HypercallAction::completed);
  CHECK(r.outcome.status == row.expect);
  CHECK(r.result.status() == row.expect);
  CHECK(r.result.reps_completed() == 0);
  CHECK(r.written == written_names(abi));
  const auto& port = row.vtl == 1 ? m.event_port_vtl1 : m.event_port;
  if (row.expect == HvStatus::success) {
    REQUIRE(port->events.size() == 1);
    CHECK(port->events[0].connection_id == row.connection);
    CHECK(port->events[0].flag == row.flag);
    CHECK(port->events[0].vp == 1);
    CHECK(port->events[0].vtl == row.vtl);
  } else {
    CHECK(m.event_port->events.empty());
    CHECK(m.event_port_vtl1->events.empty());
  }
}

TEST_CASE("HvSignalEvent: every row through every ABI, slow and fast") {
  for (const Abi* abi : all_abis())
    for (const SignalRow& row : signal_rows()) {
      check_signal(*abi, row, false);
      check_signal(*abi, row, true);
    }
}

TEST_CASE("HvSignalEvent: slow-call block errors through every ABI") {
  struct Row {
    const char* what;
    std::uint64_t gpa;
    HvStatus expect;
  };
  const Row rows[] = {
      {"input GPA not 8-byte aligned", kInputPage + 2, HvStatus::invalid_alignment},
      {"input GPA outside RAM", kOutsideRam, HvStatus::invalid_parameter},
      {"8 bytes at the very end of a page fit", kInputPage + kHvPageSize - 8, HvStatus::success},
  };
  for (const Abi* abi : all_abis())
    for (const Row& row : rows) {
      INFO(abi->name() << ": " << row.what);
      Machine m(abi->arch(), abi->features());
      const std::uint64_t packed = kEventConn | (std::uint64_t{3} << 32);
      if (row.gpa < kRamSize) m.write(row.gpa, &packed, sizeof(packed));
      const CallResult r = abi->call(m, 0, 0, GuestCall{control(HvCallCode::signal_event), row.gpa, 0, {}});
      CHECK(r.result.status() == row.expect);
      CHECK(m.event_port->events.size() == (row.expect == HvStatus::success ? 1u : 0u));
    }
}

TEST_CASE("x86-64: the hypercall instruction is #UD when the hypercall interface is switched off") {
  HvFeatures f;
  f.hypercall = false;
  Machine m(HvArch::x86_64, f);
  X86RegisterFile regs;
  regs.set(X86Reg::rcx, control(HvCallCode::signal_event).with_fast(true).raw());
  regs.set(X86Reg::rdx, kEventConn);
  regs.clear_written();
  const HypercallOutcome out = m.x86().hypercall(0, 0, regs);
  CHECK(out.action == HypercallAction::invalid_opcode);
  CHECK_FALSE(out.registers_written);
  CHECK(regs.written == 0);
  CHECK(m.event_port->events.empty());
}

TEST_CASE("a VP or VTL out of range (host misuse) is answered, not trapped") {
  for (const Abi* abi : all_abis()) {
    INFO(abi->name());
    Machine m(abi->arch(), abi->features());
    GuestCall call{control(HvCallCode::signal_event).with_fast(true), 0, 0, {kEventConn, 0}};
    CHECK(abi->call(m, 7, 0, call).result.status() == HvStatus::invalid_vp_index);
    CHECK(abi->call(m, 0, 3, call).result.status() == HvStatus::invalid_vp_index);
    CHECK(m.event_port->events.empty());
  }
}

}  // namespace
}  // namespace softsynic::test
