// x86-64 boot state: GDT, identity page tables and control registers.
#include "emu/x86/x86_boot.h"

#include <cstring>
#include <stdexcept>

#include "emu/unicorn/uc_engine.h"
#include "synic/guest_memory.h"

namespace softsynic::emu::x86 {
namespace {

constexpr std::uint64_t kNullDescriptor = 0;
constexpr std::uint64_t kPresentWritable = 0x3;
constexpr std::uint64_t kLargePage = 0x80;
constexpr std::uint64_t kTwoMiB = 2ull << 20;

constexpr std::uint64_t kCr0Et = 1ull << 4;
constexpr std::uint64_t kCr4Pae = 1ull << 5;
constexpr std::uint64_t kCr4Osfxsr = 1ull << 9;
constexpr std::uint64_t kCr4Osxmmexcpt = 1ull << 10;
constexpr std::uint64_t kEferLmeLma = (1ull << 8) | kEferLma;

void put_u64(GuestMemory& ram, std::uint64_t gpa, std::uint64_t value) {
  std::byte bytes[8];
  std::memcpy(bytes, &value, sizeof value);
  if (!ram.write(gpa, bytes)) throw std::invalid_argument("x86-64 boot tables need RAM in the first 32 KiB");
}

void write_reg(uc_engine* uc, int reg, std::uint64_t value, const char* what) {
  unicorn::check(uc_reg_write(uc, reg, &value), what);
}

}  // namespace

void write_boot_tables(GuestMemory& ram) {
  put_u64(ram, kGdtGpa + 0, kNullDescriptor);
  put_u64(ram, kGdtGpa + kCodeSelector, kCode64Descriptor);
  put_u64(ram, kGdtGpa + kDataSelector, kDataDescriptor);
  put_u64(ram, kPml4Gpa, kPdptGpa | kPresentWritable);
  for (std::uint64_t gib = 0; gib < 4; ++gib) {
    const std::uint64_t pd = kPageDirectoriesGpa + gib * 0x1000;
    put_u64(ram, kPdptGpa + 8 * gib, pd | kPresentWritable);
    for (std::uint64_t i = 0; i < 512; ++i) {
      put_u64(ram, pd + 8 * i, ((gib * 512 + i) * kTwoMiB) | kPresentWritable | kLargePage);
    }
  }
}

void load_long_mode(uc_engine* uc, const LongModeTables& tables, std::uint64_t entry, std::uint64_t stack_top) {
  uc_x86_mmr gdtr{};
  gdtr.base = tables.gdt_base;
  gdtr.limit = tables.gdt_limit;
  unicorn::check(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), "GDTR");
  write_reg(uc, UC_X86_REG_CR3, tables.pml4, "CR3");
  write_reg(uc, UC_X86_REG_CR4, kCr4Pae | kCr4Osfxsr | kCr4Osxmmexcpt, "CR4");
  uc_x86_msr efer{kEferMsr, kEferLmeLma};
  unicorn::check(uc_reg_write(uc, UC_X86_REG_MSR, &efer), "EFER");
  write_reg(uc, UC_X86_REG_CR0, kCr0Pe | kCr0Et | kCr0Pg, "CR0");
  write_reg(uc, UC_X86_REG_CS, tables.code_selector, "CS");
  for (int seg : {UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_ES}) write_reg(uc, seg, tables.data_selector, "data segment");
  write_reg(uc, UC_X86_REG_RFLAGS, 0x2, "RFLAGS");
  write_reg(uc, UC_X86_REG_RIP, entry, "RIP");
  write_reg(uc, UC_X86_REG_RSP, stack_top, "RSP");
}

void load_boot_state(uc_engine* uc, std::uint64_t entry, std::uint64_t stack_top, std::uint32_t vp,
                     std::uint32_t vp_count) {
  load_long_mode(uc, kRamBootTables, entry, stack_top);
  write_reg(uc, UC_X86_REG_RDI, vp, "RDI");
  write_reg(uc, UC_X86_REG_RSI, vp_count, "RSI");
}

}  // namespace softsynic::emu::x86
