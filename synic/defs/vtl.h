// Virtual trust levels (TLFS "Virtual Secure Mode"). softsynic keeps a
// separate SynIC per VTL; VTL switching itself is not supported.
#pragma once

#include <cstdint>

namespace softsynic {

using Vtl = std::uint8_t;
inline constexpr Vtl kMaxVtlCount = 3;  // VTL0..VTL2

}  // namespace softsynic
