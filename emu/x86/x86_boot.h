// The state the runner leaves an x86-64 VP in (the boot contract of
// emu/vp_engine.h): 64-bit ring 0 with a GDT of real descriptors (0x08
// 64-bit code, 0x10 data), identity paging of the low 4 GiB with 2 MiB
// pages (so RAM and the xAPIC page at 0xFEE00000 keep their addresses), and
// no IDT (the guest loads its own). The tables live in the first MiB of
// RAM, which guests must leave alone.
// Not supported: real-mode or 32-bit start-up (Unicorn fixes the mode at
// uc_open), addresses above 4 GiB.
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

// Writes the GDT and page tables into RAM (needs RAM at [0, 32 KiB)).
// Throws std::invalid_argument when that RAM is missing.
void write_boot_tables(GuestMemory& ram);

// Puts a fresh UC_MODE_64 engine into the boot state: control registers,
// GDTR, segment selectors, RIP = entry, RSP = stack_top, RDI = vp,
// RSI = vp_count. Throws std::runtime_error if Unicorn refuses.
void load_boot_state(uc_engine* uc, std::uint64_t entry, std::uint64_t stack_top, std::uint32_t vp,
                     std::uint32_t vp_count);

}  // namespace softsynic::emu::x86
