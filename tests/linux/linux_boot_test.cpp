// The Linux boot-protocol loader (emu/pc/linux_boot.h) on synthetic
// kernels built here: a bzImage setup header with a protected-mode part,
// and an ELF64 vmlinux with the PVH note. Also the e820 map builder.
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "emu/pc/e820.h"
#include "emu/pc/linux_boot.h"
#include "synic/guest_memory.h"

using namespace softsynic;
using namespace softsynic::emu;

namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::uint64_t kRam = 256ull << 20;

void put(Bytes& b, std::size_t at, std::uint64_t v, unsigned size) {
  if (b.size() < at + size) b.resize(at + size);
  for (unsigned i = 0; i < size; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get(const Bytes& b, std::size_t at, unsigned size) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= std::uint64_t{b.at(at + i)} << (8 * i);
  return v;
}

// A bzImage: `setup_sects` sectors of setup after the boot sector, then a
// protected-mode kernel of `pm_size` bytes whose first byte is 0xE9.
Bytes bzimage(std::uint16_t version = 0x020F, std::uint16_t xloadflags = 1, unsigned setup_sects = 3,
              std::size_t pm_size = 0x3000) {
  Bytes k((setup_sects + 1) * 512 + pm_size, 0);
  k[0x1F1] = static_cast<std::uint8_t>(setup_sects);
  put(k, 0x1FE, 0xAA55, 2);
  k[0x200] = 0xEB;
  k[0x201] = 0x6A;  // header ends at 0x26C
  put(k, 0x202, 0x53726448, 4);
  put(k, 0x206, version, 2);
  k[0x211] = 0x01;
  put(k, 0x22C, 0x7FFFFFFF, 4);    // initrd_addr_max
  put(k, 0x230, 0x200000, 4);      // kernel_alignment
  put(k, 0x236, xloadflags, 2);
  put(k, 0x238, 2048, 4);          // cmdline_size
  put(k, 0x258, 0x1000000, 8);     // pref_address
  put(k, 0x260, 0x800000, 4);      // init_size
  k[(setup_sects + 1) * 512] = 0xE9;
  return k;
}

// An ELF64 vmlinux: one PT_LOAD at 16 MiB (0x100 bytes of file, 0x1000 in
// memory) and a PT_NOTE with a foreign note followed by the Xen PVH note.
Bytes pvh_vmlinux(bool with_note = true, unsigned entry_size = 8) {
  Bytes k(0x400, 0);
  put(k, 0, 0x464C457F, 4);
  k[4] = 2;
  k[5] = 1;
  k[6] = 1;
  put(k, 16, 2, 2);        // ET_EXEC
  put(k, 18, 62, 2);       // x86-64
  put(k, 24, 0xFFFFFFFF81000000ull, 8);
  put(k, 32, 64, 8);       // phoff
  put(k, 52, 64, 2);
  put(k, 54, 56, 2);
  put(k, 56, 2, 2);        // phnum
  // PT_LOAD
  put(k, 64 + 0, 1, 4);
  put(k, 64 + 8, 0x200, 8);
  put(k, 64 + 16, 0xFFFFFFFF81000000ull, 8);
  put(k, 64 + 24, 0x1000000, 8);
  put(k, 64 + 32, 0x100, 8);
  put(k, 64 + 40, 0x1000, 8);
  // notes at 0x300: "GNU" type 3 with 4 bytes, then "Xen" type 18
  std::size_t n = 0x300;
  put(k, n, 4, 4); put(k, n + 4, 4, 4); put(k, n + 8, 3, 4);
  std::memcpy(k.data() + n + 12, "GNU", 4);
  put(k, n + 16, 0xDEADBEEF, 4);
  n += 20;
  if (with_note) {
    put(k, n, 4, 4); put(k, n + 4, entry_size, 4); put(k, n + 8, 18, 4);
    std::memcpy(k.data() + n + 12, "Xen", 4);
    put(k, n + 16, 0x1000040, entry_size);
    n += 16 + entry_size;
  }
  put(k, 120 + 0, 4, 4);   // PT_NOTE
  put(k, 120 + 8, 0x300, 8);
  put(k, 120 + 32, n - 0x300, 8);
  put(k, 120 + 40, n - 0x300, 8);
  k[0x200] = 0x90;
  return k;
}

const GuestWrite& write_at(const LinuxBootPlan& p, std::uint64_t gpa) {
  for (const GuestWrite& w : p.writes) {
    if (w.gpa == gpa) return w;
  }
  FAIL("no write at " << gpa);
  throw std::logic_error("unreachable");
}

LinuxBootConfig config() {
  LinuxBootConfig c;
  c.ram_bytes = kRam;
  c.command_line = "console=ttyS0 loglevel=8";
  c.rsdp_gpa = 0xE0000;
  c.carve_outs = {{0xE0000, 0x1000, E820Type::kAcpi}};
  return c;
}

}  // namespace

TEST_CASE("e820: RAM with the carve-outs, sorted, merged, the last carve-out winning") {
  const auto map = build_e820(64ull << 20, {kLegacyBiosHole, {0xE0000, 0x2000, E820Type::kAcpi}, {0xFEE00000, 0x1000, E820Type::kReserved}});
  const std::vector<E820Entry> want{{0, 0x9FC00, E820Type::kRam},
                                    {0x9FC00, 0xE0000 - 0x9FC00, E820Type::kReserved},
                                    {0xE0000, 0x2000, E820Type::kAcpi},
                                    {0xE2000, 0x100000 - 0xE2000, E820Type::kReserved},
                                    {0x100000, (64ull << 20) - 0x100000, E820Type::kRam},
                                    {0xFEE00000, 0x1000, E820Type::kReserved}};
  CHECK(map == want);
}

TEST_CASE("linux boot: a bzImage loads at pref_address and enters 64-bit mode at +0x200 with RSI = boot_params") {
  const Bytes k = bzimage();
  const LinuxBootPlan p = plan_linux_boot(k, config());
  CHECK(p.format == LinuxKernelFormat::kBzImage);
  CHECK(p.mode == LinuxEntryMode::kLong64);
  CHECK(p.entry == 0x1000000 + 0x200);
  CHECK(p.rsi == kLinuxBootArea.boot_params);
  CHECK(p.protocol == 0x020F);
  CHECK(p.kernel_low == 0x1000000);
  CHECK(p.kernel_high == 0x1000000 + 0x800000);  // init_size
  const GuestWrite& kernel = write_at(p, 0x1000000);
  CHECK(kernel.bytes.size() == 0x3000);
  CHECK(kernel.bytes[0] == 0xE9);  // the protected-mode part starts after 4 sectors
}

TEST_CASE("linux boot: boot_params carries the setup header, loader type, command line, RSDP and e820 map") {
  const Bytes k = bzimage();
  const LinuxBootPlan p = plan_linux_boot(k, config());
  const Bytes& bp = write_at(p, kLinuxBootArea.boot_params).bytes;
  REQUIRE(bp.size() == 4096);
  CHECK(get(bp, 0x202, 4) == 0x53726448);
  CHECK(get(bp, 0x206, 2) == 0x020F);
  CHECK(get(bp, 0x258, 8) == 0x1000000);
  CHECK(bp[0x210] == 0xFF);
  CHECK((bp[0x211] & 1) == 1);
  CHECK(get(bp, 0x228, 4) == kLinuxBootArea.cmdline);
  CHECK(get(bp, 0x70, 8) == 0xE0000);
  CHECK(get(bp, 0x218, 4) == 0);  // no initrd
  const Bytes& cmdline = write_at(p, kLinuxBootArea.cmdline).bytes;
  CHECK(std::string(cmdline.begin(), cmdline.end()) == std::string("console=ttyS0 loglevel=8\0", 25));
  REQUIRE(bp[0x1E8] == p.e820.size());
  REQUIRE(p.e820.size() == 5);
  CHECK(get(bp, 0x2D0 + 2 * 20, 8) == 0xE0000);       // the ACPI tables
  CHECK(get(bp, 0x2D0 + 2 * 20 + 16, 4) == 3);
  CHECK(get(bp, 0x2D0 + 4 * 20, 8) == 0x100000);      // RAM above 1 MiB
  CHECK(get(bp, 0x2D0 + 4 * 20 + 8, 8) == kRam - 0x100000);
}

TEST_CASE("linux boot: the 64-bit entry gets __BOOT_CS 0x10, __BOOT_DS 0x18 and an identity map of 4 GiB") {
  const LinuxBootPlan p = plan_linux_boot(bzimage(), config());
  CHECK(p.code_selector == 0x10);
  CHECK(p.data_selector == 0x18);
  const Bytes& gdt = write_at(p, p.gdt_base).bytes;
  CHECK(p.gdt_limit == 31);
  CHECK(get(gdt, 0x10, 8) == 0x00AF9A000000FFFFull);
  CHECK(get(gdt, 0x18, 8) == 0x00CF92000000FFFFull);
  const Bytes& t = write_at(p, p.cr3).bytes;
  REQUIRE(t.size() == 6 * 4096);
  CHECK(get(t, 0, 8) == ((p.cr3 + 0x1000) | 3));
  CHECK(get(t, 0x1000 + 3 * 8, 8) == ((p.cr3 + 0x5000) | 3));
  // The PD entry for 0x1000000 (entry 8 of the first directory) and the
  // last one, 0xFFE00000: 2 MiB pages mapped to themselves.
  CHECK(get(t, 0x2000 + 8 * 8, 8) == (0x1000000 | 0x83));
  CHECK(get(t, 0x5000 + 511 * 8, 8) == (0xFFE00000ull | 0x83));
}

TEST_CASE("linux boot: an initrd goes page-aligned at the top of RAM and into boot_params") {
  LinuxBootConfig c = config();
  const Bytes initrd(5000, 0xAB);
  c.initrd = initrd;
  const LinuxBootPlan p = plan_linux_boot(bzimage(), c);
  CHECK(p.initrd_gpa == ((kRam - 5000) & ~0xFFFull));
  CHECK(write_at(p, p.initrd_gpa).bytes == initrd);
  const Bytes& bp = write_at(p, kLinuxBootArea.boot_params).bytes;
  CHECK(get(bp, 0x218, 4) == p.initrd_gpa);
  CHECK(get(bp, 0x21C, 4) == 5000);
}

TEST_CASE("linux boot: an initrd stays below initrd_addr_max") {
  Bytes k = bzimage();
  put(k, 0x22C, 0x3FFFFFF, 4);  // 64 MiB - 1
  LinuxBootConfig c = config();
  const Bytes initrd(100, 1);
  c.initrd = initrd;
  CHECK(plan_linux_boot(k, c).initrd_gpa == 0x3FFF000);
}

TEST_CASE("linux boot: a malformed or unsupported bzImage is refused with a reason") {
  auto reason = [](const Bytes& k, LinuxBootConfig c = config()) {
    try {
      plan_linux_boot(k, c);
    } catch (const LinuxBootError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(reason(bzimage(0x020B)).find("older than 2.12") != std::string::npos);
  CHECK(reason(bzimage(0x020F, 0)).find("64-bit entry") != std::string::npos);
  CHECK(reason(Bytes(100, 0)).find("not a Linux kernel") != std::string::npos);
  Bytes only_setup = bzimage();
  only_setup.resize(4 * 512);
  CHECK(reason(only_setup).find("truncated") != std::string::npos);
  LinuxBootConfig small = config();
  small.ram_bytes = 20ull << 20;  // init_size does not fit above 16 MiB
  CHECK(reason(bzimage(), small).find("RAM ends") != std::string::npos);
  LinuxBootConfig long_line = config();
  long_line.command_line = std::string(3000, 'x');
  CHECK(reason(bzimage(), long_line).find("longer than 2048") != std::string::npos);
  LinuxBootConfig huge_initrd = config();
  const Bytes big(kRam - (20ull << 20), 0);
  huge_initrd.initrd = big;
  CHECK(reason(bzimage(), huge_initrd).find("above the kernel") != std::string::npos);
  // Every prefix of a good image is refused or planned, never a crash.
  const Bytes k = bzimage();
  for (std::size_t n = 0; n < 0x300; ++n) {
    CAPTURE(n);
    CHECK(reason(Bytes(k.begin(), k.begin() + static_cast<std::ptrdiff_t>(n))) != "accepted");
  }
}

TEST_CASE("linux boot: a vmlinux enters its PVH note's entry in 32-bit mode with EBX = hvm_start_info") {
  LinuxBootConfig c = config();
  const Bytes initrd(300, 7);
  c.initrd = initrd;
  for (unsigned entry_size : {4u, 8u}) {
    CAPTURE(entry_size);
    const LinuxBootPlan p = plan_linux_boot(pvh_vmlinux(true, entry_size), c);
    CHECK(p.format == LinuxKernelFormat::kPvhElf);
    CHECK(p.mode == LinuxEntryMode::kProtected32);
    CHECK(p.entry == 0x1000040);
    CHECK(p.ebx == kLinuxBootArea.start_info);
    const GuestWrite& seg = write_at(p, 0x1000000);
    CHECK(seg.bytes.size() == 0x100);
    CHECK(seg.bytes[0] == 0x90);
    CHECK(seg.zero_fill == 0xF00);
    const Bytes& si = write_at(p, p.ebx).bytes;
    CHECK(get(si, 0x00, 4) == 0x336EC578);
    CHECK(get(si, 0x04, 4) == 1);
    CHECK(get(si, 0x0C, 4) == 1);
    CHECK(get(si, 0x18, 8) == kLinuxBootArea.cmdline);
    CHECK(get(si, 0x20, 8) == 0xE0000);
    const std::uint64_t mod = get(si, 0x10, 8) - p.ebx;
    CHECK(get(si, mod, 8) == p.initrd_gpa);
    CHECK(get(si, mod + 8, 8) == 300);
    const std::uint64_t map = get(si, 0x28, 8) - p.ebx;
    REQUIRE(get(si, 0x30, 4) == p.e820.size());
    CHECK(get(si, map + 24 * 4, 8) == 0x100000);
    CHECK(get(si, map + 24 * 4 + 16, 4) == 1);
  }
}

TEST_CASE("linux boot: a vmlinux without the PVH note, or with a bad segment, is refused") {
  CHECK_THROWS_WITH_AS(plan_linux_boot(pvh_vmlinux(false), config()), doctest::Contains("PVH entry note"), LinuxBootError);
  Bytes past_end = pvh_vmlinux();
  put(past_end, 64 + 32, 0x10000, 8);
  CHECK_THROWS_WITH_AS(plan_linux_boot(past_end, config()), doctest::Contains("past the end"), LinuxBootError);
  Bytes low = pvh_vmlinux();
  put(low, 64 + 24, 0x8000, 8);  // over the loader's own structures
  CHECK_THROWS_WITH_AS(plan_linux_boot(low, config()), doctest::Contains("outside RAM"), LinuxBootError);
  Bytes arm = pvh_vmlinux();
  put(arm, 18, 183, 2);
  CHECK_THROWS_WITH_AS(plan_linux_boot(arm, config()), doctest::Contains("x86-64"), LinuxBootError);
}

TEST_CASE("linux boot: applying a plan writes the bytes and zeroes the bss") {
  RamGuestMemory ram(32ull << 20);
  LinuxBootConfig c = config();
  c.ram_bytes = 32ull << 20;
  const LinuxBootPlan p = plan_linux_boot(pvh_vmlinux(), c);
  std::vector<std::byte> junk(0x1000, std::byte{0x55});
  REQUIRE(ram.write(0x1000000, junk));
  apply_linux_boot_plan(p, ram);
  std::array<std::byte, 2> b{};
  REQUIRE(ram.read(0x1000000, b));
  CHECK(b[0] == std::byte{0x90});
  REQUIRE(ram.read(0x1000800, b));
  CHECK(b[0] == std::byte{0});  // bss
  RamGuestMemory tiny(16ull << 20);
  CHECK_THROWS_AS(apply_linux_boot_plan(p, tiny), LinuxBootError);
}
