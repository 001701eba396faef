// Host API misuse (TLFS "SynIC MSRs", "HvPostMessage", "HvSignalEvent" for
// the guest-visible side): every host entry point with a VP, VTL, SINT or
// flag out of range answers its documented error or value, queues nothing
// and raises nothing. Table-driven over the entry points.
#include <doctest/doctest.h>

#include <functional>

#include "rig.h"

namespace softsynic::reliability {
namespace {

constexpr std::uint32_t kVps = 2;
constexpr Vtl kVtls = 2;

struct Target {
  const char* what;
  Vtl vtl;
  std::uint32_t vp;
  std::uint8_t sint;
  Error expect;
};

const Target kBadTargets[] = {
    {"VP = vp_count", 0, kVps, 0, Error::invalid_vp},
    {"VP = 2^32 - 1", 0, 0xFFFF'FFFF, 0, Error::invalid_vp},
    {"VTL = vtl_count", kVtls, 0, 0, Error::invalid_vtl},
    {"VTL = 255", 255, 0, 0, Error::invalid_vtl},
    {"SINT = 16", 0, 0, 16, Error::invalid_sint},
    {"SINT = 255", 0, 0, 255, Error::invalid_sint},
};

TEST_CASE("host range: post_message with a VP, VTL or SINT out of range is refused and queues nothing") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(kVps, kVtls));
  for (const auto& t : kBadTargets) {
    CAPTURE(t.what);
    CHECK(rig.partition().post_message(t.vtl, t.vp, t.sint, 1, bytes("x")) == make_error_code(t.expect));
  }
  exec.run_until_idle();
  for (std::uint32_t vp = 0; vp < kVps; ++vp)
    for (Vtl vtl = 0; vtl < kVtls; ++vtl)
      for (unsigned s = 0; s < kSintCount; ++s) CHECK(rig.vp(vp).queued_messages(vtl, s) == 0);
}

TEST_CASE("host range: async_post_message with a VP, VTL or SINT out of range completes with the error") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(kVps, kVtls));
  for (const auto& t : kBadTargets) {
    CAPTURE(t.what);
    std::optional<boost::system::error_code> done;
    rig.partition().async_post_message(t.vtl, t.vp, t.sint, 1, bytes("x"),
                                       [&](boost::system::error_code ec) { done = ec; });
    exec.run_until_idle();
    REQUIRE(done);
    CHECK(*done == make_error_code(t.expect));
  }
}

TEST_CASE("host range: new_guest_event_port and set_target_vp refuse targets out of range") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(kVps, kVtls));
  for (const auto& t : kBadTargets) {
    CAPTURE(t.what);
    auto port = rig.partition().new_guest_event_port(t.vtl, t.vp, t.sint, 0);
    REQUIRE_FALSE(port.has_value());
    CHECK(port.error() == make_error_code(t.expect));
  }
  for (std::uint16_t flag : {std::uint16_t{2048}, std::uint16_t{0xFFFF}}) {
    auto port = rig.partition().new_guest_event_port(0, 0, 0, flag);
    REQUIRE_FALSE(port.has_value());
    CHECK(port.error() == make_error_code(Error::invalid_flag));
  }
  auto port = rig.partition().new_guest_event_port(1, 1, 15, 2047);
  REQUIRE(port.has_value());
  for (std::uint32_t vp : {kVps, 0xFFFF'FFFFu}) {
    CHECK((*port)->set_target_vp(vp) == make_error_code(Error::invalid_vp));
    CHECK((*port)->target().vp == 1);  // unchanged
  }
}

TEST_CASE("host range: add_message_port and add_event_port refuse a minimum VTL the partition lacks") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(kVps, kVtls));
  for (Vtl vtl : {kVtls, Vtl{255}}) {
    auto m = rig.partition().add_message_port(1, vtl, std::make_shared<RecordingMessagePort>());
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error() == make_error_code(Error::invalid_vtl));
    auto e = rig.partition().add_event_port(2, vtl, std::make_shared<CountingEventPort>());
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error() == make_error_code(Error::invalid_vtl));
  }
  auto m = rig.partition().add_message_port(1, 0, nullptr);
  REQUIRE_FALSE(m.has_value());
  CHECK(m.error() == make_error_code(Error::null_port));
}

TEST_CASE("host range: Partition::vp out of range throws out_of_range; snapshots out of range read reset values") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(kVps, kVtls));
  CHECK_THROWS_AS(rig.partition().vp(kVps), std::out_of_range);
  CHECK_THROWS_AS(rig.partition().vp(0xFFFF'FFFF), std::out_of_range);
  rig.ready(0, 0);
  SynicVp& vp = rig.vp(0);
  CHECK(vp.scontrol(kVtls) == ScontrolReg{});
  CHECK(vp.simp(255) == PageReg{});
  CHECK(vp.siefp(kVtls) == PageReg{});
  CHECK(vp.sint(0, 16) == SintReg{});
  CHECK(vp.sint(kVtls, 0) == SintReg{});
  CHECK(vp.queued_messages(0, 16) == 0);
  CHECK(vp.queued_messages(kVtls, 0) == 0);
}

TEST_CASE("host range: register access, EOM and EOI at a VTL out of range change nothing") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(kVps, kVtls));
  rig.ready(0, 0);
  CHECK_FALSE(rig.post(0, 0, "a"));
  CHECK_FALSE(rig.post(0, 0, "b"));
  exec.run_until_idle();
  const std::size_t raised = rig.interrupts.count();
  std::uint64_t value = 0;
  for (Vtl vtl : {kVtls, Vtl{255}}) {
    CHECK(rig.vp(0).read_register(vtl, HvRegisterName::scontrol, value) == RegisterAccess::invalid);
    CHECK(rig.vp(0).write_register(vtl, HvRegisterName::scontrol, 1) == RegisterAccess::invalid);
    CHECK(rig.vp(0).write_register(vtl, HvRegisterName::eom, 0) == RegisterAccess::invalid);
    rig.vp(0).on_eoi(vtl, kVectorBase);
  }
  rig.vp(0).on_eoi(0, 0xFFFF'FFFF);  // no SINT uses it
  exec.run_until_idle();
  CHECK(rig.interrupts.count() == raised);
  CHECK(rig.vp(0).queued_messages(0, 0) == 1);
}

TEST_CASE("host range: set_interrupt_sink at a VTL out of range is reported and ignored") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(kVps, kVtls));
  FunctionInterruptSink sink([](std::uint32_t, bool) { FAIL("a sink set out of range was called"); });
  const std::size_t errors = rig.errors().size();
  rig.vp(0).set_interrupt_sink(kVtls, &sink);
  CHECK(rig.errors().size() == errors + 1);
  rig.ready(0, 0, 1);
  CHECK_FALSE(rig.post(0, 0, "x", 1));
  exec.run_until_idle();
  CHECK(rig.interrupts.count() == 1);
}

TEST_CASE("host range: guest calls with a VP or VTL out of range answer INVALID_PARAMETER and reach no port") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(kVps, kVtls));
  auto mport = std::make_shared<RecordingMessagePort>();
  auto eport = std::make_shared<CountingEventPort>();
  auto h1 = rig.partition().add_message_port(1, 0, mport);
  auto h2 = rig.partition().add_event_port(2, 0, eport);
  REQUIRE(h1.has_value());
  REQUIRE(h2.has_value());
  struct Caller {
    std::uint32_t vp;
    Vtl vtl;
  };
  for (const Caller c : {Caller{kVps, 0}, Caller{0xFFFF'FFFF, 0}, Caller{0, kVtls}, Caller{0, 255}}) {
    CAPTURE(c.vp);
    CAPTURE(int{c.vtl});
    CHECK(rig.partition().guest_post_message(c.vp, c.vtl, 1, 1, bytes("x")) == HvStatus::invalid_parameter);
    CHECK(rig.partition().guest_signal_event(c.vp, c.vtl, 2, 0) == HvStatus::invalid_parameter);
  }
  CHECK(mport->payloads().empty());
  CHECK(eport->count == 0);
}

TEST_CASE("host range: payload over 240 bytes and message type 0 are refused; 240 bytes is accepted") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(kVps, kVtls));
  const std::vector<std::byte> max(kMessagePayloadMax), over(kMessagePayloadMax + 1);
  CHECK(rig.partition().post_message(0, 0, 0, 1, over) == make_error_code(Error::payload_too_large));
  CHECK(rig.partition().post_message(0, 0, 0, 0, max) == make_error_code(Error::invalid_message_type));
  CHECK_FALSE(rig.partition().post_message(0, 0, 0, 1, max));
  CHECK(rig.vp(0).queued_messages(0, 0) == 1);
}

}  // namespace
}  // namespace softsynic::reliability
