// Readable one-line decoding of VMBus control messages for the host log
// and transcripts: "INITIATE_CONTACT version=5.3(WIN10_V5_3) target_vp=0
// sint=2". Short or unknown messages decode as far as their bytes go.
//
// Threading: pure functions.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace softsynic::vmbus {

std::string describe_message(std::span<const std::byte> payload);

}  // namespace softsynic::vmbus
