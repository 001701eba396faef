// RegisterOwner: a component outside the SynIC core that owns some
// synthetic register names (TLFS "Virtual Processor Register Names"), e.g.
// the synthetic timers' STIMERn_CONFIG / STIMERn_COUNT. Added to
// SyntheticRegisters, it is asked about every name the built-in owners
// (partition registers, the VP's SynicVp) answer `unknown`, for the x86-64
// MSRs and for HvGet/SetVpRegisters alike. Feature switches still apply
// first: a hidden name never reaches an owner.
//
// Threading: read_register()/write_register() are strand-affine (vp's
// strand).
#pragma once

#include <cstdint>

#include "synic/defs/registers.h"
#include "synic/defs/vtl.h"
#include "synic/register_access.h"

namespace softsynic {

class RegisterOwner {
 public:
  virtual ~RegisterOwner() = default;
  // unknown: not one of this owner's names.
  virtual RegisterAccess read_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t& value) = 0;
  virtual RegisterAccess write_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t value) = 0;
};

// Adapts any object with read_register/write_register members of the same
// shape (so components below cpu_hooks need not derive from RegisterOwner).
template <typename T>
class RegisterOwnerRef final : public RegisterOwner {
 public:
  explicit RegisterOwnerRef(T& target) : target_(target) {}
  RegisterAccess read_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t& value) override {
    return target_.read_register(vp, vtl, name, value);
  }
  RegisterAccess write_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t value) override {
    return target_.write_register(vp, vtl, name, value);
  }

 private:
  T& target_;
};

}  // namespace softsynic
