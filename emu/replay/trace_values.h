// How a trace spells values (docs/TRACE_FORMAT.md "Values"): integers as
// JSON numbers or hex/decimal strings, bytes as hex strings with optional
// spaces, and the register names a hypercall step may set per architecture.
// Parsing returns a reason on failure instead of throwing; formatting is
// what the writer and the replay report print, so it is stable byte for
// byte.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "emu/replay/trace.h"

namespace softsynic::replay {

// JSON numbers above this must be written as strings.
inline constexpr std::uint64_t kMaxJsonSafeInteger = std::uint64_t{1} << 53;

// Parses "0x5c", "0X5C" or "92" (no sign, no spaces). nullopt when
// malformed or wider than 64 bits.
std::optional<std::uint64_t> parse_integer_string(std::string_view s);
// Like parse_integer_string but up to 128 bits for hex.
std::optional<RegValue128> parse_integer_string_128(std::string_view s);
// "00 01 ff" or "0001ff": pairs of hex digits, spaces only between bytes.
std::optional<Bytes> parse_hex_bytes(std::string_view s);

// "0x5c"; 128-bit values with a non-zero high half print all 32 digits.
std::string hex(std::uint64_t v);
std::string hex(const RegValue128& v);
// "00 01 ff".
std::string hex_bytes(const Bytes& b);

// Register names a hypercall step accepts for `arch`, and whether a name
// holds 128 bits (XMM).
bool is_trace_register(TraceArch arch, std::string_view name);
bool is_wide_register(std::string_view name);

}  // namespace softsynic::replay
