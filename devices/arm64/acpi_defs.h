// ACPI definitions for ARM64 machines' firmware tables: the FADT's ARM boot
// flags and hypervisor identity, the MADT's GIC entries, the GTDT and the
// SPCR. Definitions only; the tables are built in
// devices/arm64/acpi_tables.h; what every platform shares is in
// devices/acpi/acpi_defs.h.
//
// Sources: ACPI 6.3 specification, sections 5.2.9 (FADT: table 5-35 "ARM
// Architecture Boot Flags", the hypervisor vendor identity at 268),
// 5.2.12.14 (GIC CPU interface, GICC), 5.2.12.15 (GIC distributor, GICD),
// 5.2.12.17 (GIC redistributor, GICR), 5.2.24 (GTDT, revision 2 layout of
// ACPI 6.0-6.2: without the EL2 virtual timer); Microsoft's "Serial Port
// Console Redirection Table" (SPCR revision 2) with the serial port
// subtypes of its "Debug Port Table 2" (DBG2).
// Not covered: GIC MSI frames, ITS, GTDT platform (memory-mapped) timers
// and watchdogs, the SPCR's PCI fields (always "not a PCI device"), SPCR
// revision 3 and later fields.
#pragma once

#include <cstddef>
#include <cstdint>

#include "devices/acpi/acpi_defs.h"

namespace softsynic::devices::acpi {

// --- FADT --------------------------------------------------------------------
// ARM boot architecture flags (table 5-35): PSCI present, called with HVC.
inline constexpr std::uint16_t kArmBootPsciCompliant = 1u << 0;
inline constexpr std::uint16_t kArmBootPsciUseHvc = 1u << 1;
// What Linux's arm64 Hyper-V code compares FADT.hypervisor_id with.
inline constexpr char kHyperVVendorId[] = "MsHyperV";  // 8 characters

// --- MADT GIC entries ----------------------------------------------------------
// GICC (5.2.12.14), 80 bytes from ACPI 6.0 on (Linux checks the length).
inline constexpr std::uint8_t kMadtTypeGicc = 0x0B;
inline constexpr std::size_t kMadtGiccLength = 80;
namespace gicc {
inline constexpr std::size_t kCpuInterfaceNumber = 4, kUid = 8, kFlags = 12, kParkingVersion = 16,
                             kPerformanceInterrupt = 20, kParkedAddress = 24, kBaseAddress = 32,
                             kGicvBaseAddress = 40, kGichBaseAddress = 48, kVgicInterrupt = 56,
                             kGicrBaseAddress = 60, kMpidr = 68, kEfficiencyClass = 76, kSpeInterrupt = 78;
}
inline constexpr std::uint32_t kGiccEnabled = 1u << 0;
// MPIDR fields the GICC's arm_mpidr keeps (Aff3 in 39:32, Aff2-0 in 23:0).
inline constexpr std::uint64_t kGiccMpidrAffinityMask = 0xFF'00FF'FFFFull;

// GICD (5.2.12.15).
inline constexpr std::uint8_t kMadtTypeGicd = 0x0C;
inline constexpr std::size_t kMadtGicdLength = 24;
namespace gicd {
inline constexpr std::size_t kGicId = 4, kBaseAddress = 8, kGlobalIrqBase = 16, kVersion = 20;
}
inline constexpr std::uint8_t kGicVersion3 = 3;

// GICR (5.2.12.17): one contiguous range of redistributors.
inline constexpr std::uint8_t kMadtTypeGicr = 0x0E;
inline constexpr std::size_t kMadtGicrLength = 16;
namespace gicr {
inline constexpr std::size_t kBaseAddress = 4, kLength = 12;
}

// --- GTDT (5.2.24), signature "GTDT" -----------------------------------------------
inline constexpr char kGtdtSignature[] = "GTDT";
inline constexpr std::uint8_t kGtdtRevision = 2;
inline constexpr std::size_t kGtdtLength = 96;  // no platform timers
namespace gtdt {
inline constexpr std::size_t kCntControlBase = 36, kSecureEl1Gsiv = 48, kSecureEl1Flags = 52,
                             kNonSecureEl1Gsiv = 56, kNonSecureEl1Flags = 60, kVirtualGsiv = 64,
                             kVirtualFlags = 68, kNonSecureEl2Gsiv = 72, kNonSecureEl2Flags = 76,
                             kCntReadBase = 80, kPlatformTimerCount = 88, kPlatformTimerOffset = 92;
}
// "Not provided" for the memory-mapped counter blocks.
inline constexpr std::uint64_t kGtdtNoCounterBlock = ~std::uint64_t{0};
// Timer flags: bit 0 edge (clear: level), bit 1 active low (clear: active
// high), bit 2 always on (the timer keeps counting and interrupting in
// every power state).
inline constexpr std::uint32_t kGtdtTimerEdge = 1u << 0;
inline constexpr std::uint32_t kGtdtTimerActiveLow = 1u << 1;
inline constexpr std::uint32_t kGtdtTimerAlwaysOn = 1u << 2;

// --- SPCR, signature "SPCR" ----------------------------------------------------------
inline constexpr char kSpcrSignature[] = "SPCR";
inline constexpr std::uint8_t kSpcrRevision = 2;
inline constexpr std::size_t kSpcrLength = 80;
namespace spcr {
inline constexpr std::size_t kInterfaceType = 36, kBaseAddress = 40, kInterruptType = 52, kIrq = 53,
                             kGsiv = 54, kBaudRate = 58, kParity = 59, kStopBits = 60, kFlowControl = 61,
                             kTerminalType = 62, kPciDeviceId = 64, kPciVendorId = 66, kPciBus = 68,
                             kPciDevice = 69, kPciFunction = 70, kPciFlags = 71, kPciSegment = 75;
}
inline constexpr std::uint8_t kSpcrInterfaceArmPl011 = 0x03;  // DBG2 serial subtype
inline constexpr std::uint8_t kSpcrInterruptGic = 1u << 3;    // "ARMH GIC interrupt"
inline constexpr std::uint8_t kSpcrBaud115200 = 7;
inline constexpr std::uint8_t kSpcrOneStopBit = 1;
inline constexpr std::uint16_t kSpcrNotPci = 0xFFFF;  // device and vendor ID of a non-PCI port

}  // namespace softsynic::devices::acpi
