// SynIC registers: reset values, read/write rules, reserved bits, the
// vector rule, page zeroing and per-VTL independence.
#include <doctest/doctest.h>

#include <array>

#include "tests/synic/harness.h"

using namespace softsynic;
using softsynic::test::Harness;

namespace {

constexpr std::array kPageRegisters = {HvRegisterName::simp, HvRegisterName::siefp};

void fill(Harness& h, std::uint64_t gpa, std::byte value) {
  std::array<std::byte, 4096> page;
  page.fill(value);
  REQUIRE(h.memory.write(gpa, page));
}

bool page_is(Harness& h, std::uint64_t gpa, std::byte value) {
  std::array<std::byte, 4096> page{};
  REQUIRE(h.memory.read(gpa, page));
  for (auto b : page)
    if (b != value) return false;
  return true;
}

}  // namespace

TEST_CASE("registers: every VTL starts at the architected reset values") {
  Harness h(test::config(1, 3));
  for (Vtl vtl = 0; vtl < 3; ++vtl) {
    CAPTURE(vtl);
    CHECK(h.read(HvRegisterName::scontrol, vtl) == 0);
    CHECK(h.read(HvRegisterName::sversion, vtl) == 1);
    CHECK(h.read(HvRegisterName::siefp, vtl) == 0);
    CHECK(h.read(HvRegisterName::simp, vtl) == 0);
    CHECK(h.read(HvRegisterName::eom, vtl) == 0);
    for (unsigned n = 0; n < kSintCount; ++n) CHECK(h.read(sint_register(n), vtl) == 0x10000);
  }
}

TEST_CASE("registers: SVERSION write is invalid and the value stays 1") {
  Harness h;
  for (std::uint64_t v : {0ull, 1ull, 2ull, ~0ull}) CHECK(h.write(HvRegisterName::sversion, v) == RegisterAccess::invalid);
  CHECK(h.read(HvRegisterName::sversion) == kSversionValue);
}

TEST_CASE("registers: EOM accepts any write and reads 0") {
  Harness h;
  for (std::uint64_t v : {0ull, 1ull, ~0ull}) {
    CHECK(h.write(HvRegisterName::eom, v) == RegisterAccess::ok);
    CHECK(h.read(HvRegisterName::eom) == 0);
  }
}

TEST_CASE("registers: SCONTROL accepts only the enable bit") {
  Harness h;
  for (unsigned bit = 0; bit < 64; ++bit) {
    CAPTURE(bit);
    const std::uint64_t v = std::uint64_t{1} << bit;
    if (bit == 0) {
      CHECK(h.write(HvRegisterName::scontrol, v) == RegisterAccess::ok);
      CHECK(h.read(HvRegisterName::scontrol) == 1);
      CHECK(h.vp().scontrol(0).enabled());
    } else {
      CHECK(h.write(HvRegisterName::scontrol, v | 1) == RegisterAccess::invalid);
      CHECK(h.read(HvRegisterName::scontrol) == 1);
    }
  }
}

TEST_CASE("registers: SIMP and SIEFP reserve bits 1-11") {
  for (auto name : kPageRegisters) {
    Harness h;
    CAPTURE(register_name(name));
    for (unsigned bit = 0; bit < 64; ++bit) {
      CAPTURE(bit);
      const std::uint64_t v = std::uint64_t{1} << bit;
      const bool reserved = bit >= 1 && bit <= 11;
      // Only bit 0 enables, and then at GPN 0 (inside RAM).
      CHECK(h.write(name, v) == (reserved ? RegisterAccess::invalid : RegisterAccess::ok));
      CHECK(h.read(name) == (reserved ? 0 : v));
      h.write(name, 0);
    }
  }
}

TEST_CASE("registers: SINT keeps its defined bits and rejects reserved ones") {
  Harness h;
  for (unsigned bit = 0; bit < 64; ++bit) {
    CAPTURE(bit);
    const std::uint64_t value = SintReg::kReset | (std::uint64_t{1} << bit);  // masked: the vector rule is off
    const bool defined = (SintReg::kDefinedBits >> bit) & 1;
    CHECK(h.write(sint_register(4), value) == (defined ? RegisterAccess::ok : RegisterAccess::invalid));
    CHECK(h.read(sint_register(4)) == (defined ? value : SintReg::kReset));
    h.write(sint_register(4), SintReg::kReset);
  }
}

TEST_CASE("registers: SINT fields read back through the snapshot") {
  Harness h;
  const auto v = SintReg{}.with_masked(false).with_vector(0x93).with_auto_eoi(true).with_polling(true);
  CHECK(h.write(sint_register(15), v.raw()) == RegisterAccess::ok);
  const SintReg s = h.vp().sint(0, 15);
  CHECK(s == v);
  CHECK(s.vector() == 0x93);
  CHECK(s.auto_eoi());
  CHECK(s.polling());
  CHECK_FALSE(s.masked());
}

TEST_CASE("registers: an unmasked SINT vector below 16 is invalid; masked it is accepted") {
  Harness h;
  for (unsigned vector = 0; vector < 256; ++vector) {
    CAPTURE(vector);
    const auto masked = SintReg{}.with_vector(static_cast<std::uint8_t>(vector));
    CHECK(h.write(sint_register(1), masked.raw()) == RegisterAccess::ok);
    const auto unmasked = masked.with_masked(false);
    const bool allowed = vector >= 16;
    CHECK(h.write(sint_register(1), unmasked.raw()) == (allowed ? RegisterAccess::ok : RegisterAccess::invalid));
    CHECK(h.read(sint_register(1)) == (allowed ? unmasked.raw() : masked.raw()));
  }
}

TEST_CASE("registers: enabling a SIMP or SIEFP zeroes the page; rewriting or disabling leaves it") {
  for (auto name : kPageRegisters) {
    CAPTURE(register_name(name));
    Harness h;
    const std::uint64_t a = 0x30000, b = 0x31000;
    fill(h, a, std::byte{0xAB});
    fill(h, b, std::byte{0xCD});

    CHECK(h.write(name, Harness::enabled_page(a)) == RegisterAccess::ok);
    CHECK(page_is(h, a, std::byte{0}));

    fill(h, a, std::byte{0xAB});
    CHECK(h.write(name, Harness::enabled_page(a)) == RegisterAccess::ok);  // same value: no change
    CHECK(page_is(h, a, std::byte{0xAB}));

    CHECK(h.write(name, Harness::enabled_page(b)) == RegisterAccess::ok);  // move while enabled
    CHECK(page_is(h, b, std::byte{0}));
    CHECK(page_is(h, a, std::byte{0xAB}));

    fill(h, b, std::byte{0xCD});
    CHECK(h.write(name, PageReg{}.with_gpn(b >> 12).raw()) == RegisterAccess::ok);  // disable
    CHECK(page_is(h, b, std::byte{0xCD}));
    CHECK(h.write(name, PageReg{}.with_gpn(a >> 12).raw()) == RegisterAccess::ok);  // move while disabled
    CHECK(page_is(h, a, std::byte{0xAB}));
    CHECK(h.errors.empty());
  }
}

TEST_CASE("registers: a page outside guest RAM is accepted and reported") {
  for (auto name : kPageRegisters) {
    CAPTURE(register_name(name));
    Harness h;
    const auto value = Harness::enabled_page(test::kOutsideRam);
    CHECK(h.write(name, value) == RegisterAccess::ok);
    CHECK(h.read(name) == value);
    CHECK(h.errors.size() == 1);
  }
}

TEST_CASE("registers: each VTL has its own register set") {
  Harness h(test::config(1, 3));
  const auto sint = Harness::sint_value(3);
  CHECK(h.write(sint_register(3), sint.raw(), 1) == RegisterAccess::ok);
  CHECK(h.write(HvRegisterName::scontrol, 1, 2) == RegisterAccess::ok);
  CHECK(h.write(HvRegisterName::simp, Harness::enabled_page(Harness::simp_gpa(0)), 0) == RegisterAccess::ok);
  CHECK(h.read(sint_register(3), 0) == SintReg::kReset);
  CHECK(h.read(sint_register(3), 1) == sint.raw());
  CHECK(h.read(sint_register(3), 2) == SintReg::kReset);
  CHECK(h.read(HvRegisterName::scontrol, 0) == 0);
  CHECK(h.read(HvRegisterName::scontrol, 1) == 0);
  CHECK(h.read(HvRegisterName::scontrol, 2) == 1);
  CHECK(h.read(HvRegisterName::simp, 1) == 0);
  CHECK(h.read(HvRegisterName::simp, 2) == 0);
  CHECK(h.vp().simp(0).enabled());
}

TEST_CASE("registers: a VTL at or above vtl_count is invalid") {
  Harness h(test::config(1, 2));
  std::uint64_t value = 0;
  CHECK(h.vp().read_register(2, HvRegisterName::scontrol, value) == RegisterAccess::invalid);
  CHECK(h.vp().write_register(2, HvRegisterName::scontrol, 1) == RegisterAccess::invalid);
  CHECK(h.vp().write_register(2, sint_register(0), SintReg::kReset) == RegisterAccess::invalid);
  CHECK(h.vp().read_register(1, HvRegisterName::scontrol, value) == RegisterAccess::ok);
}

TEST_CASE("registers: timer, identity and unknown names belong to other components") {
  Harness h;
  std::vector<HvRegisterName> names = {HvRegisterName::guest_os_id, HvRegisterName::vp_index,
                                       HvRegisterName::time_ref_count, HvRegisterName(0x000A0015),
                                       HvRegisterName(0xDEADBEEF), HvRegisterName(0)};
  for (unsigned n = 0; n < msr::kStimerCount; ++n) {
    names.push_back(stimer_config_register(n));
    names.push_back(stimer_count_register(n));
  }
  for (auto name : names) {
    CAPTURE(static_cast<std::uint32_t>(name));
    std::uint64_t value = 0;
    CHECK(h.vp().read_register(0, name, value) == RegisterAccess::unknown);
    CHECK(h.vp().write_register(0, name, 0) == RegisterAccess::unknown);
    CHECK(h.vp().read_register(7, name, value) == RegisterAccess::unknown);
  }
}

TEST_CASE("registers: every SynIC MSR maps to a register the core owns") {
  Harness h;
  for (std::uint32_t m : {msr::kScontrol, msr::kSversion, msr::kSiefp, msr::kSimp, msr::kEom}) {
    CAPTURE(m);
    const auto name = register_for_msr(m);
    REQUIRE(name);
    std::uint64_t value = 0;
    CHECK(h.vp().read_register(0, *name, value) == RegisterAccess::ok);
  }
  for (std::uint32_t n = 0; n < msr::kSintCount; ++n) CHECK(register_for_msr(msr::kSint0 + n) == sint_register(n));
}
