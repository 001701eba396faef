// The reference TSC page and the frequency MSRs (REFERENCE_TSC 0x40000021,
// TSC_FREQUENCY 0x40000022, APIC_FREQUENCY 0x40000023) and the stored-only
// VP assist page MSR (0x40000073).
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "cpu_hooks/reference_time_msrs.h"
#include "harness.h"
#include "synic/defs/cpuid.h"
#include "synic/defs/reference_tsc_page.h"
#include "synic/tsc_source.h"

namespace softsynic::test {
namespace {

constexpr std::uint64_t kTscPage = 0x40000;

HvFeatures with_reference_tsc() {
  HvFeatures f;
  f.reference_tsc = true;
  return f;
}

// What a guest computes from the page (TLFS formula).
std::uint64_t page_time(const ReferenceTscPageHeader& page, std::uint64_t tsc) {
  const auto product = static_cast<std::uint64_t>((static_cast<unsigned __int128>(tsc) * page.scale) >> 64);
  return product + static_cast<std::uint64_t>(page.offset);
}

// A TSC that started counting before reference time 0, at an odd rate.
class OffsetTsc final : public TscSource {
 public:
  OffsetTsc(std::uint64_t hz, std::uint64_t at_zero) : hz_(hz), at_zero_(at_zero) {}
  std::uint64_t tsc_frequency() const override { return hz_; }
  std::uint64_t tsc_at(std::uint64_t t) const override {
    return at_zero_ + static_cast<std::uint64_t>(static_cast<unsigned __int128>(t) * hz_ / kReferenceTicksPerSecond);
  }
  std::uint64_t hz_;
  std::uint64_t at_zero_;
};

}  // namespace

TEST_CASE("reference TSC values: page time equals reference time for a rate that is a multiple of 10 MHz") {
  for (const std::uint64_t hz : {20'000'000ull, 1'000'000'000ull, 3'000'000'000ull, 5'000'000'000ull}) {
    CAPTURE(hz);
    const FixedRateTsc tsc(hz);
    const auto v = reference_tsc_values(tsc);
    REQUIRE(v);
    CHECK(v->offset == 0);
    const ReferenceTscPageHeader page{1, 0, v->scale, v->offset};
    for (const std::uint64_t t : {0ull, 1ull, 9'999ull, 10'000'000ull, 123'456'789'012ull, 1ull << 50})
      CHECK(page_time(page, tsc.tsc_at(t)) == t);
  }
}

TEST_CASE("reference TSC values: other rates and a TSC offset stay within one tick below, never above") {
  const OffsetTsc tsc(2'399'999'999, 987'654'321'000);
  const auto v = reference_tsc_values(tsc);
  REQUIRE(v);
  const ReferenceTscPageHeader page{1, 0, v->scale, v->offset};
  for (std::uint64_t t = 0; t < 50'000'000'000ull; t += 777'777'777) {
    const std::uint64_t got = page_time(page, tsc.tsc_at(t));
    CHECK(got <= t + 1);
    CHECK(got + 1 >= t);
  }
}

TEST_CASE("reference TSC values: a TSC at 10 MHz or slower cannot be expressed") {
  CHECK_FALSE(reference_tsc_values(FixedRateTsc(10'000'000)));
  CHECK_FALSE(reference_tsc_values(FixedRateTsc(1'000'000)));
  CHECK_FALSE(reference_tsc_values(FixedRateTsc(0)));
  CHECK(reference_tsc_values(FixedRateTsc(10'000'001)));
}

TEST_CASE("REFERENCE_TSC: hidden (#GP, CPUID bit 9 clear) until the emulator gives a TSC source") {
  Machine m(HvArch::x86_64, with_reference_tsc());
  std::uint64_t v = 0;
  CHECK(m.x86().rdmsr(0, 0, msr::kReferenceTsc, v) == MsrResult::gp);
  CHECK(m.x86().wrmsr(0, 0, msr::kReferenceTsc, kTscPage | 1) == MsrResult::gp);
  CHECK((m.x86().cpuid(cpuid::kFeaturesLeaf)->eax & cpuid::kAccessPartitionReferenceTsc) == 0);

  const FixedRateTsc tsc(1'000'000'000);
  m.x86().set_tsc_source(&tsc);
  CHECK((m.x86().cpuid(cpuid::kFeaturesLeaf)->eax & cpuid::kAccessPartitionReferenceTsc) != 0);
  CHECK(m.x86().rdmsr(0, 0, msr::kReferenceTsc, v) == MsrResult::ok);
  CHECK(v == 0);
}

TEST_CASE("REFERENCE_TSC: a source without the feature stays hidden") {
  Machine m(HvArch::x86_64);
  const FixedRateTsc tsc(1'000'000'000);
  m.x86().set_tsc_source(&tsc);
  std::uint64_t v = 0;
  CHECK(m.x86().rdmsr(0, 0, msr::kReferenceTsc, v) == MsrResult::gp);
  CHECK((m.x86().cpuid(cpuid::kFeaturesLeaf)->eax & cpuid::kAccessPartitionReferenceTsc) == 0);
}

TEST_CASE("REFERENCE_TSC: enabling writes the page; the MSR reads back as written, from every VP") {
  Machine m(HvArch::x86_64, with_reference_tsc());
  const FixedRateTsc tsc(1'000'000'000);
  m.x86().set_tsc_source(&tsc);
  REQUIRE(m.x86().wrmsr(0, 0, msr::kReferenceTsc, kTscPage | 1) == MsrResult::ok);
  std::uint64_t v = 0;
  CHECK(m.x86().rdmsr(1, 0, msr::kReferenceTsc, v) == MsrResult::ok);
  CHECK(v == (kTscPage | 1));

  const auto page = m.read_as<ReferenceTscPageHeader>(kTscPage);
  CHECK(page.sequence != kReferenceTscSequenceInvalid);
  CHECK(page.sequence != kReferenceTscSequenceReserved);
  CHECK(page.scale == reference_tsc_values(tsc)->scale);
  CHECK(page.offset == 0);
  CHECK(page_time(page, tsc.tsc_at(42'000'000)) == 42'000'000);
}

TEST_CASE("REFERENCE_TSC: reserved bits and a page outside RAM are #GP and change nothing") {
  Machine m(HvArch::x86_64, with_reference_tsc());
  const FixedRateTsc tsc(1'000'000'000);
  m.x86().set_tsc_source(&tsc);
  CHECK(m.x86().wrmsr(0, 0, msr::kReferenceTsc, kTscPage | 1 | 0x10) == MsrResult::gp);
  CHECK(m.x86().wrmsr(0, 0, msr::kReferenceTsc, kOutsideRam | 1) == MsrResult::gp);
  std::uint64_t v = 1;
  REQUIRE(m.x86().rdmsr(0, 0, msr::kReferenceTsc, v) == MsrResult::ok);
  CHECK(v == 0);
  // Disabled, the GPA is only stored (nothing is written there).
  CHECK(m.x86().wrmsr(0, 0, msr::kReferenceTsc, kOutsideRam) == MsrResult::ok);
}

TEST_CASE("REFERENCE_TSC: a mapping change rewrites the page with a new sequence; disabled, it is left alone") {
  Machine m(HvArch::x86_64, with_reference_tsc());
  OffsetTsc tsc(1'000'000'000, 0);
  m.x86().set_tsc_source(&tsc);
  REQUIRE(m.x86().wrmsr(0, 0, msr::kReferenceTsc, kTscPage | 1) == MsrResult::ok);
  const auto before = m.read_as<ReferenceTscPageHeader>(kTscPage);

  tsc.hz_ = 2'000'000'000;
  tsc.at_zero_ = 5'000'000;
  m.x86().tsc_mapping_changed();
  const auto after = m.read_as<ReferenceTscPageHeader>(kTscPage);
  CHECK(after.sequence != before.sequence);
  CHECK(after.sequence != kReferenceTscSequenceInvalid);
  CHECK(after.scale == reference_tsc_values(tsc)->scale);
  CHECK(page_time(after, tsc.tsc_at(77'000'000)) == 77'000'000);

  REQUIRE(m.x86().wrmsr(0, 0, msr::kReferenceTsc, kTscPage) == MsrResult::ok);
  tsc.hz_ = 3'000'000'000;
  m.x86().tsc_mapping_changed();
  CHECK(m.read_as<ReferenceTscPageHeader>(kTscPage).scale == after.scale);
}

TEST_CASE("REFERENCE_TSC: a TSC the page cannot express publishes sequence 0 (use the MSR)") {
  Machine m(HvArch::x86_64, with_reference_tsc());
  const FixedRateTsc slow(5'000'000);
  m.x86().set_tsc_source(&slow);
  REQUIRE(m.x86().wrmsr(0, 0, msr::kReferenceTsc, kTscPage | 1) == MsrResult::ok);
  CHECK(m.read_as<ReferenceTscPageHeader>(kTscPage).sequence == kReferenceTscSequenceInvalid);
}

TEST_CASE("frequency MSRs: read-only, the configured rates, the TSC source's rate when there is one") {
  Machine m(HvArch::x86_64);
  std::uint64_t v = 0;
  REQUIRE(m.x86().rdmsr(0, 0, msr::kTscFrequency, v) == MsrResult::ok);
  CHECK(v == HvConfig{}.tsc_frequency_hz);
  REQUIRE(m.x86().rdmsr(1, 0, msr::kApicFrequency, v) == MsrResult::ok);
  CHECK(v == HvConfig{}.apic_frequency_hz);
  CHECK(m.x86().wrmsr(0, 0, msr::kTscFrequency, 1) == MsrResult::gp);
  CHECK(m.x86().wrmsr(0, 0, msr::kApicFrequency, 1) == MsrResult::gp);

  const FixedRateTsc tsc(2'500'000'000);
  m.x86().set_tsc_source(&tsc);
  REQUIRE(m.x86().rdmsr(0, 0, msr::kTscFrequency, v) == MsrResult::ok);
  CHECK(v == 2'500'000'000);
}

TEST_CASE("frequency MSRs: switched off, #GP and no CPUID bits") {
  HvFeatures f;
  f.frequency_msrs = false;
  Machine m(HvArch::x86_64, f);
  std::uint64_t v = 0;
  CHECK(m.x86().rdmsr(0, 0, msr::kTscFrequency, v) == MsrResult::gp);
  CHECK(m.x86().rdmsr(0, 0, msr::kApicFrequency, v) == MsrResult::gp);
  const auto leaf = *m.x86().cpuid(cpuid::kFeaturesLeaf);
  CHECK((leaf.eax & cpuid::kAccessFrequencyMsrs) == 0);
  CHECK((leaf.edx & cpuid::kFrequencyMsrsAvailable) == 0);
}

TEST_CASE("VP assist page MSR: stored per VP and VTL, read back; reserved bits #GP") {
  Machine m(HvArch::x86_64);
  std::uint64_t v = 1;
  REQUIRE(m.x86().rdmsr(0, 0, msr::kVpAssistPage, v) == MsrResult::ok);
  CHECK(v == 0);
  CHECK(m.x86().wrmsr(0, 0, msr::kVpAssistPage, 0x50000 | 1) == MsrResult::ok);
  CHECK(m.x86().wrmsr(1, 1, msr::kVpAssistPage, 0x51000 | 1) == MsrResult::ok);
  CHECK(m.x86().wrmsr(0, 0, msr::kVpAssistPage, 0x52000 | 2) == MsrResult::gp);
  REQUIRE(m.x86().rdmsr(0, 0, msr::kVpAssistPage, v) == MsrResult::ok);
  CHECK(v == (0x50000 | 1));
  REQUIRE(m.x86().rdmsr(1, 1, msr::kVpAssistPage, v) == MsrResult::ok);
  CHECK(v == (0x51000 | 1));
  REQUIRE(m.x86().rdmsr(1, 0, msr::kVpAssistPage, v) == MsrResult::ok);
  CHECK(v == 0);
  // Nothing is written behind it: the page stays as the guest left it.
  CHECK(m.read_as<std::uint64_t>(0x50000) == 0);
  CHECK(m.x86().wrmsr(0, 2, msr::kVpAssistPage, 0) == MsrResult::gp);  // no VTL 2
}

}  // namespace softsynic::test
