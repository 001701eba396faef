// Fault tests of host-to-guest message queues (TLFS "Message Buffers",
// "End of Message (EOM)"): a guest that never EOMs, full queues, a VP whose
// guest resets its SynIC or moves its pages with messages queued, and the
// partition torn down with messages and waiters pending.
//
// There is no host API to reset or remove a single VP. What a VP reset
// means today is the guest writing the reset values (SCONTROL 0, SIMP and
// SIEFP 0, SINTs masked): queued messages are held, never dropped, and are
// delivered in order once the guest enables its SynIC again. Removing a VP
// is removing the partition: waiters complete with `cancelled`.
#include <doctest/doctest.h>

#include <optional>

#include "rig.h"

namespace softsynic::reliability {
namespace {

TEST_CASE("never-EOM: the sender sees queue_full at capacity while other VPs keep receiving") {
  DeterministicExecutor exec;
  constexpr std::uint32_t kCapacity = 4;
  Rig rig(exec.executor(), config(2, 1, kCapacity));
  rig.ready(0, 0);
  rig.ready(1, 0);

  // VP 0's guest takes the first message into its slot and never frees it.
  CHECK_FALSE(rig.post(0, 0, "slot"));
  exec.run_until_idle();
  for (std::uint32_t i = 0; i < kCapacity; ++i) CHECK_FALSE(rig.post(0, 0, "queued"));
  exec.run_until_idle();
  CHECK(rig.post(0, 0, "one too many") == make_error_code(Error::queue_full));
  CHECK(rig.vp(0).queued_messages(0, 0) == kCapacity);

  // An async sender waits instead of failing.
  std::optional<boost::system::error_code> waited;
  rig.partition().async_post_message(0, 0, 0, 1, bytes("waiter"), [&](boost::system::error_code ec) { waited = ec; });

  // VP 1 is unaffected: 100 messages in and out.
  for (int i = 0; i < 100; ++i) {
    const std::string text = "m" + std::to_string(i);
    REQUIRE_FALSE(rig.post(1, 0, text));
    exec.run_until_idle();
    REQUIRE(rig.consume(1, 0) == text);
  }
  // Other SINTs of the stuck VP are unaffected as well.
  rig.unmask(0, 1);
  CHECK_FALSE(rig.post(0, 1, "other sint"));
  exec.run_until_idle();
  CHECK(rig.consume(0, 1) == "other sint");

  CHECK_FALSE(waited);
  CHECK(rig.post(0, 0, "still full") == make_error_code(Error::queue_full));
  // The guest finally frees its slot: the queue drains in order and the
  // waiter gets in.
  CHECK(rig.consume(0, 0) == "slot");
  exec.run_until_idle();
  REQUIRE(waited);
  CHECK_FALSE(*waited);
  std::vector<std::string> rest(kCapacity, "queued");
  rest.push_back("waiter");
  CHECK(rig.receive(exec, 0, 0, kCapacity + 1) == rest);
}

TEST_CASE("queue full: a full SINT queue refuses posts and queues nothing, on every (VTL, VP, SINT) separately") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(2, 2, 2));
  for (Vtl vtl = 0; vtl < 2; ++vtl)
    for (std::uint32_t vp = 0; vp < 2; ++vp)
      for (unsigned sint : {0u, 15u}) {
        CAPTURE(vtl);
        CAPTURE(vp);
        CAPTURE(sint);
        CHECK_FALSE(rig.post(vp, sint, "a", vtl));
        CHECK_FALSE(rig.post(vp, sint, "b", vtl));
        CHECK(rig.post(vp, sint, "c", vtl) == make_error_code(Error::queue_full));
        CHECK(rig.vp(vp).queued_messages(vtl, sint) == 2);
      }
  // Nothing was delivered (no SynIC enabled) and nothing was lost.
  exec.run_until_idle();
  CHECK(rig.interrupts.count() == 0);
  rig.ready(1, 15, 1);
  CHECK(rig.receive(exec, 1, 15, 2, 1) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("vp reset: a guest writing the reset values holds queued messages; re-enabling delivers them in order") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(1, 1, 8));
  rig.ready(0, 3);
  CHECK_FALSE(rig.post(0, 3, "before reset"));
  exec.run_until_idle();
  CHECK_FALSE(rig.post(0, 3, "queued 1"));
  CHECK_FALSE(rig.post(0, 3, "queued 2"));
  exec.run_until_idle();
  const std::size_t raised_before = rig.interrupts.count();

  // The guest resets its SynIC (as a rebooting OS or kexec does).
  CHECK(rig.write(0, HvRegisterName::scontrol, 0) == RegisterAccess::ok);
  CHECK(rig.write(0, HvRegisterName::simp, 0) == RegisterAccess::ok);
  CHECK(rig.write(0, HvRegisterName::siefp, 0) == RegisterAccess::ok);
  for (unsigned s = 0; s < kSintCount; ++s)
    CHECK(rig.write(0, sint_register(s), SintReg::kReset) == RegisterAccess::ok);
  CHECK_FALSE(rig.post(0, 3, "during reset"));
  exec.run_until_idle();
  CHECK(rig.vp(0).queued_messages(0, 3) == 3);
  CHECK(rig.interrupts.count() == raised_before);

  // The new OS instance enables the SynIC on a fresh page: the queue drains
  // there, oldest first. The message that was in the old slot stays in the
  // old page (no overlay page to take it along).
  const std::uint64_t old_simp = Rig::simp_gpa(0);
  const std::uint64_t new_simp = 0x80000;
  CHECK(rig.write(0, HvRegisterName::simp, enabled_page(new_simp)) == RegisterAccess::ok);
  CHECK(rig.write(0, HvRegisterName::scontrol, 1) == RegisterAccess::ok);
  rig.unmask(0, 3);
  exec.run_until_idle();
  CHECK(Rig::payload_of(rig.slot_at(old_simp, 3)) == "before reset");
  CHECK(rig.receive(exec, 0, 3, 3) == std::vector<std::string>{"queued 1", "queued 2", "during reset"});
  CHECK(rig.vp(0).queued_messages(0, 3) == 0);
}

TEST_CASE("pages moved: a SIMP moved while messages are queued delivers the queue to the new page") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(1, 1, 8));
  rig.ready(0, 0);
  CHECK_FALSE(rig.post(0, 0, "in old slot"));
  exec.run_until_idle();
  CHECK_FALSE(rig.post(0, 0, "queued"));
  exec.run_until_idle();
  CHECK((rig.slot(0, 0).header.message_flags & kMessageFlagPending) != 0);

  const std::uint64_t old_simp = rig.vp(0).simp(0).gpa();
  const std::uint64_t new_simp = 0x90000;
  const std::size_t raised = rig.interrupts.count();
  CHECK(rig.write(0, HvRegisterName::simp, enabled_page(new_simp)) == RegisterAccess::ok);
  exec.run_until_idle();
  // The queued message lands in the zeroed new page with an interrupt; the
  // old page keeps what it held.
  CHECK(Rig::payload_of(rig.slot_at(new_simp, 0)) == "queued");
  CHECK(rig.interrupts.count() == raised + 1);
  CHECK(Rig::payload_of(rig.slot_at(old_simp, 0)) == "in old slot");
  CHECK(rig.vp(0).queued_messages(0, 0) == 0);
}

TEST_CASE("pages moved: a SIMP moved outside RAM with messages queued holds them until it is moved back") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(1, 1, 8));
  rig.ready(0, 0);
  CHECK(rig.write(0, HvRegisterName::simp, enabled_page(kOutsideRam)) == RegisterAccess::ok);
  CHECK_FALSE(rig.post(0, 0, "one"));
  CHECK_FALSE(rig.post(0, 0, "two"));
  exec.run_until_idle();
  CHECK(rig.vp(0).queued_messages(0, 0) == 2);
  CHECK(rig.interrupts.count() == 0);
  CHECK_FALSE(rig.errors().empty());
  CHECK(rig.write(0, HvRegisterName::simp, enabled_page(0x70000)) == RegisterAccess::ok);
  CHECK(rig.receive(exec, 0, 0, 2) == std::vector<std::string>{"one", "two"});
}

TEST_CASE("pages moved: a SIEFP moved while flags are set starts the new page clear; the old page keeps its flags") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(1, 1, 8));
  rig.ready(0, 2);
  auto port = rig.partition().new_guest_event_port(0, 0, 2, 5);
  REQUIRE(port.has_value());
  CHECK_FALSE((*port)->signal());
  CHECK((*port)->signal() == make_error_code(Error::flag_already_set));
  const std::uint64_t old_siefp = rig.vp(0).siefp(0).gpa();
  CHECK(rig.write(0, HvRegisterName::siefp, enabled_page(0xA0000)) == RegisterAccess::ok);
  // A fresh page: the same flag raises again.
  CHECK_FALSE((*port)->signal());
  std::uint64_t old_word = 0;
  rig.memory.read(old_siefp + 2 * kEventFlagsSlotSize, std::as_writable_bytes(std::span(&old_word, 1)));
  CHECK(old_word == (1u << 5));
}

TEST_CASE("vp removed: destroying the partition with messages queued and waiters pending cancels the waiters") {
  DeterministicExecutor exec;
  RamGuestMemory memory(kRamSize);
  std::vector<boost::system::error_code> results;
  {
    Partition p(config(2, 1, 1), memory, exec.executor());
    CHECK_FALSE(p.post_message(0, 0, 0, 1, bytes("queued")));
    CHECK_FALSE(p.post_message(0, 1, 0, 1, bytes("queued")));
    for (std::uint32_t vp = 0; vp < 2; ++vp)
      for (int i = 0; i < 3; ++i)
        p.async_post_message(0, vp, 0, 1, bytes("waiting"),
                             [&](boost::system::error_code ec) { results.push_back(ec); });
    exec.run_until_idle();
    CHECK(results.empty());
  }
  exec.run_until_idle();
  REQUIRE(results.size() == 6);
  for (const auto& ec : results) CHECK(ec == make_error_code(Error::cancelled));
}

TEST_CASE("out-of-RAM: a SIMP or SIEFP in a hole between RAM regions is accepted, reported and never written") {
  DeterministicExecutor exec;
  // RAM at [0, 1 MiB) and [2 MiB, 3 MiB); the hole is not RAM.
  Rig rig(exec.executor(), config(1, 1, 4), {{0, 0x100000}, {0x200000, 0x100000}});
  const std::uint64_t hole = 0x180000;
  CHECK(rig.write(0, HvRegisterName::simp, enabled_page(hole)) == RegisterAccess::ok);
  CHECK(rig.write(0, HvRegisterName::siefp, enabled_page(hole + 0x1000)) == RegisterAccess::ok);
  CHECK(rig.write(0, HvRegisterName::scontrol, 1) == RegisterAccess::ok);
  rig.unmask(0, 0);
  CHECK_FALSE(rig.errors().empty());
  CHECK_FALSE(rig.post(0, 0, "waits"));
  exec.run_until_idle();
  CHECK(rig.vp(0).queued_messages(0, 0) == 1);
  auto port = rig.partition().new_guest_event_port(0, 0, 0, 1);
  REQUIRE(port.has_value());
  CHECK((*port)->signal() == make_error_code(Error::sint_not_ready));
  CHECK(rig.interrupts.count() == 0);
  // Moved into the second region, everything works.
  CHECK(rig.write(0, HvRegisterName::simp, enabled_page(0x200000)) == RegisterAccess::ok);
  CHECK(rig.write(0, HvRegisterName::siefp, enabled_page(0x201000)) == RegisterAccess::ok);
  exec.run_until_idle();
  CHECK(rig.consume(0, 0) == "waits");
  CHECK_FALSE((*port)->signal());
}

TEST_CASE("out-of-RAM: page numbers at the top of the physical address space do not wrap around") {
  DeterministicExecutor exec;
  Rig rig(exec.executor(), config(1, 1, 4));
  const std::uint64_t top = PageReg{}.with_gpn(bits::mask(52)).with_enabled(true).raw();
  CHECK(rig.write(0, HvRegisterName::simp, top) == RegisterAccess::ok);
  CHECK(rig.write(0, HvRegisterName::siefp, top) == RegisterAccess::ok);
  CHECK(rig.write(0, HvRegisterName::scontrol, 1) == RegisterAccess::ok);
  rig.unmask(0, 15);
  CHECK_FALSE(rig.post(0, 15, "waits"));
  exec.run_until_idle();
  CHECK(rig.vp(0).queued_messages(0, 15) == 1);
  auto port = rig.partition().new_guest_event_port(0, 0, 15, 2047);
  REQUIRE(port.has_value());
  CHECK((*port)->signal() == make_error_code(Error::sint_not_ready));
  // Nothing was written at low addresses by a wrapped offset.
  std::array<std::byte, 4096> page0{};
  rig.memory.read(0, page0);
  for (std::byte b : page0) REQUIRE(b == std::byte{0});
}

}  // namespace
}  // namespace softsynic::reliability
