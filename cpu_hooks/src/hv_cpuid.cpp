// Hyper-V CPUID leaves built from the configured features (TLFS "Feature
// and Interface Discovery").
#include "cpu_hooks/hv_cpuid.h"

#include "synic/defs/cpuid.h"

namespace softsynic {

namespace {

// softsynic reports itself as a Hyper-V 10.0 interface; guests only print it.
constexpr std::uint32_t kVersionMajorMinor = 0x000A0000;
// 0x40000004 EBX: spinlock retries before notifying; all ones = never.
constexpr std::uint32_t kNeverNotifyLongSpinWait = 0xFFFFFFFF;

std::uint32_t flag(bool on, std::uint32_t bit) { return on ? bit : 0; }

CpuidResult features_leaf(const HvFeatures& f) {
  using namespace cpuid;
  CpuidResult r;
  r.eax = flag(f.time_ref_count, kAccessPartitionReferenceCounter) | flag(f.synic, kAccessSynicRegs) |
          flag(f.synic && f.stimers, kAccessSyntheticTimerRegs) | flag(f.hypercall, kAccessHypercallMsrs) |
          flag(f.vp_index, kAccessVpIndex) | flag(f.reference_tsc, kAccessPartitionReferenceTsc) |
          flag(f.frequency_msrs, kAccessFrequencyMsrs);
  r.ebx = flag(f.post_messages, kPostMessages) | flag(f.signal_events, kSignalEvents);
  r.edx = flag(f.xmm_fast_hypercalls, kXmmHypercallInput | kCpuidXmmHypercallOutput) |
          flag(f.frequency_msrs, kFrequencyMsrsAvailable) |
          flag(f.guest_crash_msrs, kGuestCrashMsrs) | flag(f.synic && f.sint_polling, kSintPolling) |
          flag(f.synic && f.stimers && f.direct_timers, kDirectSyntheticTimers);
  return r;
}

}  // namespace

std::optional<CpuidResult> hv_cpuid(const HvConfig& config, std::uint32_t vp_count, std::uint32_t leaf) {
  using namespace cpuid;
  const HvFeatures& f = config.features;
  switch (leaf) {
    case kVendorLeaf:
      return CpuidResult{kMaxLeaf, kVendorEbx, kVendorEcx, kVendorEdx};
    case kInterfaceLeaf:
      return CpuidResult{kInterfaceHv1, 0, 0, 0};
    case kVersionLeaf:
      return CpuidResult{0, kVersionMajorMinor, 0, 0};
    case kFeaturesLeaf:
      return features_leaf(f);
    case kEnlightenmentLeaf:
      return CpuidResult{flag(f.deprecate_auto_eoi, kDeprecateAutoEoi), kNeverNotifyLongSpinWait, 0, 0};
    case kLimitsLeaf:
      return CpuidResult{vp_count, 0, 0, 0};
    case kHardwareFeaturesLeaf:
      return CpuidResult{};
    default:
      return std::nullopt;
  }
}

}  // namespace softsynic
