// Guest event ports: SIEFP test-and-set, 0 -> 1 interrupts, flag range,
// readiness, masked and polling SINTs, retargeting.
#include <doctest/doctest.h>

#include <functional>

#include "tests/synic/harness.h"

using namespace softsynic;
using softsynic::test::Harness;
using softsynic::test::Interrupt;

namespace {
std::unique_ptr<GuestEventPort> port(Harness& h, std::uint8_t sint, std::uint16_t flag, std::uint32_t vp = 0,
                                     Vtl vtl = 0) {
  auto r = h.partition().new_guest_event_port(vtl, vp, sint, flag);
  REQUIRE(r.has_value());
  return std::move(*r);
}
}  // namespace

TEST_CASE("events: the first signal sets the flag and raises; a second coalesces without an interrupt") {
  Harness h;
  h.ready(2);
  auto p = port(h, 2, 5);
  CHECK(p->signal() == boost::system::error_code{});
  CHECK(h.flag_word(2, 5) == (1u << 5));
  CHECK(h.interrupts == std::vector{Interrupt{0, 0, test::kVectorBase + 2u, false}});
  CHECK(p->signal() == make_error_code(Error::flag_already_set));
  CHECK(h.interrupts.size() == 1);
}

TEST_CASE("events: after the guest clears the flag the next signal raises again") {
  Harness h;
  h.ready(2);
  auto p = port(h, 2, 70);
  CHECK_FALSE(p->signal());
  const std::uint64_t zero = 0;
  h.memory.write(Harness::siefp_gpa() + 2 * kEventFlagsSlotSize + 8, std::as_bytes(std::span(&zero, 1)));
  CHECK_FALSE(p->signal());
  CHECK(h.interrupts.size() == 2);
}

TEST_CASE("events: flags 0..2047 map onto the bits of the SINT's 256-byte SIEFP slot") {
  for (std::uint8_t sint : {0, 9, 15}) {
    for (std::uint16_t flag : {0, 1, 63, 64, 1000, 2047}) {
      CAPTURE(sint);
      CAPTURE(flag);
      Harness h;
      h.ready(sint);
      CHECK_FALSE(port(h, sint, flag)->signal());
      CHECK(h.flag_word(sint, flag) == std::uint64_t{1} << (flag % 64));
      // Nothing else in the page changed.
      std::uint64_t total_bits = 0;
      for (unsigned w = 0; w < 4096 / 8; ++w) {
        std::uint64_t v = 0;
        h.memory.read(Harness::siefp_gpa() + w * 8, std::as_writable_bytes(std::span(&v, 1)));
        total_bits += static_cast<std::uint64_t>(__builtin_popcountll(v));
      }
      CHECK(total_bits == 1);
    }
  }
}

TEST_CASE("events: new_guest_event_port checks its target") {
  struct Case {
    Vtl vtl;
    std::uint32_t vp;
    std::uint8_t sint;
    std::uint16_t flag;
    Error expected;
  };
  const Case cases[] = {
      {0, 0, 0, 2047, Error::ok},           {0, 0, 0, 2048, Error::invalid_flag},
      {0, 0, 0, 0xFFFF, Error::invalid_flag}, {0, 0, 16, 0, Error::invalid_sint},
      {0, 2, 0, 0, Error::invalid_vp},      {1, 0, 0, 0, Error::invalid_vtl},
  };
  Harness h;
  for (const auto& c : cases) {
    CAPTURE(error_name(c.expected));
    auto r = h.partition().new_guest_event_port(c.vtl, c.vp, c.sint, c.flag);
    if (c.expected == Error::ok) {
      REQUIRE(r.has_value());
      CHECK((*r)->target().flag == c.flag);
    } else {
      REQUIRE(r.has_error());
      CHECK(r.error() == make_error_code(c.expected));
    }
  }
}

TEST_CASE("events: a SINT whose SCONTROL or SIEFP is disabled, or whose SIEFP is not RAM, is not ready") {
  const std::pair<const char*, std::function<void(Harness&)>> cases[] = {
      {"SCONTROL disabled", [](Harness& h) { h.write(HvRegisterName::scontrol, 0); }},
      {"SIEFP disabled", [](Harness& h) { h.write(HvRegisterName::siefp, 0); }},
      {"SIEFP outside RAM", [](Harness& h) { h.write(HvRegisterName::siefp, Harness::enabled_page(test::kOutsideRam)); }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.first);
    Harness h;
    h.ready(1);
    c.second(h);
    CHECK(port(h, 1, 3)->signal() == make_error_code(Error::sint_not_ready));
    CHECK(h.flag_word(1, 3) == 0);
    CHECK(h.interrupts.empty());
  }
}

TEST_CASE("events: a masked or polling SINT gets the flag but no interrupt") {
  for (bool polling : {false, true}) {
    CAPTURE(polling);
    Harness h;
    h.enable();
    if (polling) h.unmask(4, 0, 0, false, true);
    CHECK_FALSE(port(h, 4, 9)->signal());
    CHECK(h.flag_word(4, 9) == (1u << 9));
    CHECK(h.interrupts.empty());
  }
}

TEST_CASE("events: the interrupt carries the SINT's auto-EOI setting") {
  Harness h;
  h.ready(3, 0, 0, true);
  CHECK_FALSE(port(h, 3, 0)->signal());
  CHECK(h.interrupts == std::vector{Interrupt{0, 0, test::kVectorBase + 3u, true}});
}

TEST_CASE("events: retargeting moves the port to another VP") {
  Harness h;
  h.ready(2, 0, 0);
  h.ready(2, 0, 1);
  auto p = port(h, 2, 1);
  CHECK_FALSE(p->set_target_vp(1));
  CHECK(p->target().vp == 1);
  CHECK_FALSE(p->signal());
  CHECK(h.flag_word(2, 1, 0, 1) == 2);
  CHECK(h.flag_word(2, 1, 0, 0) == 0);
  CHECK(h.interrupts == std::vector{Interrupt{1, 0, test::kVectorBase + 2u, false}});
  CHECK(p->set_target_vp(2) == make_error_code(Error::invalid_vp));
  CHECK(p->target().vp == 1);
}

TEST_CASE("events: a guest event port of a VTL uses that VTL's SIEFP") {
  Harness h(test::config(1, 2));
  h.ready(0, 1);
  CHECK_FALSE(port(h, 0, 2, 0, 1)->signal());
  CHECK(h.flag_word(0, 2, 1) == 4);
  CHECK(h.interrupts == std::vector{Interrupt{0, 1, test::kVectorBase, false}});
}
