// SyntheticRegisters: one place that maps a synthetic register name
// (TLFS "Virtual Processor Register Names") onto its owner, for both the
// x86-64 MSRs and HvGet/SetVpRegisters on both architectures:
//  - GUEST_OS_ID (partition-wide, one per VTL), VP_INDEX, TIME_REF_COUNT
//    (read-only, from the TimeSource), and the 128-bit identification
//    registers (read-only: the hypervisor CPUID leaves, cpu_hooks/hv_cpuid.h):
//    here;
//  - SCONTROL, SVERSION, SIEFP, SIMP, EOM, SINT0-15: the VP's SynicVp;
//  - STIMERn_* and any other name: the VP's SynicVp, then each added
//    RegisterOwner in turn (the synthetic timers plug in here).
// Names hidden by a switched-off feature are not visible(); the callers map
// that to #GP (MSR) or HV_STATUS_UNKNOWN_REGISTER_NAME (hypercall).
// ARM64 (HvArch::aarch64): a SINT write with auto-EOI set is invalid (no
// auto-EOI there). Without the sint_polling feature a SINT write with the
// polling bit set is invalid.
// Not supported: the HYPERCALL MSR (x86-only, in X86Hypervisor), APIC,
// VP-assist, reference TSC and crash registers.
//
// Threading: visible() and guest_os_id() are thread-safe. read()/write()
// are strand-affine: run them on vp's strand. add_owner() and
// set_guest_os_id_listener() before any VP runs.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "cpu_hooks/hv_config.h"
#include "cpu_hooks/register_owner.h"
#include "synic/defs/hypercall.h"
#include "synic/defs/registers.h"
#include "synic/defs/vtl.h"
#include "synic/register_access.h"

namespace softsynic {

class Partition;
class TimeSource;

class SyntheticRegisters {
 public:
  SyntheticRegisters(Partition& partition, const HvConfig& config, const TimeSource& time);
  SyntheticRegisters(const SyntheticRegisters&) = delete;
  SyntheticRegisters& operator=(const SyntheticRegisters&) = delete;

  // false: the name is hidden by a switched-off feature.
  bool visible(HvRegisterName name) const;

  // unknown: no owner (or the owner does not implement it yet); invalid:
  // read-only register, reserved bits, bad vector, vp/vtl out of range.
  RegisterAccess read(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t& value);
  RegisterAccess write(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t value);
  // The 128-bit identification registers (HYPERVISOR_VERSION, FEATURES,
  // ENLIGHTENMENTS): their value, or nothing for any other name. Writing
  // them is invalid (read-only). Thread-safe.
  std::optional<HvRegisterValue> identification(HvRegisterName name) const;

  std::uint64_t guest_os_id(Vtl vtl) const;
  // Called after every accepted GUEST_OS_ID write (x86: a zero id turns the
  // hypercall page off). Set before any VP runs.
  void set_guest_os_id_listener(std::function<void(Vtl, std::uint64_t)> listener);

  // Asked, in the order added, about names nobody before answered. The
  // owner must outlive this object.
  void add_owner(RegisterOwner& owner) { owners_.push_back(&owner); }

  Partition& partition() { return partition_; }
  const HvConfig& config() const { return config_; }

 private:
  Partition& partition_;
  HvConfig config_;
  const TimeSource& time_;
  std::array<std::atomic<std::uint64_t>, kMaxVtlCount> guest_os_id_{};
  std::function<void(Vtl, std::uint64_t)> guest_os_id_listener_;
  std::vector<RegisterOwner*> owners_;
};

}  // namespace softsynic
