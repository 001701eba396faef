// Guest page walks for the engine's own accesses; see x86_paging.h.
#include "emu/x86/x86_paging.h"

#include <algorithm>
#include <cstring>

#include "synic/guest_memory.h"

namespace softsynic::emu::x86 {
namespace {

constexpr std::uint64_t kCr0Pg = 1ull << 31;
constexpr std::uint64_t kCr0Wp = 1ull << 16;
constexpr std::uint64_t kEferLma = 1ull << 10;
constexpr std::uint64_t kEferNxe = 1ull << 11;
constexpr std::uint64_t kPresent = 1ull << 0;
constexpr std::uint64_t kWritable = 1ull << 1;
constexpr std::uint64_t kUserBit = 1ull << 2;
constexpr std::uint64_t kLarge = 1ull << 7;
constexpr std::uint64_t kXd = 1ull << 63;
constexpr std::uint64_t kAddressMask = 0x000F'FFFF'FFFF'F000;
constexpr std::uint64_t kPageSize = 0x1000;

}  // namespace

X86Translation x86_translate(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear, X86Access access,
                             bool user) {
  X86Translation t;
  if ((state.cr0 & kCr0Pg) == 0 || (state.efer & kEferLma) == 0) {
    t.gpa = linear;
    return t;
  }
  const bool nxe = (state.efer & kEferNxe) != 0;
  std::uint32_t error = (access == X86Access::write ? pf_error::kWrite : 0) | (user ? pf_error::kUser : 0) |
                        (access == X86Access::fetch && nxe ? pf_error::kFetch : 0);
  // Rights accumulate over the levels: every level must allow the access.
  bool writable = true, user_ok = true, executable = true;
  std::uint64_t table = state.cr3 & kAddressMask;
  for (int level = 3; level >= 0; --level) {
    const unsigned shift = 12 + 9 * static_cast<unsigned>(level);
    std::byte raw[8];
    if (!ram.read(table + 8 * ((linear >> shift) & 511), raw)) {
      t.error_code = error;
      return t;
    }
    std::uint64_t entry = 0;
    std::memcpy(&entry, raw, 8);
    if ((entry & kPresent) == 0) {
      t.error_code = error;
      return t;
    }
    if ((entry & kXd) != 0 && !nxe) {
      t.error_code = error | pf_error::kPresent | pf_error::kReserved;
      return t;
    }
    writable = writable && (entry & kWritable) != 0;
    user_ok = user_ok && (entry & kUserBit) != 0;
    executable = executable && (entry & kXd) == 0;
    const bool leaf = level == 0 || ((level == 1 || level == 2) && (entry & kLarge) != 0);
    if (!leaf) {
      table = entry & kAddressMask;
      continue;
    }
    const std::uint64_t size = std::uint64_t{1} << shift;
    bool allowed = true;
    if (user && !user_ok) allowed = false;
    if (access == X86Access::write && !writable && (user || (state.cr0 & kCr0Wp) != 0)) allowed = false;
    if (access == X86Access::fetch && nxe && !executable) allowed = false;
    if (!allowed) {
      t.error_code = error | pf_error::kPresent;
      return t;
    }
    t.gpa = (entry & kAddressMask & ~(size - 1)) | (linear & (size - 1));
    t.page_size = size;
    return t;
  }
  return t;  // not reached: level 0 is always a leaf
}

namespace {

template <typename Span, typename Transfer>
bool each_page(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear, Span bytes, X86Access access,
               X86LinearFault* fault, Transfer&& transfer) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const std::uint64_t at = linear + done;
    const std::size_t chunk = static_cast<std::size_t>(
        std::min<std::uint64_t>(bytes.size() - done, kPageSize - (at & (kPageSize - 1))));
    const X86Translation t = x86_translate(ram, state, at, access);
    if (!t.gpa || !transfer(*t.gpa, bytes.subspan(done, chunk))) {
      if (fault != nullptr) {
        fault->address = at;
        // Outside RAM (an MMIO page, say) is not a paging fault; report it
        // as not present so the caller has an address to name.
        fault->error_code = t.gpa ? 0 : t.error_code;
      }
      return false;
    }
    done += chunk;
  }
  return true;
}

}  // namespace

bool x86_read_linear(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear, std::span<std::byte> out,
                     X86Access access, X86LinearFault* fault) {
  return each_page(ram, state, linear, out, access, fault,
                   [&](std::uint64_t gpa, std::span<std::byte> part) { return ram.read(gpa, part); });
}

bool x86_write_linear(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear,
                      std::span<const std::byte> in, X86LinearFault* fault) {
  return each_page(ram, state, linear, in, X86Access::write, fault,
                   [&](std::uint64_t gpa, std::span<const std::byte> part) { return ram.write(gpa, part); });
}

}  // namespace softsynic::emu::x86
