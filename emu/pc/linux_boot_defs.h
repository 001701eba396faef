// Linux x86 boot definitions: the bzImage setup header and boot_params
// ("zero page") offsets, the e820 types, and the PVH start info. Numbers
// only; the loader is emu/pc/linux_boot.h.
// Sources: Linux Documentation/x86/boot.rst ("The Linux/x86 Boot
// Protocol", sections "THE REAL-MODE KERNEL HEADER", "64-bit BOOT
// PROTOCOL") and zero-page.rst; the Xen HVM direct boot ABI
// (xen/include/public/arch-x86/hvm/start_info.h, version 1) and
// xen/include/public/elfnote.h for the PVH entry note; ELF gABI for the
// program headers and notes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace softsynic::emu::linux_boot {

// --- setup header, at the same offsets in the bzImage and in boot_params ---
namespace hdr {
inline constexpr std::size_t kSetupSects = 0x1F1, kBootFlag = 0x1FE, kJumpByte1 = 0x201, kHeader = 0x202,
                             kVersion = 0x206, kTypeOfLoader = 0x210, kLoadFlags = 0x211, kCode32Start = 0x214,
                             kRamdiskImage = 0x218, kRamdiskSize = 0x21C, kCmdLinePtr = 0x228,
                             kInitrdAddrMax = 0x22C, kKernelAlignment = 0x230, kRelocatableKernel = 0x234,
                             kXloadflags = 0x236, kCmdlineSize = 0x238, kPrefAddress = 0x258, kInitSize = 0x260;
}
inline constexpr std::uint32_t kHdrSMagic = 0x5372'6448;  // "HdrS"
inline constexpr std::uint16_t kBootFlagMagic = 0xAA55;
inline constexpr std::uint16_t kMinProtocol = 0x020C;  // 2.12: xloadflags, 64-bit entry known
inline constexpr std::uint16_t kProtocolAcpiRsdp = 0x020E;  // 2.14: acpi_rsdp_addr
inline constexpr unsigned kDefaultSetupSects = 4;  // setup_sects 0 means 4
inline constexpr std::size_t kSectorSize = 512;
inline constexpr std::uint8_t kLoaderUndefined = 0xFF;  // type_of_loader: no assigned ID
inline constexpr std::uint8_t kLoadedHigh = 1u << 0;    // loadflags: protected-mode code at 0x100000
inline constexpr std::uint16_t kXlfKernel64 = 1u << 0;  // xloadflags: 64-bit entry at +0x200
inline constexpr std::uint64_t k64BitEntryOffset = 0x200;
inline constexpr std::uint64_t kDefaultLoadAddress = 0x10'0000;

// --- boot_params outside the setup header (zero-page.rst) ------------------
inline constexpr std::size_t kBootParamsSize = 4096;
namespace bp {
inline constexpr std::size_t kAcpiRsdpAddr = 0x070, kExtRamdiskImage = 0x0C0, kExtRamdiskSize = 0x0C4,
                             kExtCmdLinePtr = 0x0C8, kE820Entries = 0x1E8, kE820Table = 0x2D0;
}
inline constexpr std::size_t kE820MaxEntries = 128;  // E820_MAX_ENTRIES_ZEROPAGE
inline constexpr std::size_t kE820EntrySize = 20;    // addr u64, size u64, type u32 (packed)

// --- 64-bit entry state -----------------------------------------------------
// The 64-bit protocol wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18 in the GDT.
inline constexpr std::uint16_t kBootCs = 0x10;
inline constexpr std::uint16_t kBootDs = 0x18;
inline constexpr std::uint64_t kGdtCode64 = 0x00AF'9A00'0000'FFFF;  // present, ring 0, L=1, 4 GiB
inline constexpr std::uint64_t kGdtData = 0x00CF'9200'0000'FFFF;    // present, writable, 4 GiB
inline constexpr std::uint64_t kPagePresentWritable = 0x3;
inline constexpr std::uint64_t kPageLarge = 1ull << 7;  // PS: a 2 MiB page in a page directory

// --- PVH (Xen HVM direct boot ABI) ------------------------------------------
inline constexpr char kXenNoteName[] = "Xen";
inline constexpr std::uint32_t kXenElfnotePhys32Entry = 18;
inline constexpr std::uint32_t kHvmStartMagic = 0x336E'C578;
inline constexpr std::uint32_t kHvmStartInfoVersion = 1;  // has the memory map
namespace hvm {
inline constexpr std::size_t kMagic = 0x00, kVersion = 0x04, kFlags = 0x08, kNrModules = 0x0C, kModlistPaddr = 0x10,
                             kCmdlinePaddr = 0x18, kRsdpPaddr = 0x20, kMemmapPaddr = 0x28, kMemmapEntries = 0x30,
                             kSize = 0x38;
inline constexpr std::size_t kModSize = 32;     // paddr, size, cmdline_paddr, reserved
inline constexpr std::size_t kMemmapEntrySize = 24;  // addr, size, type, reserved
}

// --- ELF64 (only what PVH loading reads) -------------------------------------
namespace elf {
inline constexpr std::uint32_t kMagic = 0x464C'457F;  // "\x7fELF"
inline constexpr std::uint8_t kClass64 = 2, kDataLittle = 1;
inline constexpr std::uint16_t kMachineX86_64 = 62;
inline constexpr std::size_t kEhdrSize = 64, kPhdrSize = 56;
inline constexpr std::size_t kClass = 4, kData = 5, kMachine = 18, kPhoff = 32, kPhentsize = 54, kPhnum = 56;
inline constexpr std::size_t kPType = 0, kPOffset = 8, kPPaddr = 24, kPFilesz = 32, kPMemsz = 40;
inline constexpr std::uint32_t kPtLoad = 1, kPtNote = 4;
}

}  // namespace softsynic::emu::linux_boot
