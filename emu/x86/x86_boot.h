// The state the runner leaves an x86-64 VP in (the boot contract of
// emu/vp_engine.h): 64-bit ring 0 with a GDT of real descriptors (0x08
// 64-bit code, 0x10 data), identity paging of the low 4 GiB with 2 MiB
// pages (so RAM and the xAPIC page at 0xFEE00000 keep their addresses), and
// no IDT (the guest loads its own). The tables live in the first MiB of
// RAM, which guests must leave alone.
// Real-mode and 32-bit starts (the PC platform) go through the stub of
// pc_firmware.h, which starts from this long-mode state.
// Not supported: addresses above 4 GiB.
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>

namespace softsynic {
class GuestMemory;
}

namespace softsynic::emu::x86 {

inline constexpr std::uint64_t kGdtGpa = 0x1000;
inline constexpr std::uint64_t kPml4Gpa = 0x2000;
inline constexpr std::uint64_t kPdptGpa = 0x3000;
inline constexpr std::uint64_t kPageDirectoriesGpa = 0x4000;  // four, 0x4000-0x7FFF
inline constexpr std::uint64_t kBootTablesEnd = 0x8000;
inline constexpr std::uint16_t kCodeSelector = 0x08;
inline constexpr std::uint16_t kDataSelector = 0x10;
// Control-register and EFER bits the boot state and the engine's mode
// tracking use (Intel SDM vol. 3, 2.5 and 2.2.1).
inline constexpr std::uint64_t kCr0Pe = 1ull << 0;
inline constexpr std::uint64_t kCr0Pg = 1ull << 31;
inline constexpr std::uint32_t kEferMsr = 0xC000'0080;
inline constexpr std::uint64_t kEferLma = 1ull << 10;
inline constexpr std::uint64_t kCode64Descriptor = 0x00AF'9A00'0000'FFFF;  // present, ring 0, L=1
inline constexpr std::uint64_t kDataDescriptor = 0x00CF'9200'0000'FFFF;    // present, writable, 4 GiB

// Writes the GDT and page tables into RAM (needs RAM at [0, 32 KiB)).
// Throws std::invalid_argument when that RAM is missing.
void write_boot_tables(GuestMemory& ram);

// Where the long-mode start state finds its GDT (a null descriptor, then
// kCodeSelector and kDataSelector as above) and its PML4.
struct LongModeTables {
  std::uint64_t gdt_base;
  std::uint16_t gdt_limit;
  std::uint64_t pml4;
  std::uint16_t code_selector = kCodeSelector;
  std::uint16_t data_selector = kDataSelector;
};
inline constexpr LongModeTables kRamBootTables{kGdtGpa, 3 * 8 - 1, kPml4Gpa};

// Puts a UC_MODE_64 engine into 64-bit ring 0 with `tables`: control
// registers, EFER, GDTR, segment selectors, RFLAGS, RIP = entry,
// RSP = stack_top. Throws std::runtime_error if Unicorn refuses.
void load_long_mode(uc_engine* uc, const LongModeTables& tables, std::uint64_t entry, std::uint64_t stack_top);

// The runner's boot contract: load_long_mode with kRamBootTables, then
// RDI = vp, RSI = vp_count.
void load_boot_state(uc_engine* uc, std::uint64_t entry, std::uint64_t stack_top, std::uint32_t vp,
                     std::uint32_t vp_count);

}  // namespace softsynic::emu::x86
