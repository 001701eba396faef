// ApicMsrHandler: puts a partition's local APICs into the CPU's MSR chain
// (synic/msr_handler.h): IA32_APIC_BASE, the x2APIC MSRs and the Hyper-V
// synthetic EOI/ICR/TPR MSRs of the calling VP's APIC.
//
// Threading: as MsrHandler: read()/write() run on the calling VP's strand.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "synic/msr_handler.h"
#include "devices/apic/local_apic.h"

namespace softsynic::devices {

class ApicMsrHandler final : public MsrHandler {
 public:
  // apic_for(vp, vtl): that VP's APIC at that VTL, or nullptr (not_mine).
  explicit ApicMsrHandler(std::function<LocalApic*(std::uint32_t vp, Vtl vtl)> apic_for)
      : apic_for_(std::move(apic_for)) {}

  MsrResult read(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value) override {
    LocalApic* apic = apic_for_(vp, vtl);
    return apic ? apic->read_msr(msr, value) : MsrResult::not_mine;
  }
  MsrResult write(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) override {
    LocalApic* apic = apic_for_(vp, vtl);
    return apic ? apic->write_msr(msr, value) : MsrResult::not_mine;
  }

 private:
  std::function<LocalApic*(std::uint32_t, Vtl)> apic_for_;
};

}  // namespace softsynic::devices
