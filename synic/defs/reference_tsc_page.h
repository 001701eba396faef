// The reference TSC page (TLFS "Partition Reference Time Enlightenment",
// "Reference TSC Page"): one 4 KiB guest page, partition-wide, enabled by
// HV_X64_MSR_REFERENCE_TSC (0x40000021: bit 0 enable, bits 1-11 reserved,
// bits 12-63 GPN; the PageReg layout). Definitions only.
//
// A guest computes reference time (100 ns units) from its TSC as
//   time = ((tsc * scale) >> 64) + offset
// after reading `sequence`, and retries when `sequence` changed meanwhile.
// Sequence 0 means "the page is not valid now": read TIME_REF_COUNT.
// Not supported: the TSC-invariant and reenlightenment controls.
#pragma once

#include <cstddef>
#include <cstdint>

namespace softsynic {

struct ReferenceTscPageHeader {
  std::uint32_t sequence;
  std::uint32_t reserved;
  std::uint64_t scale;
  std::int64_t offset;
};
static_assert(sizeof(ReferenceTscPageHeader) == 24);
static_assert(offsetof(ReferenceTscPageHeader, scale) == 8);
static_assert(offsetof(ReferenceTscPageHeader, offset) == 16);

// "Not valid: use the MSR" (the page is being changed, or the TSC cannot
// be expressed).
inline constexpr std::uint32_t kReferenceTscSequenceInvalid = 0;
// Older guests also treat all ones as invalid: never published.
inline constexpr std::uint32_t kReferenceTscSequenceReserved = 0xFFFF'FFFF;

}  // namespace softsynic
