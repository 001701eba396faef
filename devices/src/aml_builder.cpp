// The AML encoder: see devices/acpi/aml_builder.h.
#include "devices/acpi/aml_builder.h"

#include <stdexcept>
#include <string>

namespace softsynic::devices::aml {
namespace {

constexpr std::size_t kNameSegLength = 4;
constexpr std::size_t kMaxSegments = 255;  // MultiNamePrefix's count is a byte
// Resource descriptors (6.4).
constexpr std::uint8_t kEndTag = 0x79;  // small item 0xF, one byte of data
constexpr std::uint8_t kQWordAddressSpace = 0x8A;
constexpr std::uint16_t kQWordAddressSpaceDataLength = 43;
constexpr std::uint8_t kAddressSpaceMemory = 0;
constexpr std::uint8_t kGeneralFlagsConsumerFixed = 0x0D;  // consumer, positive decode, min and max fixed
constexpr std::uint8_t kMemoryCacheableReadWrite = 0x03;
constexpr std::uint8_t kMemory32Fixed = 0x86;
constexpr std::uint16_t kMemory32FixedDataLength = 9;
constexpr std::uint8_t kMemoryReadWrite = 0x01;
constexpr std::uint8_t kExtendedInterrupt = 0x89;
constexpr std::uint16_t kOneInterruptDataLength = 6;  // flags, count, one 32-bit number
// Extended interrupt flags (6.4.3.6, byte 3).
constexpr std::uint8_t kInterruptConsumer = 1u << 0;
constexpr std::uint8_t kInterruptEdge = 1u << 1;
constexpr std::uint8_t kInterruptActiveLow = 1u << 2;

void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

void append_le(Bytes& out, std::uint64_t value, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

bool lead_name_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return lead_name_char(c) || (c >= '0' && c <= '9'); }

void append_segment(Bytes& out, std::string_view seg, std::string_view path) {
  if (seg.empty() || seg.size() > kNameSegLength || !lead_name_char(seg[0])) {
    throw std::invalid_argument("aml: bad name segment in \"" + std::string(path) + "\"");
  }
  for (char c : seg) {
    if (!name_char(c)) throw std::invalid_argument("aml: bad character in \"" + std::string(path) + "\"");
    out.push_back(static_cast<std::uint8_t>(c));
  }
  for (std::size_t i = seg.size(); i < kNameSegLength; ++i) out.push_back('_');
}

// Opcode(s), PkgLength, then the body.
Bytes with_pkg_length(std::initializer_list<std::uint8_t> opcode, const Bytes& body) {
  Bytes out(opcode);
  append(out, pkg_length(body.size()));
  append(out, body);
  return out;
}

}  // namespace

Bytes join(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) append(out, p);
  return out;
}

Bytes join(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& p : parts) append(out, p);
  return out;
}

Bytes pkg_length(std::size_t body_size) {
  // One byte holds 6 bits; with 1..3 follow-on bytes the lead byte holds 4
  // bits and each follow-on byte 8 more. The value includes these bytes.
  if (body_size + 1 < 0x40) return {static_cast<std::uint8_t>(body_size + 1)};
  for (unsigned extra = 1; extra <= 3; ++extra) {
    const std::uint64_t total = body_size + 1 + extra;
    if (total < (1ull << (4 + 8 * extra))) {
      Bytes out{static_cast<std::uint8_t>((extra << 6) | (total & 0x0F))};
      append_le(out, total >> 4, extra);
      return out;
    }
  }
  throw std::invalid_argument("aml: object of " + std::to_string(body_size) + " bytes exceeds a package length");
}

Bytes name_string(std::string_view path) {
  Bytes out;
  std::string_view rest = path;
  if (!rest.empty() && rest.front() == '\\') {
    out.push_back(kRootChar);
    rest.remove_prefix(1);
  } else {
    while (!rest.empty() && rest.front() == '^') {
      out.push_back(kParentPrefix);
      rest.remove_prefix(1);
    }
  }
  std::vector<std::string_view> segments;
  while (!rest.empty()) {
    const std::size_t dot = rest.find('.');
    segments.push_back(rest.substr(0, dot));
    rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    if (dot != std::string_view::npos && rest.empty()) segments.emplace_back();  // trailing dot: rejected below
  }
  if (segments.size() > kMaxSegments) throw std::invalid_argument("aml: too many name segments");
  switch (segments.size()) {
    case 0:
      out.push_back(kNullName);
      break;
    case 1:
      break;
    case 2:
      out.push_back(kDualNamePrefix);
      break;
    default:
      out.push_back(kMultiNamePrefix);
      out.push_back(static_cast<std::uint8_t>(segments.size()));
      break;
  }
  for (std::string_view seg : segments) append_segment(out, seg, path);
  return out;
}

Bytes integer(std::uint64_t value) {
  if (value == 0) return {kZeroOp};
  if (value == 1) return {kOneOp};
  if (value == ~std::uint64_t{0}) return {kOnesOp};
  Bytes out;
  if (value <= 0xFF) {
    out.push_back(kBytePrefix);
    append_le(out, value, 1);
  } else if (value <= 0xFFFF) {
    out.push_back(kWordPrefix);
    append_le(out, value, 2);
  } else if (value <= 0xFFFF'FFFF) {
    out.push_back(kDWordPrefix);
    append_le(out, value, 4);
  } else {
    out.push_back(kQWordPrefix);
    append_le(out, value, 8);
  }
  return out;
}

Bytes string(std::string_view text) {
  Bytes out{kStringPrefix};
  for (char c : text) {
    // AsciiChar is 0x01..0x7F (20.2.3).
    if (c == '\0' || static_cast<unsigned char>(c) > 0x7F) throw std::invalid_argument("aml: string has a NUL or non-ASCII byte");
    out.push_back(static_cast<std::uint8_t>(c));
  }
  out.push_back(0);
  return out;
}

Bytes name(std::string_view path, const Bytes& object) { return join({Bytes{kNameOp}, name_string(path), object}); }

Bytes scope(std::string_view path, const Bytes& terms) {
  return with_pkg_length({kScopeOp}, join({name_string(path), terms}));
}

Bytes device(std::string_view path, const Bytes& terms) {
  return with_pkg_length({kExtOpPrefix, kDeviceOp}, join({name_string(path), terms}));
}

Bytes package(const std::vector<Bytes>& elements) {
  if (elements.size() > 0xFF) throw std::invalid_argument("aml: a Package holds at most 255 elements");
  return with_pkg_length({kPackageOp}, join({Bytes{static_cast<std::uint8_t>(elements.size())}, join(elements)}));
}

Bytes buffer(const Bytes& bytes) { return with_pkg_length({kBufferOp}, join({integer(bytes.size()), bytes})); }

Bytes resource_template(const std::vector<Bytes>& descriptors) {
  return buffer(join({join(descriptors), Bytes{kEndTag, 0}}));
}

Bytes qword_memory(std::uint64_t min, std::uint64_t max) {
  if (max < min) throw std::invalid_argument("aml: QWordMemory with max below min");
  Bytes out{kQWordAddressSpace};
  append_le(out, kQWordAddressSpaceDataLength, 2);
  out.push_back(kAddressSpaceMemory);
  out.push_back(kGeneralFlagsConsumerFixed);
  out.push_back(kMemoryCacheableReadWrite);
  append_le(out, 0, 8);  // granularity
  append_le(out, min, 8);
  append_le(out, max, 8);
  append_le(out, 0, 8);  // translation offset
  append_le(out, max - min + 1, 8);
  return out;
}

Bytes memory32_fixed(std::uint32_t base, std::uint32_t size) {
  if (size == 0 || base + std::uint64_t{size} - 1 > 0xFFFF'FFFF) throw std::invalid_argument("aml: Memory32Fixed range empty or past 4 GiB");
  Bytes out{kMemory32Fixed};
  append_le(out, kMemory32FixedDataLength, 2);
  out.push_back(kMemoryReadWrite);
  append_le(out, base, 4);
  append_le(out, size, 4);
  return out;
}

Bytes interrupt(std::uint32_t gsi, Trigger trigger, Polarity polarity) {
  std::uint8_t flags = kInterruptConsumer;
  if (trigger == Trigger::kEdge) flags |= kInterruptEdge;
  if (polarity == Polarity::kActiveLow) flags |= kInterruptActiveLow;
  Bytes out{kExtendedInterrupt};
  append_le(out, kOneInterruptDataLength, 2);
  out.push_back(flags);
  out.push_back(1);  // one interrupt number follows
  append_le(out, gsi, 4);
  return out;
}

}  // namespace softsynic::devices::aml
