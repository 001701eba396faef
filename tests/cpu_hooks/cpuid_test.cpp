// CPUID leaves 0x40000000-0x40000006 built from the configured features.
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <string>

#include "cpu_hooks/hv_cpuid.h"
#include "harness.h"
#include "synic/defs/cpuid.h"

namespace softsynic::test {
namespace {

CpuidResult leaf(const HvFeatures& f, std::uint32_t l) {
  HvConfig c;
  c.features = f;
  const auto r = hv_cpuid(c, 2, l);
  REQUIRE(r.has_value());
  return *r;
}

TEST_CASE("cpuid: signature, interface and limits") {
  Machine m(HvArch::x86_64);
  const auto vendor = m.x86().cpuid(cpuid::kVendorLeaf);
  REQUIRE(vendor);
  CHECK(vendor->eax >= 0x40000005);
  char sig[13] = {};
  std::memcpy(sig, &vendor->ebx, 4);
  std::memcpy(sig + 4, &vendor->ecx, 4);
  std::memcpy(sig + 8, &vendor->edx, 4);
  CHECK(std::string(sig) == "Microsoft Hv");
  const auto iface = m.x86().cpuid(cpuid::kInterfaceLeaf);
  REQUIRE(iface);
  CHECK(std::string(reinterpret_cast<const char*>(&iface->eax), 4) == "Hv#1");
  CHECK(m.x86().cpuid(cpuid::kLimitsLeaf)->eax == 2);  // the partition's VP count
  for (std::uint32_t l = cpuid::kVendorLeaf; l <= cpuid::kMaxLeaf; ++l) CHECK(m.x86().cpuid(l).has_value());
  CHECK_FALSE(m.x86().cpuid(cpuid::kMaxLeaf + 1).has_value());
  CHECK_FALSE(m.x86().cpuid(0x3FFFFFFF).has_value());
  CHECK_FALSE(m.x86().cpuid(1).has_value());
}

TEST_CASE("cpuid: the default features give what the Linux driver requires") {
  const CpuidResult f = leaf({}, cpuid::kFeaturesLeaf);
  CHECK((f.eax & cpuid::kAccessHypercallMsrs) != 0);
  CHECK((f.eax & cpuid::kAccessVpIndex) != 0);
  CHECK((f.eax & cpuid::kAccessSynicRegs) != 0);
  CHECK((f.eax & cpuid::kAccessPartitionReferenceCounter) != 0);
  CHECK((f.eax & cpuid::kAccessSyntheticTimerRegs) == 0);  // timers are off by default
  CHECK((f.eax & cpuid::kAccessPartitionReferenceTsc) == 0);  // needs the emulator's TSC source
  CHECK((f.eax & cpuid::kAccessFrequencyMsrs) != 0);
  CHECK(f.ebx == (cpuid::kPostMessages | cpuid::kSignalEvents));
  CHECK(f.edx ==
        (cpuid::kXmmHypercallInput | kCpuidXmmHypercallOutput | cpuid::kFrequencyMsrsAvailable | cpuid::kGuestCrashMsrs | cpuid::kSintPolling));
  CHECK((leaf({}, cpuid::kEnlightenmentLeaf).eax & cpuid::kDeprecateAutoEoi) == 0);
}

TEST_CASE("cpuid: each feature switch changes exactly its own bits") {
  struct Row {
    const char* feature;
    bool on;  // the value the row sets
    std::uint32_t leaf;
    std::array<std::uint32_t, 4> diff;  // bits that change in EAX, EBX, ECX, EDX
  };
  const Row rows[] = {
      // SINT polling is a SynIC feature: it goes away with the SynIC.
      {"synic", false, cpuid::kFeaturesLeaf, {cpuid::kAccessSynicRegs, 0, 0, cpuid::kSintPolling}},
      {"hypercall", false, cpuid::kFeaturesLeaf, {cpuid::kAccessHypercallMsrs, 0, 0, 0}},
      {"vp_index", false, cpuid::kFeaturesLeaf, {cpuid::kAccessVpIndex, 0, 0, 0}},
      {"time_ref_count", false, cpuid::kFeaturesLeaf, {cpuid::kAccessPartitionReferenceCounter, 0, 0, 0}},
      {"post_messages", false, cpuid::kFeaturesLeaf, {0, cpuid::kPostMessages, 0, 0}},
      {"signal_events", false, cpuid::kFeaturesLeaf, {0, cpuid::kSignalEvents, 0, 0}},
      {"xmm_fast_hypercalls", false, cpuid::kFeaturesLeaf,
       {0, 0, 0, cpuid::kXmmHypercallInput | kCpuidXmmHypercallOutput}},
      {"sint_polling", false, cpuid::kFeaturesLeaf, {0, 0, 0, cpuid::kSintPolling}},
      {"stimers", true, cpuid::kFeaturesLeaf, {cpuid::kAccessSyntheticTimerRegs, 0, 0, 0}},
      {"deprecate_auto_eoi", true, cpuid::kEnlightenmentLeaf, {cpuid::kDeprecateAutoEoi, 0, 0, 0}},
      {"frequency_msrs", false, cpuid::kFeaturesLeaf,
       {cpuid::kAccessFrequencyMsrs, 0, 0, cpuid::kFrequencyMsrsAvailable}},
      {"reference_tsc", true, cpuid::kFeaturesLeaf, {cpuid::kAccessPartitionReferenceTsc, 0, 0, 0}},
  };
  for (const Row& row : rows) {
    INFO(std::string(row.feature));
    HvFeatures f;
    REQUIRE(set_hv_feature(f, row.feature, row.on));
    const CpuidResult base = leaf({}, row.leaf);
    const CpuidResult changed = leaf(f, row.leaf);
    CHECK((base.eax ^ changed.eax) == row.diff[0]);
    CHECK((base.ebx ^ changed.ebx) == row.diff[1]);
    CHECK((base.ecx ^ changed.ecx) == row.diff[2]);
    CHECK((base.edx ^ changed.edx) == row.diff[3]);
  }
}

TEST_CASE("cpuid: direct-mode timers need the timers") {
  HvFeatures f;
  f.direct_timers = true;
  CHECK((leaf(f, cpuid::kFeaturesLeaf).edx & cpuid::kDirectSyntheticTimers) == 0);
  f.stimers = true;
  CHECK((leaf(f, cpuid::kFeaturesLeaf).edx & cpuid::kDirectSyntheticTimers) != 0);
}

TEST_CASE("feature switches by name") {
  HvFeatures f;
  CHECK(set_hv_feature(f, "sint_polling", false));
  CHECK_FALSE(f.sint_polling);
  CHECK(get_hv_feature(f, "sint_polling") == false);
  CHECK(get_hv_feature(f, "synic") == true);
  CHECK_FALSE(set_hv_feature(f, "warp_drive", true));
  CHECK_FALSE(get_hv_feature(f, "warp_drive").has_value());
  CHECK(hv_feature_names().size() == 14);
  for (const HvFeatureName& n : hv_feature_names()) {
    HvFeatures g;
    CHECK(set_hv_feature(g, n.name, !(g.*(n.member))));
    CHECK_FALSE(g == HvFeatures{});
  }
}

}  // namespace
}  // namespace softsynic::test
