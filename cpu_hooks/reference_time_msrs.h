// ReferenceTimeMsrs: the x86-64 MSRs that tell a guest how time and its
// TSC relate (TLFS "Partition Reference Time Enlightenment", "Reference
// TSC Page", and the frequency MSRs of "Synthetic MSRs"):
//  - HV_X64_MSR_REFERENCE_TSC (0x40000021), partition-wide: bit 0 enable,
//    bits 1-11 reserved (#GP), bits 12-63 GPN; reads back as written. While
//    enabled the partition keeps the page (synic/defs/reference_tsc_page.h)
//    at the GPA: scale and offset from the TscSource, a new non-zero
//    sequence per rewrite, sequence 0 while a rewrite is under way or when
//    the TSC cannot be expressed (rate <= 10 MHz). A GPA that is not RAM:
//    #GP. Disabling leaves the page as it is. Only with a TscSource and the
//    reference_tsc feature (else #GP, and CPUID bit 9 stays clear).
//  - HV_X64_MSR_TSC_FREQUENCY (0x40000022) and HV_X64_MSR_APIC_FREQUENCY
//    (0x40000023): read-only (#GP on write), in Hz; the TSC rate is the
//    TscSource's when there is one, else HvConfig::tsc_frequency_hz. With
//    the frequency_msrs feature (else #GP).
// Not supported: the register-name forms (HvGetVpRegisters), the TSC
// invariant and reenlightenment controls. ARM64 has none of these.
//
// Threading: read()/write() are strand-affine on the calling VP's strand;
// any VPs may call at once (the page state has a mutex).
// tsc_mapping_changed() is thread-safe. set_tsc_source() before VPs run.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

#include "cpu_hooks/hv_config.h"
#include "synic/defs/reference_tsc_page.h"
#include "synic/defs/register_values.h"
#include "synic/msr_handler.h"
#include "synic/tsc_source.h"

namespace softsynic {

class GuestMemory;

// scale and offset of the page for `source`: reference time ==
// ((tsc_at(t) * scale) >> 64) + offset for every t (exactly when the rate
// is a multiple of 10 MHz; else at most one tick below). nullopt when the
// rate is 10 MHz or less (scale would not fit in 64 bits).
struct ReferenceTscValues {
  std::uint64_t scale;
  std::int64_t offset;
  friend constexpr bool operator==(const ReferenceTscValues&, const ReferenceTscValues&) = default;
};
std::optional<ReferenceTscValues> reference_tsc_values(const TscSource& source);

class ReferenceTimeMsrs final : public MsrHandler {
 public:
  ReferenceTimeMsrs(GuestMemory& memory, const HvConfig& config) : memory_(memory), config_(config) {}

  void set_tsc_source(const TscSource* source) { source_ = source; }
  // The reference TSC page is offered: a source and the feature.
  bool offers_reference_tsc() const { return source_ != nullptr && config_.features.reference_tsc; }
  // The TscSource's mapping changed: an enabled page is rewritten
  // (sequence 0 first, then scale and offset, then a new sequence).
  void tsc_mapping_changed();

  MsrResult read(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value) override;
  MsrResult write(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) override;

  // The sequence last published (0 when the page is not valid).
  std::uint32_t sequence() const;

 private:
  bool publish(std::uint64_t gpa);  // caller holds mutex_

  GuestMemory& memory_;
  const HvConfig config_;
  const TscSource* source_ = nullptr;
  mutable std::mutex mutex_;
  PageReg reference_tsc_{};
  std::uint32_t sequence_ = kReferenceTscSequenceInvalid;
  std::uint32_t last_sequence_ = 0;  // the last valid sequence published
};

}  // namespace softsynic
