// Value spelling of traces: see trace_values.h.
#include "emu/replay/trace_values.h"

#include <array>
#include <cstdio>

namespace softsynic::replay {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool has_hex_prefix(std::string_view s) { return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'); }

std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (~std::uint64_t{0} - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// Hex digits without prefix into a 128-bit value; at most max_digits.
std::optional<RegValue128> parse_hex_digits(std::string_view s, std::size_t max_digits) {
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);  // leading zeros do not count
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  RegValue128 v;
  for (char c : s) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v.high = (v.high << 4) | (v.low >> 60);
    v.low = (v.low << 4) | static_cast<std::uint64_t>(d);
  }
  return v;
}

constexpr std::array<std::string_view, 18> kX86Names = {
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
    "r10", "r11", "r12", "r13", "r14", "r15", "rflags", "rip"};
constexpr std::array<std::string_view, 6> kXmmNames = {"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5"};

}  // namespace

std::optional<std::uint64_t> parse_integer_string(std::string_view s) {
  if (has_hex_prefix(s)) {
    auto v = parse_hex_digits(s.substr(2), 16);
    if (!v) return std::nullopt;
    return v->low;
  }
  return parse_decimal(s);
}

std::optional<RegValue128> parse_integer_string_128(std::string_view s) {
  if (has_hex_prefix(s)) return parse_hex_digits(s.substr(2), 32);
  auto v = parse_decimal(s);
  if (!v) return std::nullopt;
  return RegValue128{*v, 0};
}

std::optional<Bytes> parse_hex_bytes(std::string_view s) {
  Bytes out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return std::nullopt;
    const int hi = hex_digit(s[i]);
    const int lo = hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::byte>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string hex(const RegValue128& v) {
  if (v.high == 0) return hex(v.low);
  char buf[40];
  std::snprintf(buf, sizeof buf, "0x%016llx%016llx", static_cast<unsigned long long>(v.high),
                static_cast<unsigned long long>(v.low));
  return buf;
}

std::string hex_bytes(const Bytes& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 3);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i) out += ' ';
    const auto v = std::to_integer<unsigned>(b[i]);
    out += kDigits[v >> 4];
    out += kDigits[v & 15];
  }
  return out;
}

bool is_wide_register(std::string_view name) {
  for (auto n : kXmmNames)
    if (n == name) return true;
  return false;
}

bool is_trace_register(TraceArch arch, std::string_view name) {
  if (arch == TraceArch::x86_64) {
    for (auto n : kX86Names)
      if (n == name) return true;
    return is_wide_register(name);
  }
  if (name == "imm") return true;
  if (name.size() < 2 || name.size() > 3 || name[0] != 'x') return false;
  auto n = parse_decimal(name.substr(1));
  return n && *n <= 17 && (name.size() == 2 || name[1] != '0');
}

}  // namespace softsynic::replay
