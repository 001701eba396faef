// MsrHandler and MsrChain: x86-64 RDMSR/WRMSR dispatch (TLFS "Synthetic
// MSRs"). Each handler answers ok, not_mine (try the next handler) or gp
// (owned, but the access raises #GP). The hypervisor's chain starts with
// the synthetic registers (SynIC, GUEST_OS_ID, VP_INDEX, TIME_REF_COUNT),
// then the hypervisor MSRs (HYPERCALL); the emulator appends its APIC and
// devices. Falling off the end is not_mine: the emulator applies its own
// default (real hardware would #GP).
//
// Threading: append() before any VP runs. read()/write() are strand-affine
// (the calling VP's strand), as are the handlers' methods.
#pragma once

#include <cstdint>
#include <vector>

#include "synic/defs/vtl.h"
#include "synic/msr_handler.h"

namespace softsynic {

class MsrChain final : public MsrHandler {
 public:
  // The handler must outlive the chain.
  void append(MsrHandler& handler) { handlers_.push_back(&handler); }

  MsrResult read(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value) override {
    for (MsrHandler* h : handlers_)
      if (MsrResult r = h->read(vp, vtl, msr, value); r != MsrResult::not_mine) return r;
    return MsrResult::not_mine;
  }
  MsrResult write(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) override {
    for (MsrHandler* h : handlers_)
      if (MsrResult r = h->write(vp, vtl, msr, value); r != MsrResult::not_mine) return r;
    return MsrResult::not_mine;
  }

 private:
  std::vector<MsrHandler*> handlers_;
};

}  // namespace softsynic
