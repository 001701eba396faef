// HypercallDispatcher: the architecture-neutral part of a hypercall (TLFS
// "Hypercall Interface", "HvCallPostMessage", "HvCallSignalEvent",
// "HvCallGetVpRegisters", "HvCallSetVpRegisters"): control-value checks,
// fetching input from guest memory (slow) or from the fast register block,
// running the call, and storing output. The x86-64 and ARM64 front ends
// only decode their registers into HypercallArgs and write the result back.
// Not supported: nested calls, variable-size headers (no implemented call
// has one), any code not in HvCallCode.
//
// Threading: strand-affine (the calling VP's strand).
#pragma once

#include <cstdint>

#include "cpu_hooks/synthetic_registers.h"
#include "synic/defs/hypercall.h"
#include "synic/defs/vtl.h"

namespace softsynic::detail {

// The registers a fast call reads its input from and writes its output to,
// as a sequence of 64-bit slots in ABI order (x86-64: RDX, R8, XMM0 low,
// XMM0 high, ...; ARM64: X1.. or X2..).
class FastRegisterBlock {
 public:
  virtual ~FastRegisterBlock() = default;
  virtual unsigned size() const = 0;
  virtual std::uint64_t get(unsigned slot) const = 0;
  virtual void set(unsigned slot, std::uint64_t value) = 0;
};

struct HypercallArgs {
  HypercallControl control;
  std::uint64_t input_gpa = 0;   // slow calls
  std::uint64_t output_gpa = 0;  // slow calls
  FastRegisterBlock* fast = nullptr;  // fast calls
  // The front end read fast slots 0 and 1 already: they are input_gpa and
  // output_gpa (x86-64 RDX and R8, or EBX:ECX and EDI:ESI), so the
  // dispatcher need not read them again through `fast`.
  bool gpas_are_fast_slots = false;
};

class HypercallDispatcher {
 public:
  explicit HypercallDispatcher(SyntheticRegisters& registers) : registers_(registers) {}
  // Never throws on guest input; every problem is a status in the result.
  HypercallResult dispatch(std::uint32_t vp, Vtl vtl, const HypercallArgs& args);

 private:
  SyntheticRegisters& registers_;
};

}  // namespace softsynic::detail
