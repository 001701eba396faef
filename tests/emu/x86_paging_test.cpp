// x86_walk and x86_translate over page tables built by hand in guest RAM:
// the three paging modes and paging off, large pages, the rights over all
// levels, the #PF error code, #GP for non-canonical addresses, and the
// accessed and dirty flags (Intel SDM vol. 3, 4.3-4.8).
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "emu/x86/x86_paging.h"
#include "synic/guest_memory.h"

using softsynic::RamGuestMemory;
using softsynic::emu::x86::X86Access;
using softsynic::emu::x86::X86PagingState;
using softsynic::emu::x86::X86Walk;
using softsynic::emu::x86::x86_translate;
using softsynic::emu::x86::x86_walk;
namespace pf = softsynic::emu::x86::pf_error;

namespace {

constexpr std::uint64_t kP = 1ull << 0;
constexpr std::uint64_t kW = 1ull << 1;
constexpr std::uint64_t kU = 1ull << 2;
constexpr std::uint64_t kA = 1ull << 5;
constexpr std::uint64_t kD = 1ull << 6;
constexpr std::uint64_t kPs = 1ull << 7;
constexpr std::uint64_t kXd = 1ull << 63;
constexpr std::uint64_t kPwu = kP | kW | kU;

constexpr std::uint64_t kCr0Pg = 1ull << 31;
constexpr std::uint64_t kCr0Wp = 1ull << 16;
constexpr std::uint64_t kCr0Pe = 1ull << 0;
constexpr std::uint64_t kCr4Pse = 1ull << 4;
constexpr std::uint64_t kCr4Pae = 1ull << 5;
constexpr std::uint64_t kEferLme = 1ull << 8;
constexpr std::uint64_t kEferLma = 1ull << 10;
constexpr std::uint64_t kEferNxe = 1ull << 11;

constexpr std::uint64_t k4K = 0x1000;
constexpr std::uint64_t k2M = 0x20'0000;
constexpr std::uint64_t k4M = 0x40'0000;
constexpr std::uint64_t k1G = 0x4000'0000;

// Guest RAM holding page tables (the pages they map need not be RAM: a
// walk never reads them).
class Tables {
 public:
  explicit Tables(unsigned entry_bytes) : entry_bytes_(entry_bytes) {}

  std::uint64_t table() {
    const std::uint64_t t = next_;
    next_ += k4K;
    return t;
  }
  std::uint64_t get(std::uint64_t gpa) {
    std::uint64_t v = 0;
    REQUIRE(ram.read(gpa, std::as_writable_bytes(std::span(&v, 1)).first(entry_bytes_)));
    return v;
  }
  void set(std::uint64_t gpa, std::uint64_t v) {
    REQUIRE(ram.write(gpa, std::as_bytes(std::span(&v, 1)).first(entry_bytes_)));
  }

  // Builds the path to `linear` from the table at `root`: one entry per
  // level of `shifts` (top first), each level's index `index_bits` wide
  // and a leaf at the level whose shift is that of `size`. Entries above
  // the leaf point at a new table (or the one already there) with `upper`
  // flags; the leaf maps `pa` with `leaf` flags (PS added for a large
  // page). Returns the entries' addresses, top first.
  std::vector<std::uint64_t> map(std::uint64_t root, std::span<const unsigned> shifts,
                                 std::span<const unsigned> index_bits, std::uint64_t linear, std::uint64_t pa,
                                 std::uint64_t size, std::uint64_t leaf, std::uint64_t upper) {
    std::vector<std::uint64_t> path;
    std::uint64_t table = root;
    for (std::size_t level = 0; level < shifts.size(); ++level) {
      const std::uint64_t index = (linear >> shifts[level]) & ((std::uint64_t{1} << index_bits[level]) - 1);
      const std::uint64_t at = table + entry_bytes_ * index;
      path.push_back(at);
      if ((std::uint64_t{1} << shifts[level]) == size) {
        set(at, pa | leaf | (size != k4K ? kPs : 0));
        return path;
      }
      std::uint64_t next = get(at) & 0x000F'FFFF'FFFF'F000 & (entry_bytes_ == 4 ? 0xFFFF'F000 : ~std::uint64_t{0});
      if (next == 0) next = this->table();
      set(at, next | upper);
      table = next;
    }
    FAIL("no level maps pages of this size");
    return path;
  }

  RamGuestMemory ram{0x100'0000};

 private:
  unsigned entry_bytes_;
  std::uint64_t next_ = 0x10'0000;
};

// IA-32e 4-level paging (SDM 4.5).
constexpr std::array<unsigned, 4> kLongShifts = {39, 30, 21, 12};
constexpr std::array<unsigned, 4> kLongBits = {9, 9, 9, 9};

struct LongMode {
  Tables t{8};
  std::uint64_t root = t.table();
  X86PagingState state{kCr0Pg | kCr0Pe | kCr0Wp, root, kCr4Pae, kEferLme | kEferLma | kEferNxe};

  std::vector<std::uint64_t> map(std::uint64_t linear, std::uint64_t pa, std::uint64_t size, std::uint64_t leaf,
                                 std::uint64_t upper = kPwu) {
    return t.map(root, kLongShifts, kLongBits, linear, pa, size, leaf, upper);
  }
  X86Walk walk(std::uint64_t linear, X86Access access, bool user = false, bool update = false) {
    return x86_walk(t.ram, state, linear, access, user, update);
  }
};

const char* access_name(X86Access a) {
  return a == X86Access::read ? "read" : a == X86Access::write ? "write" : "fetch";
}

// x86_translate answers as x86_walk does (the flag test shows it writes none).
void check_translate_agrees(Tables& t, const X86PagingState& state, std::uint64_t linear, X86Access access, bool user,
                            const X86Walk& w) {
  const auto translated = x86_translate(t.ram, state, linear, access, user);
  CHECK(translated.gpa == w.gpa);
  CHECK(translated.error_code == w.error_code);
  if (w.gpa) CHECK(translated.page_size == w.page_size);
}

}  // namespace

TEST_CASE("x86_walk 4-level: 4 KiB, 2 MiB and 1 GiB pages map the offset inside the page") {
  struct Case {
    std::uint64_t size, linear, pa, gpa;
  };
  const Case cases[] = {
      {k4K, 0x0000'7F12'3456'7ABC, 0x0002'3000, 0x0002'3ABC},
      {k2M, 0x0000'0040'1234'5678, 0x0060'0000, 0x0074'5678},
      {k1G, 0x0000'0012'3456'789A, 0x0001'C000'0000, 0x0001'F456'789A},
      // The upper half: indices come from bits 47:39 (PML4 index 256).
      {k4K, 0xFFFF'8000'0000'1234, 0x0003'5000, 0x0003'5234},
      {k2M, 0xFFFF'FFFF'8020'0010, 0x0020'0000, 0x0020'0010},
      // Bits 51:12 of the address field: a frame above 4 GiB.
      {k4K, 0x0000'0000'0000'2FFF, 0x000F'FFFF'FFFF'F000, 0x000F'FFFF'FFFF'FFFF},
  };
  for (const Case& c : cases) {
    CAPTURE(c.linear);
    CAPTURE(c.size);
    LongMode m;
    m.map(c.linear, c.pa, c.size, kPwu);
    for (X86Access access : {X86Access::read, X86Access::write, X86Access::fetch}) {
      CAPTURE(access_name(access));
      const X86Walk w = m.walk(c.linear, access);
      REQUIRE(w.gpa);
      CHECK(*w.gpa == c.gpa);
      CHECK(w.page_size == c.size);
      CHECK_FALSE(w.general_protection);
      CHECK(w.error_code == 0);
      check_translate_agrees(m.t, m.state, c.linear, access, false, w);
    }
  }
}

TEST_CASE("x86_walk 4-level: the bits that are no frame address in a large page's entry are left out") {
  // A 2 MiB leaf with PAT (bit 12), protection-key and ignored bits (62:52)
  // set, and a 1 GiB leaf with bits 29:13 set.
  LongMode m;
  m.map(0x4000'0000, 0x00A0'0000 | (1ull << 12) | (0x7Full << 52), k2M, kPwu);
  auto w = m.walk(0x4000'0123, X86Access::read);
  REQUIRE(w.gpa);
  CHECK(*w.gpa == 0x00A0'0123);
  LongMode g;
  g.map(0x80'0000'0000, 0x1'4000'0000 | 0x3FFF'E000, k1G, kPwu);
  w = g.walk(0x80'0000'0456, X86Access::read);
  REQUIRE(w.gpa);
  CHECK(*w.gpa == 0x1'4000'0456);
}

TEST_CASE("x86_walk 4-level: rights over every level and the #PF error code (SDM 4.6, 4.7)") {
  enum class Where { leaf, pdpte, pml4e };
  struct Case {
    const char* name;
    std::uint64_t flags;  // the entry at `where` (the others: P|W|U)
    Where where;
    bool wp, nxe;
    X86Access access;
    bool user;
    bool translates;
    std::uint32_t error;  // when it does not
    bool writable, executable;  // when it does
  };
  using enum X86Access;
  constexpr std::uint32_t P = pf::kPresent, W = pf::kWrite, U = pf::kUser, R = pf::kReserved, I = pf::kFetch;
  const Case cases[] = {
      {"not present, supervisor read", 0, Where::leaf, true, true, read, false, false, 0, false, false},
      {"not present, user write", kW | kU, Where::leaf, true, true, write, true, false, W | U, false, false},
      {"not present PDPTE, supervisor fetch (I with NXE)", 0, Where::pdpte, true, true, fetch, false, false, I, false,
       false},
      {"not present, fetch without NXE (no I)", 0, Where::leaf, true, false, fetch, false, false, 0, false, false},
      {"read-only, supervisor write, WP set", kP | kU, Where::leaf, true, true, write, false, false, P | W, false,
       false},
      {"read-only, supervisor write, WP clear", kP | kU, Where::leaf, false, true, write, false, true, 0, true, true},
      {"read-only, user write, WP set", kP | kU, Where::leaf, true, true, write, true, false, P | W | U, false, false},
      {"read-only, user write, WP clear", kP | kU, Where::leaf, false, true, write, true, false, P | W | U, false,
       false},
      {"read-only PDPTE, supervisor write, WP set", kP | kU, Where::pdpte, true, true, write, false, false, P | W,
       false, false},
      {"read-only PML4E, user read", kP | kU, Where::pml4e, true, true, read, true, true, 0, false, true},
      {"read-only, supervisor read, WP set", kP | kU, Where::leaf, true, true, read, false, true, 0, false, true},
      {"read-only, supervisor read, WP clear: a write may follow", kP | kU, Where::leaf, false, true, read, false, true,
       0, true, true},
      {"supervisor page, user read", kP | kW, Where::leaf, true, true, read, true, false, P | U, false, false},
      {"supervisor page, user write", kP | kW, Where::leaf, true, true, write, true, false, P | W | U, false, false},
      {"supervisor PML4E, user fetch", kP | kW, Where::pml4e, true, true, fetch, true, false, P | U | I, false,
       false},
      {"user page, supervisor write", kPwu, Where::leaf, true, true, write, false, true, 0, true, true},
      {"XD page, supervisor fetch with NXE", kPwu | kXd, Where::leaf, true, true, fetch, false, false, P | I, false,
       false},
      {"XD page, user fetch with NXE", kPwu | kXd, Where::leaf, true, true, fetch, true, false, P | U | I, false,
       false},
      {"XD PDPTE, supervisor fetch with NXE", kPwu | kXd, Where::pdpte, true, true, fetch, false, false, P | I, false,
       false},
      {"XD page, read with NXE", kPwu | kXd, Where::leaf, true, true, read, false, true, 0, true, false},
      {"XD page, write with NXE", kPwu | kXd, Where::leaf, true, true, write, true, true, 0, true, false},
      {"XD page, read without NXE: reserved", kPwu | kXd, Where::leaf, true, false, read, false, false, P | R, false,
       false},
      {"XD page, fetch without NXE: reserved, no I", kPwu | kXd, Where::leaf, true, false, fetch, false, false, P | R,
       false, false},
      {"XD PML4E, user write without NXE: reserved", kPwu | kXd, Where::pml4e, true, false, write, true, false,
       P | W | U | R, false, false},
      {"no XD, fetch without NXE", kPwu, Where::leaf, true, false, fetch, true, true, 0, true, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    LongMode m;
    constexpr std::uint64_t linear = 0x0000'1234'5678'9000;
    const auto path = m.map(linear, 0x7000, k4K, kPwu);
    m.t.set(path[c.where == Where::leaf ? 3 : c.where == Where::pdpte ? 1 : 0],
            (m.t.get(path[c.where == Where::leaf ? 3 : c.where == Where::pdpte ? 1 : 0]) & ~(kPwu | kXd)) | c.flags);
    if (!c.wp) m.state.cr0 &= ~kCr0Wp;
    if (!c.nxe) m.state.efer &= ~kEferNxe;
    const X86Walk w = m.walk(linear + 0x10, c.access, c.user);
    CHECK_FALSE(w.general_protection);
    CHECK(w.gpa.has_value() == c.translates);
    if (c.translates) {
      CHECK(*w.gpa == 0x7010);
      CHECK(w.writable == c.writable);
      CHECK(w.executable == c.executable);
    } else {
      CHECK(w.error_code == c.error);
    }
    check_translate_agrees(m.t, m.state, linear + 0x10, c.access, c.user, w);
  }
}

TEST_CASE("x86_walk 4-level: a table outside RAM faults as not present") {
  LongMode m;
  const auto path = m.map(0x5000, 0x5000, k4K, kPwu);
  m.t.set(path[1], 0x8000'0000 | kPwu);  // the page directory would be at 2 GiB
  const X86Walk w = m.walk(0x5000, X86Access::write, true);
  CHECK_FALSE(w.gpa);
  CHECK(w.error_code == (pf::kWrite | pf::kUser));
}

TEST_CASE("x86_walk: accessed flags at every level and dirty on the leaf, only when asked (SDM 4.8)") {
  struct Case {
    std::uint64_t size;
    X86Access access;
    bool update;
  };
  const Case cases[] = {{k4K, X86Access::read, true},   {k4K, X86Access::write, true},  {k4K, X86Access::fetch, true},
                        {k2M, X86Access::read, true},   {k2M, X86Access::write, true},  {k1G, X86Access::write, true},
                        {k4K, X86Access::write, false}, {k2M, X86Access::write, false}, {k4K, X86Access::read, false}};
  for (const Case& c : cases) {
    CAPTURE(c.size);
    CAPTURE(access_name(c.access));
    CAPTURE(c.update);
    LongMode m;
    constexpr std::uint64_t linear = 0x0000'0040'0000'0000;
    const auto path = m.map(linear, 0x4000'0000, c.size, kPwu);
    std::vector<std::uint64_t> before;
    for (std::uint64_t at : path) before.push_back(m.t.get(at));
    // The engine's own accesses (x86_translate) set no flag.
    REQUIRE(x86_translate(m.t.ram, m.state, linear, c.access).gpa);
    for (std::size_t level = 0; level < path.size(); ++level) CHECK(m.t.get(path[level]) == before[level]);
    const X86Walk w = m.walk(linear, c.access, false, c.update);
    REQUIRE(w.gpa);
    const bool writes = c.access == X86Access::write;
    for (std::size_t level = 0; level < path.size(); ++level) {
      CAPTURE(level);
      const bool leaf = level + 1 == path.size();
      std::uint64_t want = before[level];
      if (c.update) want |= kA | (leaf && writes ? kD : 0);
      CHECK(m.t.get(path[level]) == want);
    }
    CHECK(w.dirty == (c.update && writes));
    CHECK(w.writable);
  }
}

TEST_CASE("x86_walk: `dirty` reports a leaf dirtied before; a refused write dirties nothing") {
  LongMode m;
  m.map(0x9000, 0x9000, k4K, kPwu | kD);
  CHECK(m.walk(0x9000, X86Access::read).dirty);
  CHECK(m.walk(0x9000, X86Access::read, false, true).dirty);

  LongMode ro;
  const auto ro_path = ro.map(0x9000, 0x9000, k4K, kP | kU);
  const X86Walk w = ro.walk(0x9000, X86Access::write, false, true);
  CHECK_FALSE(w.gpa);
  CHECK((ro.t.get(ro_path[3]) & kD) == 0);
  CHECK_FALSE(w.dirty);
}

TEST_CASE("x86_walk 4-level: a non-canonical address is #GP(0), never a walk") {
  const std::uint64_t non_canonical[] = {0x0000'8000'0000'0000, 0x0001'0000'0000'0000, 0xFFFF'7FFF'FFFF'F000,
                                         0x8000'0000'0000'0000, 0x7FFF'FFFF'FFFF'FFFF};
  for (std::uint64_t linear : non_canonical) {
    CAPTURE(linear);
    LongMode m;
    // A mapping of the same index bits: a walk that ignored bits 63:48
    // would translate.
    m.map(linear & 0x0000'FFFF'FFFF'F000, 0x3000, k4K, kPwu);
    for (X86Access access : {X86Access::read, X86Access::write, X86Access::fetch}) {
      const X86Walk w = m.walk(linear, access, false, true);
      CHECK(w.general_protection);
      CHECK_FALSE(w.gpa);
      const auto t = x86_translate(m.t.ram, m.state, linear, access);
      CHECK_FALSE(t.gpa);
      CHECK(t.error_code == 0);
    }
  }
  LongMode m;
  m.map(0x0000'7FFF'FFFF'F000, 0x3000, k4K, kPwu);
  m.map(0xFFFF'8000'0000'0000, 0x4000, k4K, kPwu);
  CHECK(m.walk(0x0000'7FFF'FFFF'FFFF, X86Access::read).gpa == 0x3FFFull);
  CHECK(m.walk(0xFFFF'8000'0000'0000, X86Access::read).gpa == 0x4000ull);
}

namespace {

// 32-bit paging (SDM 4.3): 4-byte entries, CR4.PAE clear.
constexpr std::array<unsigned, 2> k32Shifts = {22, 12};
constexpr std::array<unsigned, 2> k32Bits = {10, 10};

struct Paging32 {
  Tables t{4};
  std::uint64_t root = t.table();
  X86PagingState state{kCr0Pg | kCr0Pe | kCr0Wp, root, 0, 0};
  std::vector<std::uint64_t> map(std::uint64_t linear, std::uint64_t pa, std::uint64_t size, std::uint64_t leaf,
                                 std::uint64_t upper = kPwu) {
    return t.map(root, k32Shifts, k32Bits, linear, pa, size, leaf, upper);
  }
  X86Walk walk(std::uint64_t linear, X86Access access, bool user = false, bool update = false) {
    return x86_walk(t.ram, state, linear, access, user, update);
  }
};

}  // namespace

TEST_CASE("x86_walk 32-bit paging: 4 KiB pages, rights, flags, and bits 63:32 of the address ignored") {
  Paging32 m;
  const auto path = m.map(0xC012'3000, 0x0033'3000, k4K, kPwu);
  auto w = m.walk(0xC012'3456, X86Access::read);
  REQUIRE(w.gpa);
  CHECK(*w.gpa == 0x0033'3456);
  CHECK(w.page_size == k4K);
  // Only the low 32 bits are a linear address outside IA-32e mode.
  CHECK(m.walk(0x1'C012'3456, X86Access::read).gpa == 0x0033'3456ull);
  CHECK_FALSE(m.walk(0x1'C012'3456, X86Access::read).general_protection);

  // A write sets A on the PDE and the PTE, D on the PTE, and leaves the
  // neighbouring 4-byte entries alone.
  m.t.set(path[0] ^ 4, 0x1234'5000 | kP);
  m.t.set(path[1] ^ 4, 0x5678'9000 | kP);
  w = m.walk(0xC012'3000, X86Access::write, true, true);
  REQUIRE(w.gpa);
  CHECK(w.dirty);
  CHECK(m.t.get(path[0]) == (kA | kPwu | (m.t.get(path[0]) & 0xFFFF'F000)));
  CHECK(m.t.get(path[1]) == (0x0033'3000 | kPwu | kA | kD));
  CHECK(m.t.get(path[0] ^ 4) == (0x1234'5000 | kP));
  CHECK(m.t.get(path[1] ^ 4) == (0x5678'9000 | kP));

  // No XD in 4-byte entries: EFER.NXE does not apply; a fetch's error
  // code has no I flag.
  m.state.efer = kEferNxe;
  w = m.walk(0xC012'3000, X86Access::fetch, true);
  REQUIRE(w.gpa);
  CHECK(w.executable);
  w = m.walk(0xC012'4000, X86Access::fetch, true);
  CHECK_FALSE(w.gpa);
  CHECK(w.error_code == pf::kUser);

  // Rights: user write to a read-only page, user read of a supervisor PDE.
  m.t.set(path[1], 0x0033'3000 | kP | kU);
  w = m.walk(0xC012'3000, X86Access::write, true);
  CHECK_FALSE(w.gpa);
  CHECK(w.error_code == (pf::kPresent | pf::kWrite | pf::kUser));
  m.t.set(path[1], 0x0033'3000 | kPwu);
  m.t.set(path[0], (m.t.get(path[0]) & ~kU));
  w = m.walk(0xC012'3000, X86Access::read, true);
  CHECK_FALSE(w.gpa);
  CHECK(w.error_code == (pf::kPresent | pf::kUser));
}

TEST_CASE("x86_walk 32-bit paging: a PDE with PS maps 4 MiB only with CR4.PSE") {
  Paging32 m;
  // The PDE for 0x8040'0000 is both a 4 MiB page at 0x00C0'0000 (PS set)
  // and, read as a table pointer, a page table at 0x00C0'0000 that maps
  // the same linear page elsewhere.
  const auto path = m.map(0x8040'0000, 0x00C0'0000, k4M, kPwu);
  REQUIRE(path.size() == 1);
  CHECK(m.t.get(path[0]) == (0x00C0'0000 | kPwu | kPs));
  m.t.set(0x00C0'0000 + 4 * 0x3, 0x0011'1000 | kPwu);  // PTE index 3: linear 0x8040'3000

  auto w = m.walk(0x8040'3ABC, X86Access::read, false, true);
  REQUIRE(w.gpa);
  CHECK(*w.gpa == 0x0011'1ABC);
  CHECK(w.page_size == k4K);

  m.state.cr4 = kCr4Pse;
  w = m.walk(0x8040'3ABC, X86Access::write, false, true);
  REQUIRE(w.gpa);
  CHECK(*w.gpa == 0x00C0'3ABC);
  CHECK(w.page_size == k4M);
  CHECK((m.t.get(path[0]) & (kA | kD)) == (kA | kD));
  w = m.walk(0x807F'FFFF, X86Access::read);
  CHECK(w.gpa == 0x00FF'FFFFull);
}

namespace {

// PAE paging (SDM 4.4): CR4.PAE set, EFER.LMA clear; a 4-entry PDPT at
// CR3 bits 31:5.
constexpr std::array<unsigned, 3> kPaeShifts = {30, 21, 12};
constexpr std::array<unsigned, 3> kPaeBits = {2, 9, 9};

struct Pae {
  Tables t{8};
  std::uint64_t pdpt = t.table() + 0x60;  // 32-byte aligned, not page aligned
  X86PagingState state{kCr0Pg | kCr0Pe | kCr0Wp, pdpt | 0x18 /* PWT, PCD */, kCr4Pae, kEferNxe};
  // The PDPTE holds only P (its R/W and U/S bits are reserved).
  std::vector<std::uint64_t> map(std::uint64_t linear, std::uint64_t pa, std::uint64_t size, std::uint64_t leaf) {
    auto path = t.map(pdpt, kPaeShifts, kPaeBits, linear, pa, size, leaf, kPwu);
    t.set(path[0], t.get(path[0]) & ~(kW | kU));
    return path;
  }
  X86Walk walk(std::uint64_t linear, X86Access access, bool user = false, bool update = false) {
    return x86_walk(t.ram, state, linear, access, user, update);
  }
};

}  // namespace

TEST_CASE("x86_walk PAE paging: 4 KiB and 2 MiB pages; PDPTEs carry no rights and no accessed flag") {
  Pae m;
  const auto small = m.map(0xC000'5000, 0x0001'2345'6000, k4K, kPwu);
  const auto large = m.map(0x4060'0000, 0x0000'0000'00A0'0000, k2M, kPwu);
  REQUIRE(small.size() == 3);
  REQUIRE(large.size() == 2);
  CHECK(small[0] == m.pdpt + 8 * 3);
  CHECK(large[0] == m.pdpt + 8 * 1);

  auto w = m.walk(0xC000'5678, X86Access::write, true, true);
  REQUIRE(w.gpa);
  CHECK(*w.gpa == 0x0001'2345'6678);
  CHECK(w.page_size == k4K);
  CHECK(w.writable);
  CHECK((m.t.get(small[0]) & (kA | kD | kW | kU)) == 0);  // the PDPTE: P only, and no A flag set
  CHECK((m.t.get(small[1]) & (kA | kD)) == kA);
  CHECK((m.t.get(small[2]) & (kA | kD)) == (kA | kD));

  w = m.walk(0x407F'FFFF, X86Access::read, true, true);
  REQUIRE(w.gpa);
  CHECK(*w.gpa == 0x00BF'FFFF);
  CHECK(w.page_size == k2M);
  CHECK((m.t.get(large[1]) & (kA | kD)) == kA);
  CHECK_FALSE(w.dirty);

  // XD with NXE: a fetch faults with I; without NXE the bit is reserved.
  m.t.set(large[1], m.t.get(large[1]) | kXd);
  w = m.walk(0x4060'0000, X86Access::fetch, true);
  CHECK_FALSE(w.gpa);
  CHECK(w.error_code == (pf::kPresent | pf::kUser | pf::kFetch));
  m.state.efer = 0;
  w = m.walk(0x4060'0000, X86Access::read);
  CHECK_FALSE(w.gpa);
  CHECK(w.error_code == (pf::kPresent | pf::kReserved));

  // Rights from the PDE and the PTE, and a not-present PDPTE.
  m.t.set(small[1], m.t.get(small[1]) & ~kU);
  w = m.walk(0xC000'5000, X86Access::read, true);
  CHECK_FALSE(w.gpa);
  CHECK(w.error_code == (pf::kPresent | pf::kUser));
  w = m.walk(0x0000'1000, X86Access::write);
  CHECK_FALSE(w.gpa);
  CHECK(w.error_code == pf::kWrite);
}

TEST_CASE("x86_walk: paging off is the identity, with every right and no flag written") {
  Tables t{8};
  // CR3 points at garbage: it must not be read.
  const std::uint64_t garbage = t.table();
  t.set(garbage, 0xFFFF'FFFF'FFFF'FFFF);
  for (const X86PagingState& state : {X86PagingState{kCr0Pe, garbage, kCr4Pae, 0}, X86PagingState{0, 0, 0, 0}}) {
    for (std::uint64_t linear : {std::uint64_t{0}, std::uint64_t{0x12'3456}, std::uint64_t{0xFFFF'FFFF}}) {
      for (X86Access access : {X86Access::read, X86Access::write, X86Access::fetch}) {
        const X86Walk w = x86_walk(t.ram, state, linear, access, true, true);
        REQUIRE(w.gpa);
        CHECK(*w.gpa == linear);
        CHECK(w.writable);
        CHECK(w.executable);
        CHECK(w.dirty);
        CHECK_FALSE(w.general_protection);
      }
    }
  }
  CHECK(t.get(garbage) == 0xFFFF'FFFF'FFFF'FFFF);
}
