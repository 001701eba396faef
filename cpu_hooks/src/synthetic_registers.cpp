// Synthetic register name dispatch shared by the x86-64 MSRs and
// HvGet/SetVpRegisters (TLFS "Virtual Processor Register Names").
#include "cpu_hooks/synthetic_registers.h"

#include "cpu_hooks/hv_cpuid.h"
#include "synic/defs/cpuid.h"

#include "synic/defs/register_values.h"
#include "synic/partition.h"
#include "synic/time_source.h"

namespace softsynic {

namespace {

constexpr std::uint32_t raw(HvRegisterName n) { return static_cast<std::uint32_t>(n); }

bool is_sint(HvRegisterName n) { return raw(n) >= raw(HvRegisterName::sint0) && raw(n) <= raw(HvRegisterName::sint15); }

bool is_synic_control(HvRegisterName n) {
  return raw(n) >= raw(HvRegisterName::scontrol) && raw(n) <= raw(HvRegisterName::eom);
}

bool is_stimer(HvRegisterName n) {
  return raw(n) >= raw(HvRegisterName::stimer0_config) && raw(n) <= raw(HvRegisterName::stimer3_count);
}

}  // namespace

SyntheticRegisters::SyntheticRegisters(Partition& partition, const HvConfig& config, const TimeSource& time)
    : partition_(partition), config_(config), time_(time) {}

bool SyntheticRegisters::visible(HvRegisterName name) const {
  const HvFeatures& f = config_.features;
  switch (name) {
    case HvRegisterName::guest_os_id:
      // On ARM64 the guest identifies itself through SetVpRegisters; the
      // switch names the x86 MSR pair.
      return config_.arch == HvArch::aarch64 || f.hypercall;
    case HvRegisterName::vp_index:
      return f.vp_index;
    case HvRegisterName::time_ref_count:
      return f.time_ref_count;
    default:
      if (is_sint(name) || is_synic_control(name)) return f.synic;
      if (is_stimer(name)) return f.synic && f.stimers;
      return true;  // unknown names are not hidden, just unknown
  }
}

RegisterAccess SyntheticRegisters::read(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t& value) {
  if (vp >= partition_.vp_count() || vtl >= partition_.vtl_count()) return RegisterAccess::invalid;
  if (!visible(name)) return RegisterAccess::unknown;
  switch (name) {
    case HvRegisterName::guest_os_id:
      value = guest_os_id(vtl);
      return RegisterAccess::ok;
    case HvRegisterName::vp_index:
      value = vp;
      return RegisterAccess::ok;
    case HvRegisterName::time_ref_count:
      value = time_.now();
      return RegisterAccess::ok;
    default: {
      RegisterAccess r = partition_.vp(vp).read_register(vtl, name, value);
      for (auto it = owners_.begin(); r == RegisterAccess::unknown && it != owners_.end(); ++it)
        r = (*it)->read_register(vp, vtl, name, value);
      return r;
    }
  }
}

std::optional<HvRegisterValue> SyntheticRegisters::identification(HvRegisterName name) const {
  std::uint32_t leaf = 0;
  switch (name) {
    case HvRegisterName::hypervisor_version:
      leaf = 0x4000'0002;
      break;
    case HvRegisterName::features:
      leaf = 0x4000'0003;
      break;
    case HvRegisterName::enlightenments:
      leaf = 0x4000'0004;
      break;
    default:
      return std::nullopt;
  }
  auto r = hv_cpuid(config_, partition_.vp_count(), leaf).value_or(CpuidResult{});
  if (config_.arch == HvArch::aarch64 && name == HvRegisterName::features) {
    // ARM64 keeps its own "group C" feature bits in the third word (Linux's
    // arm64 hyperv-tlfs.h: crash registers bit 8, direct-mode stimers bit
    // 13) where x86 has power-management bits, and nothing in the fourth.
    const HvFeatures& f = config_.features;
    r.ecx = (f.guest_crash_msrs ? cpuid::kArm64GuestCrashRegisters : 0) |
            (f.synic && f.stimers && f.direct_timers ? cpuid::kArm64DirectSyntheticTimers : 0);
    r.edx = 0;
  }
  return HvRegisterValue{r.eax | std::uint64_t{r.ebx} << 32, r.ecx | std::uint64_t{r.edx} << 32};
}

RegisterAccess SyntheticRegisters::write(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t value) {
  if (vp >= partition_.vp_count() || vtl >= partition_.vtl_count()) return RegisterAccess::invalid;
  if (!visible(name)) return RegisterAccess::unknown;
  switch (name) {
    case HvRegisterName::guest_os_id:
      guest_os_id_[vtl].store(value, std::memory_order_release);
      if (guest_os_id_listener_) guest_os_id_listener_(vtl, value);
      return RegisterAccess::ok;
    case HvRegisterName::vp_index:
    case HvRegisterName::time_ref_count:
    case HvRegisterName::hypervisor_version:
    case HvRegisterName::features:
    case HvRegisterName::enlightenments:
      return RegisterAccess::invalid;  // read-only
    default: {
      if (is_sint(name)) {
        const SintReg sint(value);
        // ARM64 has no auto-EOI, and its vector is a PPI INTID (16-31; the
        // core already refuses 0-15): a larger one could never be raised.
        if (config_.arch == HvArch::aarch64 && sint.auto_eoi()) return RegisterAccess::invalid;
        if (config_.arch == HvArch::aarch64 && !sint.masked() && sint.vector() > SintReg::kArm64LastPpi)
          return RegisterAccess::invalid;
        // A hidden polling feature makes its bit reserved.
        if (!config_.features.sint_polling && sint.polling()) return RegisterAccess::invalid;
      }
      RegisterAccess r = partition_.vp(vp).write_register(vtl, name, value);
      for (auto it = owners_.begin(); r == RegisterAccess::unknown && it != owners_.end(); ++it)
        r = (*it)->write_register(vp, vtl, name, value);
      return r;
    }
  }
}

std::uint64_t SyntheticRegisters::guest_os_id(Vtl vtl) const {
  return vtl < kMaxVtlCount ? guest_os_id_[vtl].load(std::memory_order_acquire) : 0;
}

void SyntheticRegisters::set_guest_os_id_listener(std::function<void(Vtl, std::uint64_t)> listener) {
  guest_os_id_listener_ = std::move(listener);
}

}  // namespace softsynic
