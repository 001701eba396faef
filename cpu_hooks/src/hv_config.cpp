// Feature switches by name.
#include "cpu_hooks/hv_config.h"

namespace softsynic {

namespace {
constexpr HvFeatureName kFeatureNames[] = {
    {"synic", &HvFeatures::synic},
    {"stimers", &HvFeatures::stimers},
    {"direct_timers", &HvFeatures::direct_timers},
    {"hypercall", &HvFeatures::hypercall},
    {"vp_index", &HvFeatures::vp_index},
    {"time_ref_count", &HvFeatures::time_ref_count},
    {"post_messages", &HvFeatures::post_messages},
    {"signal_events", &HvFeatures::signal_events},
    {"xmm_fast_hypercalls", &HvFeatures::xmm_fast_hypercalls},
    {"sint_polling", &HvFeatures::sint_polling},
    {"deprecate_auto_eoi", &HvFeatures::deprecate_auto_eoi},
    {"frequency_msrs", &HvFeatures::frequency_msrs},
    {"reference_tsc", &HvFeatures::reference_tsc},
    {"guest_crash_msrs", &HvFeatures::guest_crash_msrs},
};

const HvFeatureName* find(std::string_view name) {
  for (const auto& f : kFeatureNames)
    if (f.name == name) return &f;
  return nullptr;
}
}  // namespace

std::span<const HvFeatureName> hv_feature_names() { return kFeatureNames; }

bool set_hv_feature(HvFeatures& features, std::string_view name, bool on) {
  const HvFeatureName* f = find(name);
  if (!f) return false;
  features.*(f->member) = on;
  return true;
}

std::optional<bool> get_hv_feature(const HvFeatures& features, std::string_view name) {
  const HvFeatureName* f = find(name);
  if (!f) return std::nullopt;
  return features.*(f->member);
}

}  // namespace softsynic
