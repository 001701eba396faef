// A small AML encoder for the tables the platforms generate at run time
// (ACPI 6.3, chapter 20 "ACPI Machine Language Specification": 20.2.2 name
// objects, 20.2.3 data objects, 20.2.4 package length, 20.2.5 term
// objects; resource descriptors from 6.4.2.9 "End Tag", 6.4.3.4 "32-Bit
// Fixed Memory Range Descriptor", 6.4.3.5.1 "QWord Address Space
// Descriptor" and 6.4.3.6 "Extended Interrupt Descriptor").
// Each function returns the encoding of one AML term as bytes; terms nest
// by passing the bytes of their contents. Enough for a DSDT of named
// objects, devices, packages and resource templates; no methods, no
// operation regions, no fields, no control flow.
// Bad input (a name segment longer than four characters or with a character
// AML does not allow, an object too large for a package length, a string
// with a NUL) throws std::invalid_argument.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace softsynic::devices::aml {

using Bytes = std::vector<std::uint8_t>;

// Opcodes and prefixes (20.2).
inline constexpr std::uint8_t kZeroOp = 0x00, kOneOp = 0x01, kNameOp = 0x08, kBytePrefix = 0x0A,
                              kWordPrefix = 0x0B, kDWordPrefix = 0x0C, kStringPrefix = 0x0D,
                              kQWordPrefix = 0x0E, kScopeOp = 0x10, kBufferOp = 0x11, kPackageOp = 0x12,
                              kExtOpPrefix = 0x5B, kDeviceOp = 0x82, kOnesOp = 0xFF;
inline constexpr std::uint8_t kRootChar = '\\', kParentPrefix = '^', kDualNamePrefix = 0x2E,
                              kMultiNamePrefix = 0x2F, kNullName = 0x00;
inline constexpr std::uint32_t kMaxPkgLength = (1u << 28) - 1;

// Concatenates terms (a TermList, a package's elements).
Bytes join(std::initializer_list<Bytes> parts);
Bytes join(const std::vector<Bytes>& parts);

// PkgLength for a body of `body_size` bytes; the encoded value counts its
// own bytes too (20.2.4).
Bytes pkg_length(std::size_t body_size);

// NameString: "\\_SB.VMBS", "_S5", "^PARENT.CHLD"; segments shorter than
// four characters are padded with '_'; "" is the null name.
Bytes name_string(std::string_view path);

// The shortest integer encoding: ZeroOp, OneOp, OnesOp (all ones in 64 bits),
// or a byte, word, dword or qword constant.
Bytes integer(std::uint64_t value);
Bytes string(std::string_view text);

Bytes name(std::string_view path, const Bytes& object);               // Name (path, object)
Bytes scope(std::string_view path, const Bytes& terms);               // Scope (path) { terms }
Bytes device(std::string_view path, const Bytes& terms);              // Device (path) { terms }
Bytes package(const std::vector<Bytes>& elements);                    // Package () { elements }
Bytes buffer(const Bytes& bytes);                                     // Buffer () { bytes }

// ResourceTemplate () { descriptors }: a buffer of the descriptors and an
// end tag (checksum 0: "treat as valid", 6.4.2.9).
Bytes resource_template(const std::vector<Bytes>& descriptors);
// QWordMemory: a cacheable, read-write memory range [min, max] the device
// consumes, no translation (6.4.3.5.1).
Bytes qword_memory(std::uint64_t min, std::uint64_t max);
// Memory32Fixed (ReadWrite, base, size) (6.4.3.4).
Bytes memory32_fixed(std::uint32_t base, std::uint32_t size);

enum class Trigger : std::uint8_t { kLevel, kEdge };
enum class Polarity : std::uint8_t { kActiveHigh, kActiveLow };
// Interrupt (ResourceConsumer, trigger, polarity, Exclusive) { gsi }: one
// interrupt the device consumes, not shared, not a wake source (6.4.3.6).
Bytes interrupt(std::uint32_t gsi, Trigger trigger, Polarity polarity);

}  // namespace softsynic::devices::aml
