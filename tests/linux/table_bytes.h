// Reading generated firmware tables in tests: little-endian fields, byte
// sums, substrings.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace softsynic::test {

inline std::uint64_t le(std::span<const std::uint8_t> b, std::size_t at, unsigned size) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}

inline unsigned byte_sum(std::span<const std::uint8_t> b) { return std::accumulate(b.begin(), b.end(), 0u) & 0xFF; }

inline bool contains(std::span<const std::uint8_t> haystack, const std::vector<std::uint8_t>& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

inline std::string text(std::span<const std::uint8_t> b, std::size_t at, std::size_t n) {
  return {reinterpret_cast<const char*>(b.data() + at), n};
}

}  // namespace softsynic::test
