// Readable one-line decoding of integration-component messages for the
// host log: "HEARTBEAT request tid=4 fw=3.0 msg=3.0 seq=7". Short or
// unknown messages decode as far as their bytes go.
//
// Threading: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace softsynic::vmbus {

std::string describe_ic_message(std::span<const std::byte> payload);

// "0x0(S_OK)", "0x80004005(E_FAIL)", other values in hex.
std::string describe_ic_status(std::uint32_t status);

}  // namespace softsynic::vmbus
