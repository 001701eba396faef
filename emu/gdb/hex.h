// Hex text as the GDB remote protocol writes it: two lowercase digits per
// byte, numbers big-endian without leading zeros. Pure functions,
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace softsynic::gdb {

std::string to_hex(std::span<const std::byte> bytes);
std::string to_hex(std::string_view text);
std::string hex_number(std::uint64_t value);
// Two digits per byte; nullopt for an odd length or a non-hex digit.
std::optional<std::vector<std::byte>> bytes_from_hex(std::string_view hex);
// 1 to 16 hex digits.
std::optional<std::uint64_t> number_from_hex(std::string_view hex);

}  // namespace softsynic::gdb
