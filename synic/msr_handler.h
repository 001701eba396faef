// MsrHandler: the x86-64 RDMSR/WRMSR callback interface shared by every
// MSR owner (the SynIC's CPU hooks, the local APIC, emulator devices), and
// the MsrResult it answers (TLFS "Synthetic MSRs"). cpu_hooks/msr_chain.h
// chains handlers; this header lives in the core so devices/ can implement
// it without depending on cpu_hooks/.
//
// Threading: handlers' methods are strand-affine (the calling VP's strand).
#pragma once

#include <cstdint>

#include "synic/defs/vtl.h"
#include "synic/register_access.h"

namespace softsynic {

enum class MsrResult {
  ok,        // done (value read / write applied)
  not_mine,  // no handler here owns this MSR
  gp,        // inject #GP; nothing changed
};

// How a register owner's answer reads as an MSR access: ok -> ok,
// unknown -> not_mine (the next handler may own it), invalid -> #GP.
constexpr MsrResult msr_result_for(RegisterAccess access) {
  switch (access) {
    case RegisterAccess::ok:
      return MsrResult::ok;
    case RegisterAccess::unknown:
      return MsrResult::not_mine;
    case RegisterAccess::invalid:
    default:
      return MsrResult::gp;
  }
}

// The other way, for an MSR model reached by register name (ARM64's crash
// registers): ok -> ok, not_mine -> unknown, #GP -> invalid.
constexpr RegisterAccess register_access_for(MsrResult result) {
  switch (result) {
    case MsrResult::ok:
      return RegisterAccess::ok;
    case MsrResult::not_mine:
      return RegisterAccess::unknown;
    case MsrResult::gp:
    default:
      return RegisterAccess::invalid;
  }
}

class MsrHandler {
 public:
  virtual ~MsrHandler() = default;
  virtual MsrResult read(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value) = 0;
  virtual MsrResult write(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) = 0;
};

}  // namespace softsynic
