// x86-64 MSRs: GUEST_OS_ID and the hypercall page, read-only registers,
// the SynIC MSRs, feature switches and the handler chain.
#include <doctest/doctest.h>

#include "harness.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"

namespace softsynic::test {
namespace {

constexpr std::uint64_t kLinuxGuestOsId = 0x8100'0000'0000'0000;  // "open source" bit set

std::uint64_t rd(Machine& m, std::uint32_t msr, std::uint32_t vp = 0, Vtl vtl = 0) {
  std::uint64_t v = 0xBAD;
  REQUIRE(m.x86().rdmsr(vp, vtl, msr, v) == MsrResult::ok);
  return v;
}

MsrResult wr(Machine& m, std::uint32_t msr, std::uint64_t value, std::uint32_t vp = 0, Vtl vtl = 0) {
  return m.x86().wrmsr(vp, vtl, msr, value);
}

const std::uint64_t kEnablePage = HypercallReg{}.with_gpn(kHypercallPage >> 12).with_enabled(true).raw();

TEST_CASE("hypercall page: enabling it after GUEST_OS_ID fills it for the configured vendor") {
  for (const X86Vendor vendor : {X86Vendor::intel, X86Vendor::amd}) {
    INFO(std::string(vendor == X86Vendor::intel ? "intel" : "amd"));
    Machine m(HvArch::x86_64, {}, vendor);
    std::vector<std::pair<Vtl, std::optional<std::uint64_t>>> changes;
    m.x86().set_hypercall_page_listener([&](Vtl vtl, std::optional<std::uint64_t> gpa) { changes.push_back({vtl, gpa}); });

    CHECK(wr(m, msr::kGuestOsId, kLinuxGuestOsId) == MsrResult::ok);
    CHECK(rd(m, msr::kGuestOsId, 1) == kLinuxGuestOsId);  // partition-wide
    CHECK(wr(m, msr::kHypercall, kEnablePage) == MsrResult::ok);
    CHECK(rd(m, msr::kHypercall) == kEnablePage);
    CHECK(m.x86().hypercall_page_gpa() == kHypercallPage);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].second == kHypercallPage);

    const auto page = m.read(kHypercallPage, kHvPageSize);
    const std::vector<std::byte> expect_start =
        vendor == X86Vendor::intel
            ? std::vector<std::byte>{std::byte{0x0F}, std::byte{0x01}, std::byte{0xC1}, std::byte{0xC3}}
            : std::vector<std::byte>{std::byte{0x0F}, std::byte{0x01}, std::byte{0xD9}, std::byte{0xC3}};
    CHECK(std::vector<std::byte>(page.begin(), page.begin() + 4) == expect_start);
    for (std::size_t i = 4; i < page.size(); ++i)
      if (page[i] != std::byte{0xCC}) FAIL("byte " << i << " is not int3");
  }
}

TEST_CASE("hypercall page: enabling before GUEST_OS_ID is kept with the enable bit clear") {
  Machine m(HvArch::x86_64);
  CHECK(wr(m, msr::kHypercall, kEnablePage) == MsrResult::ok);
  CHECK(rd(m, msr::kHypercall) == HypercallReg(kEnablePage).with_enabled(false).raw());
  CHECK_FALSE(m.x86().hypercall_page_gpa().has_value());
  CHECK(m.read(kHypercallPage, 4) == std::vector<std::byte>(4, std::byte{0}));  // not filled
}

TEST_CASE("hypercall page: reserved bits 2-11 raise #GP") {
  Machine m(HvArch::x86_64);
  CHECK(wr(m, msr::kGuestOsId, kLinuxGuestOsId) == MsrResult::ok);
  for (unsigned bit = 2; bit < 12; ++bit) {
    INFO(std::string("bit ") << bit);
    CHECK(wr(m, msr::kHypercall, kEnablePage | (std::uint64_t{1} << bit)) == MsrResult::gp);
  }
  CHECK(rd(m, msr::kHypercall) == 0);
}

TEST_CASE("hypercall page: once locked every write raises #GP") {
  Machine m(HvArch::x86_64);
  CHECK(wr(m, msr::kGuestOsId, kLinuxGuestOsId) == MsrResult::ok);
  const std::uint64_t locked = HypercallReg(kEnablePage).with_locked(true).raw();
  CHECK(wr(m, msr::kHypercall, locked) == MsrResult::ok);
  CHECK(wr(m, msr::kHypercall, locked) == MsrResult::gp);
  CHECK(wr(m, msr::kHypercall, 0) == MsrResult::gp);
  CHECK(rd(m, msr::kHypercall) == locked);
  CHECK(m.x86().hypercall_msr() == locked);
}

TEST_CASE("hypercall page: GUEST_OS_ID = 0 turns it off") {
  Machine m(HvArch::x86_64);
  std::vector<std::optional<std::uint64_t>> changes;
  m.x86().set_hypercall_page_listener([&](Vtl, std::optional<std::uint64_t> gpa) { changes.push_back(gpa); });
  CHECK(wr(m, msr::kGuestOsId, kLinuxGuestOsId) == MsrResult::ok);
  CHECK(wr(m, msr::kHypercall, kEnablePage) == MsrResult::ok);
  CHECK(wr(m, msr::kGuestOsId, 0) == MsrResult::ok);
  CHECK_FALSE(HypercallReg(rd(m, msr::kHypercall)).enabled());
  CHECK_FALSE(m.x86().hypercall_page_gpa().has_value());
  REQUIRE(changes.size() == 2);
  CHECK_FALSE(changes[1].has_value());
}

TEST_CASE("hypercall page: a page outside RAM raises #GP and changes nothing") {
  Machine m(HvArch::x86_64);
  CHECK(wr(m, msr::kGuestOsId, kLinuxGuestOsId) == MsrResult::ok);
  CHECK(wr(m, msr::kHypercall, HypercallReg{}.with_gpn(kOutsideRam >> 12).with_enabled(true).raw()) == MsrResult::gp);
  CHECK(rd(m, msr::kHypercall) == 0);
}

TEST_CASE("hypercall page: one per VTL") {
  Machine m(HvArch::x86_64);
  CHECK(wr(m, msr::kGuestOsId, kLinuxGuestOsId, 0, 1) == MsrResult::ok);
  CHECK(wr(m, msr::kHypercall, kEnablePage, 0, 1) == MsrResult::ok);
  CHECK(m.x86().hypercall_page_gpa(1) == kHypercallPage);
  CHECK_FALSE(m.x86().hypercall_page_gpa(0).has_value());
  CHECK(rd(m, msr::kGuestOsId, 0, 0) == 0);
}

TEST_CASE("VP_INDEX and TIME_REF_COUNT are read-only") {
  Machine m(HvArch::x86_64);
  CHECK(rd(m, msr::kVpIndex, 1) == 1);
  CHECK(wr(m, msr::kVpIndex, 0, 1) == MsrResult::gp);
  m.clock.set(10'000'000);
  CHECK(rd(m, msr::kTimeRefCount) == 10'000'000);
  m.clock.advance(5);
  CHECK(rd(m, msr::kTimeRefCount) == 10'000'005);
  CHECK(wr(m, msr::kTimeRefCount, 0) == MsrResult::gp);
}

TEST_CASE("SynIC MSRs reach the VP's SynIC; invalid accesses raise #GP") {
  Machine m(HvArch::x86_64);
  CHECK(rd(m, msr::kSversion) == kSversionValue);
  CHECK(wr(m, msr::kSversion, 1) == MsrResult::gp);
  CHECK(rd(m, msr::kSint0 + 4) == SintReg::kReset);
  const std::uint64_t sint = SintReg{}.with_vector(0x40).with_masked(false).raw();
  CHECK(wr(m, msr::kSint0 + 4, sint, 1) == MsrResult::ok);
  CHECK(m.partition.vp(1).sint(0, 4).raw() == sint);
  CHECK(rd(m, msr::kSint0 + 4, 1) == sint);
  CHECK(wr(m, msr::kSint0 + 4, sint | (1u << 24), 1) == MsrResult::gp);  // reserved bit
  CHECK(wr(m, msr::kSint0 + 4, SintReg{}.with_vector(3).with_masked(false).raw()) == MsrResult::gp);
  CHECK(rd(m, msr::kEom) == 0);
  CHECK(wr(m, msr::kEom, 0) == MsrResult::ok);
  CHECK(wr(m, msr::kScontrol, 1) == MsrResult::ok);
  CHECK(m.partition.vp(0).scontrol(0).enabled());
}

class DeviceMsrs final : public MsrHandler {
 public:
  MsrResult read(std::uint32_t, Vtl, std::uint32_t msr, std::uint64_t& value) override {
    seen.push_back(msr);
    if (msr != kMine) return MsrResult::not_mine;
    value = 77;
    return MsrResult::ok;
  }
  MsrResult write(std::uint32_t, Vtl, std::uint32_t msr, std::uint64_t) override {
    seen.push_back(msr);
    return msr == kMine ? MsrResult::ok : MsrResult::not_mine;
  }
  static constexpr std::uint32_t kMine = 0x1B;  // IA32_APIC_BASE, say
  std::vector<std::uint32_t> seen;
};

TEST_CASE("MSR chain: not_mine falls through to the emulator's handlers, then off the end") {
  Machine m(HvArch::x86_64);
  DeviceMsrs device;
  m.x86().msr_chain().append(device);
  std::uint64_t v = 0;
  CHECK(m.x86().rdmsr(0, 0, DeviceMsrs::kMine, v) == MsrResult::ok);
  CHECK(v == 77);
  CHECK(m.x86().wrmsr(0, 0, 0x10, 1) == MsrResult::not_mine);         // nobody's
  CHECK(m.x86().rdmsr(0, 0, msr::kApicEoi, v) == MsrResult::not_mine);  // the APIC's, not ours
  CHECK(m.x86().rdmsr(0, 0, msr::kScontrol, v) == MsrResult::ok);     // answered before the device
  CHECK(m.x86().wrmsr(0, 0, msr::kSversion, 5) == MsrResult::gp);     // #GP stops the chain
  CHECK(device.seen == std::vector<std::uint32_t>{DeviceMsrs::kMine, 0x10, msr::kApicEoi});
}

TEST_CASE("STIMER MSRs: #GP while the feature is off, not_mine (the timers' seam) when on") {
  {
    Machine m(HvArch::x86_64);
    std::uint64_t v = 0;
    CHECK(m.x86().rdmsr(0, 0, msr::kStimer0Config, v) == MsrResult::gp);
    CHECK(m.x86().wrmsr(0, 0, msr::kStimer0Count + 6, 1) == MsrResult::gp);
  }
  {
    HvFeatures f;
    f.stimers = true;
    Machine m(HvArch::x86_64, f);
    std::uint64_t v = 0;
    CHECK(m.x86().rdmsr(0, 0, msr::kStimer0Config, v) == MsrResult::not_mine);
  }
}

TEST_CASE("MSRs of switched-off features raise #GP") {
  struct Row {
    const char* feature;
    std::uint32_t msr;
  };
  const Row rows[] = {
      {"synic", msr::kScontrol},      {"synic", msr::kSimp},         {"synic", msr::kSint0 + 2},
      {"synic", msr::kEom},           {"hypercall", msr::kGuestOsId}, {"hypercall", msr::kHypercall},
      {"vp_index", msr::kVpIndex},    {"time_ref_count", msr::kTimeRefCount},
  };
  for (const Row& row : rows) {
    INFO(std::string(row.feature) << " " << msr_name(row.msr));
    HvFeatures f;
    REQUIRE(set_hv_feature(f, row.feature, false));
    Machine m(HvArch::x86_64, f);
    std::uint64_t v = 0;
    CHECK(m.x86().rdmsr(0, 0, row.msr, v) == MsrResult::gp);
    CHECK(m.x86().wrmsr(0, 0, row.msr, 0) == MsrResult::gp);
    Machine on(HvArch::x86_64);
    CHECK(on.x86().rdmsr(0, 0, row.msr, v) == MsrResult::ok);
  }
}

}  // namespace
}  // namespace softsynic::test
