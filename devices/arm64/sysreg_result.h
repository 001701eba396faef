// SysRegResult: the outcome of a trapped MRS/MSR offered to a device (Arm
// ARM "System register access"): done, not the device's register (ask the
// next handler), or the access is UNDEFINED (the emulator raises an
// undefined-instruction exception).
#pragma once

namespace softsynic::devices {

enum class SysRegResult {
  ok,
  not_mine,
  undefined,
};

}  // namespace softsynic::devices
