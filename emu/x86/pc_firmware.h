// PcFirmware: the private ROM each PC-platform VP engine maps at
// kPcRomBase, and the start-up path through it.
//
// Why: a Unicorn UC_MODE_64 engine is the only one whose register view has
// the 64-bit registers, but the host cannot put it into 32-bit or real mode
// (Unicorn 2.0.1; see docs/PC_PLATFORM.md). Guest code can. So every engine
// starts in long mode on this ROM's own GDT and page tables, at the stub of
// pc_firmware_stub.S, which drops to the state the guest expects: flat
// 32-bit protected mode at the multiboot entry (EAX = 0x2BADB002, EBX =
// info) or real mode at a SIPI's CS:IP. The ROM is not guest RAM: guests
// cannot overwrite it between the BSP's boot and an AP's start-up, and
// physical page 0 stays free.
//
// ROM layout (64 KiB at 0xFFFF0000, where a PC's firmware lives):
//   +0x0000 GDT: 0x08 64-bit code, 0x10 data, 0x18 32-bit code, 0x20 32-bit
//           data (both flat 4 GiB), 0x28 16-bit code (base: the ROM),
//           0x30 16-bit data (base 0)
//   +0x1000 PML4, +0x2000 PDPT, +0x3000 PD: the ROM's 2 MiB, identity
//   +0x4000 the stub;  +0xFFF0 the stub's stack top
// Not supported: starting in 16-bit protected mode or vm86; a guest that
// jumps into the ROM later finds the stub, not a BIOS.
//
// Threading: engine-affine (one PcFirmware per engine).
#pragma once

#include <unicorn/unicorn.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "synic/guest_memory.h"

namespace softsynic::emu::x86 {

inline constexpr std::uint64_t kPcRomBase = 0xFFFF'0000;
inline constexpr std::uint64_t kPcRomSize = 0x1'0000;
inline constexpr std::uint64_t kPcRomCodeOffset = 0x4000;  // pc_firmware_stub.S's CODE_OFFSET
inline constexpr std::uint32_t kMultibootBootMagic = 0x2BAD'B002;

// How a VP leaves the ROM.
struct PcStart {
  enum class Mode { protected32, real_mode };
  Mode mode = Mode::protected32;
  std::uint32_t entry = 0;  // protected32: EIP
  std::uint32_t eax = 0;    // protected32
  std::uint32_t ebx = 0;    // protected32
  std::uint16_t cs = 0;     // real_mode: CS selector (base cs << 4), IP = ip
  std::uint16_t ip = 0;
};

class PcFirmware {
 public:
  PcFirmware();
  PcFirmware(const PcFirmware&) = delete;
  PcFirmware& operator=(const PcFirmware&) = delete;

  // Maps the ROM into `uc` (once per engine). Throws std::runtime_error.
  void map(uc_engine* uc);
  // Loads the long-mode state that runs the stub towards `start`; the
  // caller then runs the engine from stub_entry(). General registers other
  // than those the stub uses keep their values.
  void prepare(uc_engine* uc, const PcStart& start);

  static constexpr std::uint64_t stub_entry() { return kPcRomBase + kPcRomCodeOffset; }
  // A mapped address holding HLT that no guest executes: a safe `until`
  // for uc_emu_start when the start address is 0 (Unicorn stops at once
  // when begin equals until).
  std::uint64_t never_executed() const;
  // The byte at `linear`, if it is in the ROM (for code scans).
  const std::uint8_t* bytes(std::uint64_t linear, std::uint64_t size) const;

 private:
  void put_u64(std::uint64_t offset, std::uint64_t value);

  alignas(4096) std::array<std::uint8_t, kPcRomSize> rom_{};
};

// Guest RAM with a PcFirmware's ROM readable at its address: what page
// walks read while the stub runs on its own page tables in the ROM. Writes
// and atomic updates reach RAM only (the ROM's entries have their A/D bits
// set already).
class PcFirmwareOverlay final : public GuestMemory {
 public:
  PcFirmwareOverlay(GuestMemory& ram, const PcFirmware* firmware) : ram_(ram), firmware_(firmware) {}
  bool read(std::uint64_t gpa, std::span<std::byte> out) override {
    if (const std::uint8_t* rom = firmware_ != nullptr ? firmware_->bytes(gpa, out.size()) : nullptr) {
      std::memcpy(out.data(), rom, out.size());
      return true;
    }
    return ram_.read(gpa, out);
  }
  bool write(std::uint64_t gpa, std::span<const std::byte> in) override { return ram_.write(gpa, in); }
  std::optional<std::uint64_t> fetch_or_u64(std::uint64_t gpa, std::uint64_t bits) override {
    return ram_.fetch_or_u64(gpa, bits);
  }

 private:
  GuestMemory& ram_;
  const PcFirmware* firmware_;
};

}  // namespace softsynic::emu::x86
