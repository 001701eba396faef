// ACPI definitions for the PC platform's firmware tables and its power
// management ports: signatures, revisions, field offsets, flag bits and
// the I/O port layout. Definitions only; the tables are built in
// acpi_tables.h, the ports are modelled in acpi_pm_device.h.
//
// Sources: ACPI 6.3 specification, sections 5.2.3.2 (Generic Address
// Structure), 5.2.5.3 (RSDP), 5.2.6 (system description table header),
// 5.2.8 (XSDT), 5.2.9 (FADT, with table 5-34 "Fixed ACPI Description
// Table Fixed Feature Flags" and 5.2.9.3 "IA-PC Boot Architecture Flags"),
// 5.2.10 (FACS), 5.2.12 (MADT), 4.8.3.1 (PM1 event registers), 4.8.3.2
// (PM1 control registers), 4.8.3.7 (sleep control and status registers of
// hardware-reduced ACPI).
// Not covered: RSDT, the PM timer, GPE blocks, 64-bit (x2APIC) MADT
// entries, NMI source and local APIC NMI entries.
#pragma once

#include <cstddef>
#include <cstdint>

namespace softsynic::devices::acpi {

// --- identification written into every table -------------------------------
inline constexpr char kOemId[] = "SFTSYN";        // 6 characters
inline constexpr char kOemTableId[] = "SOFTSYNC";  // 8 characters
inline constexpr char kCreatorId[] = "SFSY";       // 4 characters
inline constexpr std::uint32_t kOemRevision = 1;
inline constexpr std::uint32_t kCreatorRevision = 1;

// --- RSDP (5.2.5.3) ----------------------------------------------------------
inline constexpr char kRsdpSignature[] = "RSD PTR ";  // 8 characters
inline constexpr std::uint8_t kRsdpRevision = 2;     // ACPI 2.0+: has the XSDT address
inline constexpr std::size_t kRsdpLength = 36;
inline constexpr std::size_t kRsdpV1ChecksumLength = 20;  // the checksum at 8 covers bytes 0..19
inline constexpr std::size_t kRsdpAlignment = 16;
namespace rsdp {
inline constexpr std::size_t kChecksum = 8, kOemId = 9, kRevision = 15, kRsdtAddress = 16, kLength = 20,
                             kXsdtAddress = 24, kExtendedChecksum = 32;
}

// --- system description table header (5.2.6) -------------------------------
inline constexpr std::size_t kHeaderLength = 36;
namespace header {
inline constexpr std::size_t kSignature = 0, kLength = 4, kRevision = 8, kChecksum = 9, kOemId = 10,
                             kOemTableId = 16, kOemRevision = 24, kCreatorId = 28, kCreatorRevision = 32;
}

inline constexpr char kXsdtSignature[] = "XSDT";
inline constexpr std::uint8_t kXsdtRevision = 1;

// --- FADT (5.2.9), signature "FACP", ACPI 6.3 layout ---------------------------
inline constexpr char kFadtSignature[] = "FACP";
inline constexpr std::uint8_t kFadtRevision = 6;
inline constexpr std::uint8_t kFadtMinorRevision = 3;
inline constexpr std::size_t kFadtLength = 276;
namespace fadt {
inline constexpr std::size_t kFirmwareCtrl = 36, kDsdt = 40, kPreferredPmProfile = 45, kSciInt = 46,
                             kSmiCmd = 48, kPm1aEvtBlk = 56, kPm1aCntBlk = 64, kPm1EvtLen = 88,
                             kPm1CntLen = 89, kIapcBootArch = 109, kFlags = 112, kMinorVersion = 131,
                             kXFirmwareCtrl = 132, kXDsdt = 140, kXPm1aEvtBlk = 148, kXPm1aCntBlk = 172,
                             kSleepControlReg = 244, kSleepStatusReg = 256, kHypervisorVendor = 268;
}
// Fixed feature flags (table 5-34).
inline constexpr std::uint32_t kFadtFlagWbinvd = 1u << 0;
inline constexpr std::uint32_t kFadtFlagProcC1 = 1u << 2;
inline constexpr std::uint32_t kFadtFlagPwrButton = 1u << 4;  // set: no fixed-feature power button
inline constexpr std::uint32_t kFadtFlagSlpButton = 1u << 5;  // set: no fixed-feature sleep button
inline constexpr std::uint32_t kFadtFlagHwReducedAcpi = 1u << 20;
// IA-PC boot architecture flags (5.2.9.3).
inline constexpr std::uint16_t kBootArchLegacyDevices = 1u << 0;
inline constexpr std::uint16_t kBootArch8042 = 1u << 1;  // set: a keyboard controller at 0x60/0x64
inline constexpr std::uint16_t kBootArchVgaNotPresent = 1u << 2;
inline constexpr std::uint16_t kBootArchMsiNotSupported = 1u << 3;
inline constexpr std::uint16_t kBootArchCmosRtcNotPresent = 1u << 5;
// The SCI's ISA interrupt on PCs. Nothing raises it here (no SCI events).
inline constexpr std::uint16_t kSciIrq = 9;

// --- Generic Address Structure (5.2.3.2) ---------------------------------------
inline constexpr std::size_t kGasLength = 12;
inline constexpr std::uint8_t kGasSystemIo = 1;
inline constexpr std::uint8_t kGasAccessByte = 1;
inline constexpr std::uint8_t kGasAccessWord = 2;
inline constexpr std::uint8_t kGasAccessDword = 3;

// --- FACS (5.2.10); required by a full FADT, absent in hardware-reduced mode --
inline constexpr char kFacsSignature[] = "FACS";
inline constexpr std::size_t kFacsLength = 64;
inline constexpr std::size_t kFacsAlignment = 64;
inline constexpr std::uint8_t kFacsVersion = 2;
namespace facs {
inline constexpr std::size_t kSignature = 0, kLength = 4, kVersion = 32;
}

// --- MADT (5.2.12), signature "APIC" ------------------------------------------
inline constexpr char kMadtSignature[] = "APIC";
inline constexpr std::uint8_t kMadtRevision = 5;  // ACPI 6.3
inline constexpr std::uint32_t kLocalApicAddress = 0xFEE0'0000;
inline constexpr std::uint32_t kMadtFlagPcatCompat = 1u << 0;  // the 8259s are there too
namespace madt {
inline constexpr std::size_t kLocalApicAddress = 36, kFlags = 40, kEntries = 44;
}
inline constexpr std::uint8_t kMadtTypeLocalApic = 0;
inline constexpr std::size_t kMadtLocalApicLength = 8;
inline constexpr std::uint32_t kMadtLocalApicEnabled = 1u << 0;
// I/O APIC (5.2.12.3): type, length, ID, reserved, address (4), GSI base (4).
inline constexpr std::uint8_t kMadtTypeIoApic = 1;
inline constexpr std::size_t kMadtIoApicLength = 12;
inline constexpr std::uint32_t kIoApicAddress = 0xFEC0'0000;
// Interrupt source override (5.2.12.5): type, length, bus (0: ISA), source
// (the ISA IRQ), GSI (4), MPS INTI flags (2): polarity bits 0-1, trigger
// mode bits 2-3 (0: conforms to the bus; 1: active high / edge; 3: active
// low / level).
inline constexpr std::uint8_t kMadtTypeInterruptOverride = 2;
inline constexpr std::size_t kMadtInterruptOverrideLength = 10;
inline constexpr std::uint16_t kMpsIntiConforms = 0;
inline constexpr std::uint16_t kMpsIntiActiveHigh = 1;
inline constexpr std::uint16_t kMpsIntiLevel = 3u << 2;
inline constexpr std::uint32_t kMaxXapicVps = 255;  // 8-bit APIC IDs; 0xFF is the broadcast ID

// --- DSDT (5.2.11.1) ------------------------------------------------------------
inline constexpr char kDsdtSignature[] = "DSDT";
inline constexpr std::uint8_t kDsdtRevision = 2;  // 2: AML integers are 64 bits

// --- PM1 and sleep registers (4.8.3) -------------------------------------------
// PM1 event block: a 16-bit status register, then a 16-bit enable register.
inline constexpr std::uint8_t kPm1EvtLength = 4;
inline constexpr std::uint8_t kPm1CntLength = 2;
inline constexpr std::uint16_t kPm1StatusWak = 1u << 15;  // write 1 to clear
inline constexpr std::uint16_t kPm1CntSciEn = 1u << 0;    // 1: ACPI mode (fixed: SMI_CMD is 0)
inline constexpr unsigned kPm1CntSlpTypShift = 10;          // SLP_TYPx, bits 10..12
inline constexpr std::uint16_t kPm1CntSlpEn = 1u << 13;     // write-only
// Hardware-reduced ACPI: 8-bit sleep control and status registers.
inline constexpr unsigned kSleepCtlSlpTypShift = 2;  // SLP_TYPx, bits 2..4
inline constexpr std::uint8_t kSleepCtlSlpEn = 1u << 5;
inline constexpr std::uint8_t kSleepStsWak = 1u << 7;
inline constexpr std::uint8_t kSlpTypMask = 0x7;

// Where the platform puts its power-management ports and which SLP_TYP
// value means S5 (the first element of the DSDT's \_S5 package). The table
// builder and the port device take the same value, so they always agree.
// 0x600 is the PM base QEMU's q35 uses; nothing else of ours sits there.
struct PmLayout {
  std::uint16_t pm1a_event = 0x600;      // 4 ports: status, enable
  std::uint16_t pm1a_control = 0x604;    // 2 ports
  std::uint16_t sleep_control = 0x608;   // 1 port (hardware-reduced FADT)
  std::uint16_t sleep_status = 0x609;    // 1 port (hardware-reduced FADT)
  std::uint8_t s5_sleep_type = 5;        // 0..7
};

}  // namespace softsynic::devices::acpi
