// x86 linear-to-physical translation through the guest's own page tables as
// the CPU walks them (Intel SDM vol. 3, 4.3 "32-Bit Paging", 4.4 "PAE
// Paging", 4.5 "4-Level Paging", 4.6 "Access Rights", 4.7 "Page-Fault
// Exceptions", 4.8 "Accessed and Dirty Flags"). Two users: the accesses the
// engine makes on the guest's behalf (code scans, IDT/GDT/TSS reads,
// exception frames) and the engine's TLB fill (x86_soft_tlb.h), which is
// the guest's own translation for every load, store and fetch.
//
// Supported: paging off (linear = physical); 32-bit paging (4 MiB pages
// with CR4.PSE), PAE paging and IA-32e 4-level paging with 2 MiB and 1 GiB
// pages; present, R/W (with CR0.WP), U/S and XD (with EFER.NXE) checks;
// the #PF error code (P, W/R, U/S, RSVD for XD without NXE, I/D when NXE is
// on); #GP for a non-canonical address in IA-32e mode; the accessed and
// dirty flags, set when the caller asks (the TLB fill does; the engine's own
// reads leave them). Not supported: 5-level paging (LA57 is not
// advertised), protection keys, SMEP/SMAP (not advertised), PSE-36's high
// address bits, and reserved-bit checks other than XD.
//
// Threading: plain functions and value types; run them on the VP's thread
// (the A/D updates are atomic ORs, safe against other VPs' walks).
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

// A walk's outcome with the rights a TLB may cache for the page.
struct X86Walk {
  std::optional<std::uint64_t> gpa;  // nullopt: the access faults
  std::uint32_t error_code = 0;      // #PF error code when it faults
  bool general_protection = false;   // faults with #GP(0) (non-canonical), not #PF
  std::uint64_t page_size = 0x1000;  // the mapping's size when it translates
  // Over all levels, for this privilege (CR0.WP applied): what a cached
  // entry may allow. `dirty`: the leaf's D flag after the walk.
  bool writable = false;
  bool executable = false;
  bool dirty = false;
};

// Walks `linear` for an access of `access` at user (CPL 3) or supervisor
// level. With `update_flags`, a walk that allows the access sets the
// accessed flags of the entries it used and, for a write, the leaf's dirty
// flag, as the CPU does.
X86Walk x86_walk(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear, X86Access access, bool user,
                 bool update_flags);

struct X86Translation {
  std::optional<std::uint64_t> gpa;  // nullopt: the access faults
  std::uint32_t error_code = 0;      // #PF error code when it faults
  std::uint64_t page_size = 0x1000;  // the mapping's size when it translates
};

// x86_walk without flag updates, for the engine's own accesses. A
// page-table read outside RAM faults like a not-present entry; so does a
// non-canonical address (error code 0).
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
