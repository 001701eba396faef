// Guid: the 16-byte interface and instance identifiers of VMBus offers, in
// their wire order (first three fields little-endian, the last eight bytes
// as written). Value type; no parsing from text.
// Not supported: string conversion other than to_string().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace softsynic::vmbus {

struct Guid {
  std::array<std::uint8_t, 16> bytes{};

  // Builds the wire form of {d1-d2-d3-d4[0..1]-d4[2..7]}.
  static constexpr Guid from_parts(std::uint32_t d1, std::uint16_t d2, std::uint16_t d3,
                                   std::array<std::uint8_t, 8> d4) {
    Guid g;
    for (unsigned i = 0; i < 4; ++i) g.bytes[i] = static_cast<std::uint8_t>(d1 >> (8 * i));
    for (unsigned i = 0; i < 2; ++i) g.bytes[4 + i] = static_cast<std::uint8_t>(d2 >> (8 * i));
    for (unsigned i = 0; i < 2; ++i) g.bytes[6 + i] = static_cast<std::uint8_t>(d3 >> (8 * i));
    for (unsigned i = 0; i < 8; ++i) g.bytes[8 + i] = d4[i];
    return g;
  }

  friend constexpr bool operator==(const Guid&, const Guid&) = default;

  // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
  std::string to_string() const {
    static constexpr char kHex[] = "0123456789abcdef";
    static constexpr int kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    std::string s;
    for (int i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
      const std::uint8_t b = bytes[static_cast<std::size_t>(kOrder[i])];
      s += kHex[b >> 4];
      s += kHex[b & 0xF];
    }
    return s;
  }
};
static_assert(sizeof(Guid) == 16);

}  // namespace softsynic::vmbus
