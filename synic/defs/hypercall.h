// Hypercall interface definitions (TLFS "Hypercall Interface"): call codes,
// the control (input) value and the result value, and the fixed-size input
// blocks of the calls softsynic implements.
// Not supported: nested hypercalls (bit 31) and any call not listed in
// HvCallCode; they are answered HV_STATUS_INVALID_HYPERCALL_CODE by
// cpu_hooks/.
#pragma once

#include <cstddef>
#include <cstdint>

#include "synic/defs/register_values.h"
#include "synic/defs/status.h"

namespace softsynic {

// Open enum: the guest can put any 16-bit code in the control value.
enum class HvCallCode : std::uint16_t {
  get_vp_registers = 0x0050,
  set_vp_registers = 0x0051,
  post_message = 0x005C,
  signal_event = 0x005D,
};

// Control value: code 0-15, fast 16, variable header size 17-26 (in 8-byte
// units), nested 31, rep count 32-43, rep start index 48-59.
class HypercallControl {
 public:
  static constexpr std::uint64_t kDefinedBits = 0x0FFF'0FFF'87FF'FFFF;
  constexpr HypercallControl() = default;
  constexpr explicit HypercallControl(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr HvCallCode code() const { return HvCallCode(bits::get(raw_, 0, 16)); }
  constexpr bool fast() const { return bits::get(raw_, 16, 1); }
  constexpr std::uint32_t variable_header_size() const { return static_cast<std::uint32_t>(bits::get(raw_, 17, 10)); }
  constexpr bool nested() const { return bits::get(raw_, 31, 1); }
  constexpr std::uint32_t rep_count() const { return static_cast<std::uint32_t>(bits::get(raw_, 32, 12)); }
  constexpr std::uint32_t rep_start() const { return static_cast<std::uint32_t>(bits::get(raw_, 48, 12)); }
  constexpr bool reserved_bits_set() const { return (raw_ & ~kDefinedBits) != 0; }
  constexpr HypercallControl with_code(HvCallCode c) const { return HypercallControl(bits::set(raw_, 0, 16, static_cast<std::uint16_t>(c))); }
  constexpr HypercallControl with_fast(bool b) const { return HypercallControl(bits::set(raw_, 16, 1, b)); }
  constexpr HypercallControl with_variable_header_size(std::uint32_t n) const { return HypercallControl(bits::set(raw_, 17, 10, n)); }
  constexpr HypercallControl with_nested(bool b) const { return HypercallControl(bits::set(raw_, 31, 1, b)); }
  constexpr HypercallControl with_rep_count(std::uint32_t n) const { return HypercallControl(bits::set(raw_, 32, 12, n)); }
  constexpr HypercallControl with_rep_start(std::uint32_t n) const { return HypercallControl(bits::set(raw_, 48, 12, n)); }

 private:
  std::uint64_t raw_ = 0;
};

// Result value: status 0-15, reps completed 32-43.
class HypercallResult {
 public:
  constexpr HypercallResult() = default;
  constexpr explicit HypercallResult(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr HvStatus status() const { return HvStatus(bits::get(raw_, 0, 16)); }
  constexpr std::uint32_t reps_completed() const { return static_cast<std::uint32_t>(bits::get(raw_, 32, 12)); }
  constexpr HypercallResult with_status(HvStatus s) const { return HypercallResult(bits::set(raw_, 0, 16, static_cast<std::uint16_t>(s))); }
  constexpr HypercallResult with_reps_completed(std::uint32_t n) const { return HypercallResult(bits::set(raw_, 32, 12, n)); }

 private:
  std::uint64_t raw_ = 0;
};

inline constexpr std::uint64_t kHvPageSize = 4096;
inline constexpr std::uint64_t kHypercallInputAlignment = 8;

// HvCallSignalEvent input (8 bytes); the fast form packs it into one
// register as connection_id | flag_number << 32.
struct SignalEventInput {
  std::uint32_t connection_id;
  std::uint16_t flag_number;
  std::uint16_t reserved;
};
static_assert(sizeof(SignalEventInput) == 8);
static_assert(offsetof(SignalEventInput, flag_number) == 4);

// HvCallGetVpRegisters / HvCallSetVpRegisters fixed header (16 bytes).
struct VpRegistersInputHeader {
  std::uint64_t partition_id;  // ~0 = self
  std::uint32_t vp_index;      // 0xFFFFFFFE = self
  std::uint8_t input_vtl;      // see HvInputVtl
  std::uint8_t reserved[3];
};
static_assert(sizeof(VpRegistersInputHeader) == 16);
static_assert(offsetof(VpRegistersInputHeader, vp_index) == 8);
static_assert(offsetof(VpRegistersInputHeader, input_vtl) == 12);

inline constexpr std::uint64_t kHvPartitionIdSelf = ~std::uint64_t{0};
inline constexpr std::uint32_t kHvVpIndexSelf = 0xFFFFFFFE;

// HvInputVtl byte: target VTL 0-3, bit 4 "use target VTL".
class HvInputVtl {
 public:
  constexpr HvInputVtl() = default;
  constexpr explicit HvInputVtl(std::uint8_t raw) : raw_(raw) {}
  constexpr std::uint8_t raw() const { return raw_; }
  constexpr std::uint8_t target_vtl() const { return static_cast<std::uint8_t>(bits::get(raw_, 0, 4)); }
  constexpr bool use_target_vtl() const { return bits::get(raw_, 4, 1); }
  constexpr bool reserved_bits_set() const { return (raw_ & 0xE0) != 0; }

 private:
  std::uint8_t raw_ = 0;
};

// One GetVpRegisters output element / SetVpRegisters input element value.
struct HvRegisterValue {
  std::uint64_t low;
  std::uint64_t high;
};
static_assert(sizeof(HvRegisterValue) == 16);

// SetVpRegisters rep element: name, padding, 128-bit value.
struct HvRegisterAssoc {
  std::uint32_t name;
  std::uint32_t reserved1;
  std::uint64_t reserved2;
  HvRegisterValue value;
};
static_assert(sizeof(HvRegisterAssoc) == 32);
static_assert(offsetof(HvRegisterAssoc, value) == 16);

}  // namespace softsynic
