// Guest page walks for the engine's own accesses; see x86_paging.h.
#include "emu/x86/x86_paging.h"

#include <algorithm>
#include <cstring>

#include "synic/guest_memory.h"

namespace softsynic::emu::x86 {
namespace {

constexpr std::uint64_t kCr0Pg = 1ull << 31;
constexpr std::uint64_t kCr0Wp = 1ull << 16;
constexpr std::uint64_t kCr4Pse = 1ull << 4;
constexpr std::uint64_t kCr4Pae = 1ull << 5;
constexpr std::uint64_t kEferLma = 1ull << 10;
constexpr std::uint64_t kEferNxe = 1ull << 11;
constexpr std::uint64_t kPresent = 1ull << 0;
constexpr std::uint64_t kWritable = 1ull << 1;
constexpr std::uint64_t kUserBit = 1ull << 2;
constexpr std::uint64_t kAccessed = 1ull << 5;
constexpr std::uint64_t kDirty = 1ull << 6;
constexpr std::uint64_t kLarge = 1ull << 7;
constexpr std::uint64_t kXd = 1ull << 63;
constexpr std::uint64_t kAddressMask = 0x000F'FFFF'FFFF'F000;
constexpr std::uint64_t kPageSize = 0x1000;

// One paging mode's shape: the levels' index shifts from the top, the
// entry size, and which levels may map a large page.
struct PagingFormat {
  unsigned levels;
  unsigned shifts[4];
  unsigned index_bits[4];
  bool large_ok[4];
  unsigned entry_bytes;
  bool rights_at[4];  // PAE's PDPTEs carry no R/W or U/S
  std::uint64_t table_mask;
};

constexpr PagingFormat kLongMode{4, {39, 30, 21, 12}, {9, 9, 9, 9}, {false, true, true, false}, 8,
                                 {true, true, true, true}, kAddressMask};
constexpr PagingFormat kPae{3, {30, 21, 12, 0}, {2, 9, 9, 0}, {false, true, false, false}, 8,
                            {false, true, true, false}, kAddressMask};
constexpr PagingFormat kPse32{2, {22, 12, 0, 0}, {10, 10, 0, 0}, {false, false, false, false}, 4,
                              {true, true, false, false}, 0xFFFF'F000};

bool read_entry(GuestMemory& ram, std::uint64_t gpa, unsigned bytes, std::uint64_t& entry) {
  std::byte raw[8] = {};
  if (!ram.read(gpa, std::span<std::byte>(raw, bytes))) return false;
  entry = 0;
  std::memcpy(&entry, raw, bytes);
  return true;
}

// Sets `bits` in the entry at `gpa` unless they are set already (an atomic
// OR on the aligned 8 bytes holding it: another VP may walk it too).
void set_entry_bits(GuestMemory& ram, std::uint64_t gpa, std::uint64_t entry, std::uint64_t bits) {
  if ((entry & bits) == bits) return;
  const unsigned shift = static_cast<unsigned>(gpa & 7) * 8;
  ram.fetch_or_u64(gpa & ~std::uint64_t{7}, bits << shift);
}

}  // namespace

X86Walk x86_walk(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear, X86Access access, bool user,
                 bool update_flags) {
  X86Walk w;
  if ((state.cr0 & kCr0Pg) == 0) {
    w.gpa = linear;
    w.writable = w.executable = w.dirty = true;
    return w;
  }
  const bool long_mode = (state.efer & kEferLma) != 0;
  const PagingFormat& format = long_mode ? kLongMode : (state.cr4 & kCr4Pae) != 0 ? kPae : kPse32;
  if (long_mode) {
    // Bits 63:47 must all equal bit 47.
    const std::uint64_t high = linear >> 47;
    if (high != 0 && high != 0x1'FFFF) {
      w.general_protection = true;
      return w;
    }
  } else {
    linear &= 0xFFFF'FFFF;
  }
  const bool nxe = (state.efer & kEferNxe) != 0 && format.entry_bytes == 8;
  const std::uint32_t error = (access == X86Access::write ? pf_error::kWrite : 0) | (user ? pf_error::kUser : 0) |
                              (access == X86Access::fetch && nxe ? pf_error::kFetch : 0);
  // Rights accumulate over the levels: every level must allow the access.
  bool writable = true, user_ok = true, executable = true;
  std::uint64_t table = format.entry_bytes == 8 && !long_mode ? state.cr3 & 0xFFFF'FFE0 : state.cr3 & format.table_mask;
  std::uint64_t entry_gpa[4] = {}, entries[4] = {};
  for (unsigned level = 0; level < format.levels; ++level) {
    const unsigned shift = format.shifts[level];
    const std::uint64_t index = (linear >> shift) & ((std::uint64_t{1} << format.index_bits[level]) - 1);
    entry_gpa[level] = table + format.entry_bytes * index;
    std::uint64_t entry = 0;
    if (!read_entry(ram, entry_gpa[level], format.entry_bytes, entry) || (entry & kPresent) == 0) {
      w.error_code = error;
      return w;
    }
    entries[level] = entry;
    if (format.entry_bytes == 8 && !nxe && (entry & kXd) != 0) {
      w.error_code = error | pf_error::kPresent | pf_error::kReserved;
      return w;
    }
    if (format.rights_at[level]) {
      writable = writable && (entry & kWritable) != 0;
      user_ok = user_ok && (entry & kUserBit) != 0;
    }
    if (nxe) executable = executable && (entry & kXd) == 0;
    const bool large_here = format.large_ok[level] || (format.entry_bytes == 4 && level == 0 && (state.cr4 & kCr4Pse) != 0);
    const bool leaf = level + 1 == format.levels || (large_here && (entry & kLarge) != 0);
    if (!leaf) {
      table = entry & format.table_mask;
      continue;
    }
    const std::uint64_t size = std::uint64_t{1} << shift;
    // A supervisor write ignores R/W while CR0.WP is clear.
    const bool reachable = !user || user_ok;
    const bool may_write = reachable && (writable || (!user && (state.cr0 & kCr0Wp) == 0));
    const bool may_fetch = reachable && executable;
    if (!reachable || (access == X86Access::write && !may_write) || (access == X86Access::fetch && !may_fetch)) {
      w.error_code = error | pf_error::kPresent;
      return w;
    }
    w.writable = may_write;
    w.executable = may_fetch;
    if (update_flags) {
      for (unsigned l = 0; l <= level; ++l) {
        if (!format.rights_at[l]) continue;  // PAE's PDPTEs have no A flag
        const std::uint64_t bits = kAccessed | (l == level && access == X86Access::write ? kDirty : 0);
        set_entry_bits(ram, entry_gpa[l], entries[l], bits);
        entries[l] |= bits;
      }
    }
    w.dirty = (entries[level] & kDirty) != 0;
    const std::uint64_t frame_mask = format.entry_bytes == 4 ? 0xFFFF'FFFF : kAddressMask;
    w.gpa = (entry & frame_mask & ~(size - 1)) | (linear & (size - 1));
    w.page_size = size;
    return w;
  }
  return w;  // not reached: the last level is always a leaf
}

X86Translation x86_translate(GuestMemory& ram, const X86PagingState& state, std::uint64_t linear, X86Access access,
                             bool user) {
  const X86Walk w = x86_walk(ram, state, linear, access, user, false);
  X86Translation t;
  t.gpa = w.gpa;
  t.error_code = w.error_code;
  t.page_size = w.page_size;
  return t;
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
