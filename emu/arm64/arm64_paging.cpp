// ARM64 stage 1 walks for the engine's own accesses; see arm64_paging.h.
#include "emu/arm64/arm64_paging.h"

#include <cstddef>
#include <cstring>
#include <span>

#include "synic/guest_memory.h"

namespace softsynic::emu::arm64 {
namespace {

constexpr std::uint64_t kSctlrM = 1;
constexpr std::uint64_t kDescValid = 1;
constexpr std::uint64_t kDescTableOrPage = 2;
constexpr std::uint64_t kOutputMask = 0x0000'FFFF'FFFF'F000;  // bits 47:12
constexpr std::uint64_t kTtbrBaseMask = 0x0000'FFFF'FFFF'FFFE;  // BADDR, CnP clear
constexpr unsigned kPageShift = 12;
constexpr unsigned kBitsPerLevel = 9;

// TCR_EL1 fields.
constexpr unsigned t0sz(std::uint64_t tcr) { return tcr & 0x3F; }
constexpr unsigned t1sz(std::uint64_t tcr) { return (tcr >> 16) & 0x3F; }
constexpr bool epd0(std::uint64_t tcr) { return (tcr >> 7 & 1) != 0; }
constexpr bool epd1(std::uint64_t tcr) { return (tcr >> 23 & 1) != 0; }
constexpr unsigned tg0(std::uint64_t tcr) { return (tcr >> 14) & 3; }  // 0: 4 KiB
constexpr unsigned tg1(std::uint64_t tcr) { return (tcr >> 30) & 3; }  // 2: 4 KiB

}  // namespace

std::optional<std::uint64_t> arm64_translate(GuestMemory& ram, const Arm64PagingState& state, std::uint64_t va) {
  if ((state.sctlr & kSctlrM) == 0) return va;
  const bool upper = (va >> 55 & 1) != 0;
  const unsigned size_offset = upper ? t1sz(state.tcr) : t0sz(state.tcr);
  if ((upper ? epd1(state.tcr) : epd0(state.tcr)) || (upper ? tg1(state.tcr) != 2 : tg0(state.tcr) != 0)) {
    return std::nullopt;
  }
  const unsigned input_bits = 64 - size_offset;
  if (input_bits > 48 || input_bits < 25) return std::nullopt;
  // Bits above the input size must all match bit 55's side.
  const std::uint64_t top = input_bits == 64 ? 0 : va >> input_bits;
  const std::uint64_t expect = upper ? (~std::uint64_t{0} >> input_bits) : 0;
  if (top != expect) return std::nullopt;

  // Level 3 resolves bits 20:12, level 2 29:21, level 1 38:30, level 0 47:39.
  int level = 3 - static_cast<int>((input_bits - kPageShift - 1) / kBitsPerLevel);
  std::uint64_t table = (upper ? state.ttbr1 : state.ttbr0) & kTtbrBaseMask;
  for (; level <= 3; ++level) {
    const unsigned shift = kPageShift + kBitsPerLevel * static_cast<unsigned>(3 - level);
    const std::uint64_t index = (va >> shift) & ((std::uint64_t{1} << kBitsPerLevel) - 1);
    std::uint64_t desc = 0;
    std::byte raw[8];
    if (!ram.read(table + index * 8, raw)) return std::nullopt;
    std::memcpy(&desc, raw, sizeof desc);
    if ((desc & kDescValid) == 0) return std::nullopt;
    const bool table_or_page = (desc & kDescTableOrPage) != 0;
    if (level == 3) {
      if (!table_or_page) return std::nullopt;  // reserved at level 3
      return (desc & kOutputMask) | (va & ((std::uint64_t{1} << kPageShift) - 1));
    }
    if (!table_or_page) {
      if (level == 0) return std::nullopt;  // no level-0 blocks with 4 KiB pages
      const std::uint64_t block_mask = (std::uint64_t{1} << shift) - 1;
      return (desc & kOutputMask & ~block_mask) | (va & block_mask);
    }
    table = desc & kOutputMask;
  }
  return std::nullopt;
}

}  // namespace softsynic::emu::arm64
