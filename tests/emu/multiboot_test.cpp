// Multiboot v1 loading for the pc platform: ELF32 and ELF64 kernels by
// their program headers, the a.out kludge by the header's address fields,
// the boot information, and the refusals (no header, bad checksum).
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "emu/pc/multiboot.h"
#include "synic/guest_memory.h"

using namespace softsynic;
using namespace softsynic::emu;

namespace {

constexpr std::uint64_t kRam = 32ull << 20;

void put32(std::vector<char>& f, std::size_t at, std::uint32_t v) {
  if (f.size() < at + 4) f.resize(at + 4);
  std::memcpy(f.data() + at, &v, 4);
}
void put16(std::vector<char>& f, std::size_t at, std::uint16_t v) {
  if (f.size() < at + 2) f.resize(at + 2);
  std::memcpy(f.data() + at, &v, 2);
}
void put64(std::vector<char>& f, std::size_t at, std::uint64_t v) {
  if (f.size() < at + 8) f.resize(at + 8);
  std::memcpy(f.data() + at, &v, 8);
}

void header(std::vector<char>& f, std::size_t at, std::uint32_t flags, std::uint32_t checksum_error = 0) {
  put32(f, at, kMultibootHeaderMagic);
  put32(f, at + 4, flags);
  put32(f, at + 8, 0u - (kMultibootHeaderMagic + flags) + checksum_error);
}

// One PT_LOAD of 16 file bytes (0xAB) and 4096 memory bytes at `paddr`,
// the multiboot header at file offset 0x100.
std::vector<char> elf(bool is64, std::uint64_t paddr, std::uint64_t entry) {
  std::vector<char> f(0x200, 0);
  std::memcpy(f.data(), "\x7F" "ELF", 4);
  f[4] = is64 ? 2 : 1;
  f[5] = 1;
  put16(f, 18, is64 ? 62 : 3);
  if (is64) {
    put64(f, 24, entry);
    put64(f, 32, 64);  // phoff
    put16(f, 54, 56);
    put16(f, 56, 1);
    put32(f, 64, 1);            // PT_LOAD
    put64(f, 64 + 8, 0x180);    // offset
    put64(f, 64 + 24, paddr);   // paddr
    put64(f, 64 + 32, 16);      // filesz
    put64(f, 64 + 40, 4096);    // memsz
  } else {
    put32(f, 24, static_cast<std::uint32_t>(entry));
    put32(f, 28, 52);
    put16(f, 42, 32);
    put16(f, 44, 1);
    put32(f, 52, 1);
    put32(f, 52 + 4, 0x180);
    put32(f, 52 + 12, static_cast<std::uint32_t>(paddr));
    put32(f, 52 + 16, 16);
    put32(f, 52 + 20, 4096);
  }
  header(f, 0x100, 0);
  std::memset(f.data() + 0x180, 0xAB, 16);
  return f;
}

std::string write_temp(const std::vector<char>& bytes, const char* name) {
  auto path = std::filesystem::temp_directory_path() / (std::string("softsynic_mb_") + name);
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

std::uint32_t read32(RamGuestMemory& ram, std::uint64_t gpa) {
  std::uint32_t v = 0;
  ram.read(gpa, std::as_writable_bytes(std::span(&v, 1)));
  return v;
}

std::string read_string(RamGuestMemory& ram, std::uint64_t gpa) {
  std::string s;
  for (char c = 0;; ++gpa) {
    ram.read(gpa, std::as_writable_bytes(std::span(&c, 1)));
    if (c == 0) return s;
    s += c;
  }
}

}  // namespace

TEST_CASE("multiboot: ELF32 and ELF64 kernels load by program headers, bss zeroed, entry from the header") {
  for (bool is64 : {false, true}) {
    const std::string format = is64 ? "ELF64" : "ELF32";
    INFO(format);
    RamGuestMemory ram(kRam);
    std::memset(ram.host_pointer(0x400000, 4096), 0xEE, 4096);  // the bss must be cleared
    const std::string path = write_temp(elf(is64, 0x400000, 0x400000), is64 ? "elf64" : "elf32");
    MultibootKernel k = load_multiboot(path, ram, kRam, "direct x=1");
    CHECK(k.entry == 0x400000);
    CHECK(k.image_low == 0x400000);
    CHECK(k.image_high == 0x401000);
    CHECK(*reinterpret_cast<unsigned char*>(ram.host_pointer(0x40000F, 1)) == 0xAB);
    CHECK(*reinterpret_cast<unsigned char*>(ram.host_pointer(0x400010, 1)) == 0);
    // Boot information at 0x9000: memory, command line, no modules, name.
    CHECK(k.info == kMultibootInfoGpa);
    const std::uint32_t flags = read32(ram, k.info);
    CHECK((flags & 0x20D) == 0x20D);
    CHECK((flags & (1u << 6)) == 0);  // no memory map
    CHECK(read32(ram, k.info + 4) == 640);
    CHECK(read32(ram, k.info + 8) == (kRam >> 10) - 1024);
    CHECK(read_string(ram, read32(ram, k.info + 16)) == path + " direct x=1");
    CHECK(read32(ram, k.info + 20) == 0);
    CHECK(read_string(ram, read32(ram, k.info + 64)) == "softsynic");
    std::filesystem::remove(path);
  }
}

TEST_CASE("multiboot: the a.out kludge places the file by the header's address fields") {
  std::vector<char> f(0x2000, 0);
  const std::uint32_t flags = 1u << 16;
  header(f, 0x40, flags);
  put32(f, 0x40 + 12, 0x200040);  // header_addr
  put32(f, 0x40 + 16, 0x200000);  // load_addr
  put32(f, 0x40 + 20, 0x201000);  // load_end_addr
  put32(f, 0x40 + 24, 0x203000);  // bss_end_addr
  put32(f, 0x40 + 28, 0x200080);  // entry_addr
  f[0x80] = 0x42;
  f[0x1800] = 0x43;  // past load_end: not loaded
  RamGuestMemory ram(kRam);
  std::memset(ram.host_pointer(0x201000, 0x2000), 0xEE, 0x2000);
  const std::string path = write_temp(f, "aout");
  MultibootKernel k = load_multiboot(path, ram, kRam, "");
  CHECK(k.entry == 0x200080);
  CHECK(*reinterpret_cast<unsigned char*>(ram.host_pointer(0x200080, 1)) == 0x42);
  CHECK(*reinterpret_cast<unsigned char*>(ram.host_pointer(0x201800, 1)) == 0);
  CHECK(*reinterpret_cast<unsigned char*>(ram.host_pointer(0x202FFF, 1)) == 0);
  CHECK(read_string(ram, read32(ram, k.info + 16)) == path);
  std::filesystem::remove(path);
}

TEST_CASE("multiboot: kernels without a valid header, or that do not fit, are refused with a message") {
  RamGuestMemory ram(kRam);
  struct Case {
    const char* name;
    std::vector<char> bytes;
    const char* message;
  };
  std::vector<char> late = elf(true, 0x400000, 0x400000);
  late.resize(0x3000, 0);
  std::memset(late.data() + 0x100, 0, 12);
  header(late, 0x2400, 0);  // past the first 8 KiB
  std::vector<char> bad_sum = elf(false, 0x400000, 0x400000);
  header(bad_sum, 0x100, 0, 1);
  std::vector<char> huge_bss = elf(true, 0x400000, 0x400000);
  put64(huge_bss, 64 + 40, 1ull << 40);  // memsz: 1 TiB, refused before anything is allocated
  std::vector<char> flat(64, 0);
  header(flat, 0, 0);  // no address fields and not ELF
  const Case cases[] = {
      {"no_header", late, "no multiboot header"},
      {"checksum", bad_sum, "checksum"},
      {"flat", flat, "not ELF"},
      {"too_big", elf(true, 0x3000000, 0x3000000), "does not fit"},
      {"page0", elf(false, 0x0, 0x0), "does not fit"},
      {"huge_bss", huge_bss, "does not fit"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string path = write_temp(c.bytes, c.name);
    try {
      load_multiboot(path, ram, kRam, "");
      FAIL("accepted");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find(c.message) != std::string::npos);
    }
    std::filesystem::remove(path);
  }
}
