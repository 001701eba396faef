// Outcome of a synthetic register access, shared by the SynIC core and the
// CPU hooks. The CPU side maps it: x86-64 MSR -> continue / next handler /
// #GP; HvSet/GetVpRegisters -> SUCCESS / UNKNOWN_REGISTER_NAME /
// INVALID_PARAMETER.
#pragma once

namespace softsynic {

enum class RegisterAccess {
  ok,       // done
  unknown,  // not a register this component owns: try the next one
  invalid,  // owned, but this access is not allowed (reserved bits, read-only, bad vector)
};

}  // namespace softsynic
