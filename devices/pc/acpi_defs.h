// ACPI definitions only the PC platform's firmware tables and its power
// management ports use: IA-PC boot flags, the SCI, the FACS, the x86 MADT
// entries and the I/O port layout. Definitions only; the tables are built
// in acpi_tables.h, the ports are modelled in acpi_pm_device.h; what every
// platform shares is in devices/acpi/acpi_defs.h.
//
// Sources: ACPI 6.3 specification, sections 5.2.9.3 ("IA-PC Boot
// Architecture Flags"), 5.2.10 (FACS), 5.2.12 (MADT: processor local APIC,
// I/O APIC, interrupt source override), 4.8.3.1 (PM1 event registers), 4.8.3.2
// (PM1 control registers), 4.8.3.7 (sleep control and status registers of
// hardware-reduced ACPI).
// Not covered: RSDT, the PM timer, GPE blocks, 64-bit (x2APIC) MADT
// entries, NMI source and local APIC NMI entries.
#pragma once

#include <cstddef>
#include <cstdint>

#include "devices/acpi/acpi_defs.h"

namespace softsynic::devices::acpi {

// IA-PC boot architecture flags (5.2.9.3).
inline constexpr std::uint16_t kBootArchLegacyDevices = 1u << 0;
inline constexpr std::uint16_t kBootArch8042 = 1u << 1;  // set: a keyboard controller at 0x60/0x64
inline constexpr std::uint16_t kBootArchVgaNotPresent = 1u << 2;
inline constexpr std::uint16_t kBootArchMsiNotSupported = 1u << 3;
inline constexpr std::uint16_t kBootArchCmosRtcNotPresent = 1u << 5;
// The SCI's ISA interrupt on PCs. Nothing raises it here (no SCI events).
inline constexpr std::uint16_t kSciIrq = 9;

// --- FACS (5.2.10); required by a full FADT, absent in hardware-reduced mode --
inline constexpr char kFacsSignature[] = "FACS";
inline constexpr std::size_t kFacsLength = 64;
inline constexpr std::size_t kFacsAlignment = 64;
inline constexpr std::uint8_t kFacsVersion = 2;
namespace facs {
inline constexpr std::size_t kSignature = 0, kLength = 4, kVersion = 32;
}

// --- MADT (5.2.12), signature "APIC" ------------------------------------------
inline constexpr std::uint32_t kLocalApicAddress = 0xFEE0'0000;
inline constexpr std::uint32_t kMadtFlagPcatCompat = 1u << 0;  // the 8259s are there too
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
