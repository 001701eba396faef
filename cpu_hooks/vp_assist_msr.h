// VpAssistMsr: HV_X64_MSR_VP_ASSIST_PAGE (0x40000073), per VP and VTL (TLFS
// "Virtual Processor Assist Page"): bit 0 enable, bits 1-11 reserved
// (#GP), bits 12-63 GPN; stored and read back as written. Nothing sits
// behind the page: no feature that uses it (APIC EOI assist, enlightened
// VMCS, nested flush) is advertised, so the guest never expects the
// hypervisor to read or write it, and a guest that writes the MSR (Linux
// does on every CPU) is not refused.
// Not supported: the page's contents; the register-name form.
//
// Threading: read()/write() are strand-affine on the VP's strand (each VP
// touches only its own value).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"
#include "synic/defs/vtl.h"
#include "synic/msr_handler.h"

namespace softsynic {

class VpAssistMsr final : public MsrHandler {
 public:
  VpAssistMsr(std::uint32_t vp_count, Vtl vtl_count)
      : vp_count_(vp_count), vtl_count_(vtl_count), values_(std::make_unique<Values[]>(vp_count)) {}

  MsrResult read(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value) override {
    if (msr != msr::kVpAssistPage) return MsrResult::not_mine;
    if (vp >= vp_count_ || vtl >= vtl_count_) return MsrResult::gp;
    value = values_[vp][vtl].load(std::memory_order_relaxed);
    return MsrResult::ok;
  }
  MsrResult write(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) override {
    if (msr != msr::kVpAssistPage) return MsrResult::not_mine;
    if (vp >= vp_count_ || vtl >= vtl_count_ || (value & ~PageReg::kDefinedBits) != 0) return MsrResult::gp;
    values_[vp][vtl].store(value, std::memory_order_relaxed);
    return MsrResult::ok;
  }

 private:
  using Values = std::array<std::atomic<std::uint64_t>, kMaxVtlCount>;
  std::uint32_t vp_count_;
  Vtl vtl_count_;
  std::unique_ptr<Values[]> values_;
};

}  // namespace softsynic
