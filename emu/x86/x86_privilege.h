// Privilege-level changes of an x86-64 CPU, as values: the hidden part of
// a segment register, the caches SYSCALL and a 64-bit interrupt entry load,
// and SYSCALL's register transition (Intel SDM vol. 2B "SYSCALL"; vol. 3,
// 3.4.3 "Segment Registers", 5.8.8 "Fast System Calls in 64-Bit Mode",
// 6.14.2 "64-Bit Mode Stack Frame"). No behaviour: the engine applies
// them (emu/x86/x86_engine.cpp, through unicorn_x86_internals.h).
//
// Not supported: SYSCALL from compatibility mode (CSTAR) or outside IA-32e
// mode (the engine raises #UD), SYSENTER/SYSEXIT (not advertised), inner
// rings 1 and 2 other than through the interrupt gate's selector.
#pragma once

#include <cstdint>

namespace softsynic::emu::x86 {

inline constexpr std::uint32_t kStarMsr = 0xC000'0081;
inline constexpr std::uint32_t kLstarMsr = 0xC000'0082;
inline constexpr std::uint32_t kFmaskMsr = 0xC000'0084;
inline constexpr std::uint64_t kEferSce = 1ull << 0;
inline constexpr std::uint64_t kRflagsRf = 1ull << 16;
inline constexpr std::uint64_t kRflagsFixed = 1ull << 1;

// A descriptor's attribute bits, in place in its second dword (bits 8-23).
namespace seg_attr {
inline constexpr std::uint32_t kAccessed = 1u << 8;
inline constexpr std::uint32_t kReadWrite = 1u << 9;  // readable code, writable data
inline constexpr std::uint32_t kCode = 1u << 11;
inline constexpr std::uint32_t kNotSystem = 1u << 12;  // S
inline constexpr unsigned kDplShift = 13;
inline constexpr std::uint32_t kPresent = 1u << 15;
inline constexpr std::uint32_t kLong = 1u << 21;
inline constexpr std::uint32_t kBig = 1u << 22;  // D/B
inline constexpr std::uint32_t kGranular = 1u << 23;
}  // namespace seg_attr

// A segment register's hidden part as a segment load leaves it; the limit
// is in bytes (a granular limit already expanded).
struct X86SegmentCache {
  std::uint16_t selector = 0;
  std::uint64_t base = 0;
  std::uint32_t limit = 0;
  std::uint32_t attributes = 0;
  unsigned dpl() const { return (attributes >> seg_attr::kDplShift) & 3; }
};

// Flat 64-bit code at the selector's RPL: SYSCALL's CS (RPL 0), and the CS
// of a 64-bit interrupt handler (whose base and limit 64-bit mode ignores).
constexpr X86SegmentCache x86_flat_code64(std::uint16_t selector) {
  using namespace seg_attr;
  return {selector, 0, 0xFFFF'FFFF,
          kAccessed | kReadWrite | kCode | kNotSystem | (std::uint32_t{selector & 3u} << kDplShift) | kPresent |
              kLong | kGranular};
}

// Flat writable data at the selector's RPL: SYSCALL's SS.
constexpr X86SegmentCache x86_flat_data(std::uint16_t selector) {
  using namespace seg_attr;
  return {selector, 0, 0xFFFF'FFFF,
          kAccessed | kReadWrite | kNotSystem | (std::uint32_t{selector & 3u} << kDplShift) | kPresent | kBig |
              kGranular};
}

// The stack of a 64-bit interrupt entry that raised the privilege level:
// a null selector whose RPL is the new CPL (SDM vol. 3, 6.14.4).
constexpr X86SegmentCache x86_null_stack(unsigned cpl) {
  return {static_cast<std::uint16_t>(cpl & 3), 0, 0, (cpl & 3) << seg_attr::kDplShift};
}

// What SYSCALL reads, and what it leaves (SDM vol. 2B, "SYSCALL", 64-bit mode).
struct X86SyscallInput {
  std::uint64_t next_rip = 0;  // the instruction after SYSCALL
  std::uint64_t rflags = 0;
  std::uint64_t star = 0;
  std::uint64_t lstar = 0;
  std::uint64_t fmask = 0;
};
struct X86SyscallEntry {
  std::uint64_t rcx = 0, r11 = 0, rflags = 0, rip = 0;
  X86SegmentCache cs, ss;  // CPL 0
};

constexpr X86SyscallEntry x86_syscall_entry(const X86SyscallInput& in) {
  const auto selector = static_cast<std::uint16_t>(in.star >> 32);
  X86SyscallEntry out;
  out.rcx = in.next_rip;
  out.r11 = in.rflags;
  out.rflags = (in.rflags & ~in.fmask & ~kRflagsRf) | kRflagsFixed;
  out.rip = in.lstar;
  out.cs = x86_flat_code64(static_cast<std::uint16_t>(selector & 0xFFFC));
  out.ss = x86_flat_data(static_cast<std::uint16_t>(selector + 8));
  out.ss.attributes &= ~(3u << seg_attr::kDplShift);  // DPL 0 whatever the selector's RPL
  return out;
}

}  // namespace softsynic::emu::x86
