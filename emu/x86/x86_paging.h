// x86 linear-to-physical translation for the accesses the engine makes on
// the guest's behalf (code scans, IDT/GDT/TSS reads, exception frames),
// through the guest's own page tables as the CPU would walk them (Intel SDM
// vol. 3, 4.5 "4-Level Paging", 4.6 "Access Rights", 4.7 "Page-Fault
// Exceptions").
//
// Supported: paging off (linear = physical); IA-32e 4-level paging with
// 4 KiB, 2 MiB and 1 GiB pages; present, R/W (with CR0.WP), U/S and XD
// (with EFER.NXE) checks; the #PF error code (P, W/R, U/S, RSVD for XD
// without NXE, I/D when NXE is on). Not supported: 32-bit and PAE paging
// outside long mode (translate() answers identity there: the reference
// emulator delivers no event before long mode), 5-level paging (LA57 is
// not advertised), protection keys, SMEP/SMAP, and setting the accessed
// and dirty bits (the engine's own accesses leave them as they are).
//
// Threading: plain functions and a value type; run them on the VP's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace softsynic {
class GuestMemory;
}

namespace softsynic::emu::x86 {

// The control state a walk depends on.
struct X86PagingState {
  std::uint64_t cr0 = 0;
  std::uint64_t cr3 = 0;
  std::uint64_t cr4 = 0;
  std::uint64_t efer = 0;
};

enum class X86Access { read, write, fetch };

// #PF error-code bits (SDM 4.7).
namespace pf_error {
inline constexpr std::uint32_t kPresent = 1u << 0;
inline constexpr std::uint32_t kWrite = 1u << 1;
inline constexpr std::uint32_t kUser = 1u << 2;
inline constexpr std::uint32_t kReserved = 1u << 3;
inline constexpr std::uint32_t kFetch = 1u << 4;
}  // namespace pf_error

struct X86Translation {
  std::optional<std::uint64_t> gpa;  // nullopt: the access faults
  std::uint32_t error_code = 0;      // #PF error code when it faults
  std::uint64_t page_size = 0x1000;  // the mapping's size when it translates
};

// Walks `linear` for an access of `access` at user (CPL 3) or supervisor
// level. A page-table read outside RAM faults like a not-present entry.
X86Translation x86_translate(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear, X86Access access,
                             bool user = false);

// Reads or writes `bytes` at `linear`, page by page. On failure nothing
// more is transferred and `fault` (when given) holds the faulting linear
// address and error code.
struct X86LinearFault {
  std::uint64_t address = 0;
  std::uint32_t error_code = 0;
};
bool x86_read_linear(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear, std::span<std::byte> out,
                     X86Access access = X86Access::read, X86LinearFault* fault = nullptr);
bool x86_write_linear(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear,
                      std::span<const std::byte> in, X86LinearFault* fault = nullptr);

}  // namespace softsynic::emu::x86
