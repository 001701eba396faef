// PcFirmware: the ROM image and the long-mode state that runs its stub.
#include "emu/x86/pc_firmware.h"

#include <cstring>

#include "emu/unicorn/uc_engine.h"
#include "emu/x86/x86_boot.h"

// pc_firmware_stub.S
extern "C" const std::uint8_t softsynic_pc_stub_begin[];
extern "C" const std::uint8_t softsynic_pc_stub_end[];
extern "C" const std::uint8_t softsynic_pc_stub_target[];
extern "C" const std::uint8_t softsynic_pc_stub_never[];

namespace softsynic::emu::x86 {
namespace {

constexpr std::uint64_t kGdtOffset = 0x0000;
constexpr std::uint64_t kPml4Offset = 0x1000;
constexpr std::uint64_t kPdptOffset = 0x2000;
constexpr std::uint64_t kPdOffset = 0x3000;
constexpr std::uint64_t kStackTopOffset = 0xFFF0;
constexpr std::uint16_t kGdtLimit = 7 * 8 - 1;
constexpr std::uint64_t kPresentWritable = 0x3;
constexpr std::uint64_t kLargePage = 0x80;

// Segment descriptors (Intel SDM vol. 3, 3.4.5): flat 32-bit code and data,
// and the two 16-bit ones the way down to real mode needs.
constexpr std::uint64_t kCode32Descriptor = 0x00CF'9A00'0000'FFFF;
constexpr std::uint64_t kData32Descriptor = 0x00CF'9200'0000'FFFF;
constexpr std::uint64_t kCode16RomDescriptor = 0xFF00'9AFF'0000'FFFF;  // base 0xFFFF0000, limit 0xFFFF
constexpr std::uint64_t kData16Descriptor = 0x0000'9200'0000'FFFF;     // base 0, limit 0xFFFF

std::uint64_t stub_offset(const std::uint8_t* symbol) {
  return static_cast<std::uint64_t>(symbol - softsynic_pc_stub_begin);
}

}  // namespace

PcFirmware::PcFirmware() {
  put_u64(kGdtOffset + 0x08, kCode64Descriptor);
  put_u64(kGdtOffset + 0x10, kDataDescriptor);
  put_u64(kGdtOffset + 0x18, kCode32Descriptor);
  put_u64(kGdtOffset + 0x20, kData32Descriptor);
  put_u64(kGdtOffset + 0x28, kCode16RomDescriptor);
  put_u64(kGdtOffset + 0x30, kData16Descriptor);
  // The ROM's 2 MiB page (0xFFE00000) is all the stub's long mode needs.
  constexpr std::uint64_t kTwoMiB = 2ull << 20;
  const std::uint64_t rom_2m = kPcRomBase & ~(kTwoMiB - 1);
  put_u64(kPml4Offset + 8 * ((rom_2m >> 39) & 511), (kPcRomBase + kPdptOffset) | kPresentWritable);
  put_u64(kPdptOffset + 8 * ((rom_2m >> 30) & 511), (kPcRomBase + kPdOffset) | kPresentWritable);
  put_u64(kPdOffset + 8 * ((rom_2m >> 21) & 511), rom_2m | kPresentWritable | kLargePage);
  const auto size = static_cast<std::size_t>(softsynic_pc_stub_end - softsynic_pc_stub_begin);
  std::memcpy(rom_.data() + kPcRomCodeOffset, softsynic_pc_stub_begin, size);
}

void PcFirmware::put_u64(std::uint64_t offset, std::uint64_t value) { std::memcpy(rom_.data() + offset, &value, 8); }

void PcFirmware::map(uc_engine* uc) {
  unicorn::check(uc_mem_map_ptr(uc, kPcRomBase, kPcRomSize, UC_PROT_ALL, rom_.data()), "PC firmware ROM");
}

void PcFirmware::prepare(uc_engine* uc, const PcStart& start) {
  const LongModeTables tables{kPcRomBase + kGdtOffset, kGdtLimit, kPcRomBase + kPml4Offset};
  load_long_mode(uc, tables, stub_entry(), kPcRomBase + kStackTopOffset);
  auto write = [uc](int reg, std::uint64_t value) { unicorn::check(uc_reg_write(uc, reg, &value), "PC start register"); };
  if (start.mode == PcStart::Mode::protected32) {
    write(UC_X86_REG_RBP, 0);
    write(UC_X86_REG_RSI, start.entry);
    write(UC_X86_REG_RDI, start.eax);
    write(UC_X86_REG_RBX, start.ebx);
  } else {
    const std::uint16_t target[2] = {start.ip, start.cs};
    std::memcpy(rom_.data() + kPcRomCodeOffset + stub_offset(softsynic_pc_stub_target), target, sizeof target);
    write(UC_X86_REG_RBP, 1);
  }
}

std::uint64_t PcFirmware::never_executed() const {
  return kPcRomBase + kPcRomCodeOffset + stub_offset(softsynic_pc_stub_never);
}

const std::uint8_t* PcFirmware::bytes(std::uint64_t linear, std::uint64_t size) const {
  if (linear < kPcRomBase || linear - kPcRomBase > kPcRomSize || size > kPcRomSize - (linear - kPcRomBase)) {
    return nullptr;
  }
  return rom_.data() + (linear - kPcRomBase);
}

}  // namespace softsynic::emu::x86
