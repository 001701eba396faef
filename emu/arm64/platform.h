// The ARM64 reference machine's memory map besides RAM (emu/vp_engine.cpp
// memory_layout: RAM at 0x4000'0000) and the debug devices
// (emu/debug_devices.h): where each VP's GICv3 redistributor lives and
// what the identification registers read. Guest runtimes copy these
// numbers (guests include no host headers).
//
// Redistributors are contiguous, one 128 KiB pair of frames per VP in VP
// order (RD_base, then the SGI/PPI frame), as on the common "virt" boards;
// the distributor sits where those boards put it. The PL011 takes the
// 64 KiB slot after the debug MMIO page (the boards' own UART address,
// 0x0900'0000, is that page) and the boards' UART interrupt, SPI 1.
// Interrupts the firmware tables hand to Linux (emu/arm64/firmware_config.h):
// the architected timers on the PPIs the Arm Base System Architecture
// assigns them, and VMBus on PPI 18 (INTID 18): the SynIC's interrupt is
// per VP, so a PPI; 16-19 are the PPIs the BSA leaves to the platform
// (20-31 are trace, profiling, PMU, CTI, GIC maintenance and timers), and
// 18 is the upstream VMBus device-tree binding's example.
// Not modelled: ITS and LPIs, GICv4 VLPI frames.
#pragma once

#include <cstdint>

#include "devices/arm64/gic_registers.h"

namespace softsynic::emu::arm64 {

inline constexpr std::uint64_t kRamBase = 0x4000'0000;  // emu/vp_engine.cpp memory_layout

inline constexpr std::uint64_t kGicdBase = 0x0800'0000;
inline constexpr std::uint64_t kGicdSize = 0x1'0000;
inline constexpr std::uint64_t kGicrBase = 0x080A'0000;
inline constexpr std::uint64_t kGicrFrameSize = 0x2'0000;  // RD_base + SGI frame, per VP
// The redistributor region must end below the debug MMIO page.
inline constexpr std::uint32_t kMaxVps = 64;

inline constexpr std::uint64_t kPl011Base = 0x0901'0000;
inline constexpr std::uint64_t kPl011Size = 0x1000;
inline constexpr std::uint32_t kPl011Intid = 33;  // SPI 1

// PPIs (INTID = GSIV in the ACPI tables).
inline constexpr std::uint32_t kHypPhysicalTimerIntid = 26;  // EL2 physical timer
inline constexpr std::uint32_t kVirtualTimerIntid = 27;      // what an EL1 kernel uses
inline constexpr std::uint32_t kPhysicalTimerIntid = 30;     // EL1 non-secure physical timer
inline constexpr std::uint32_t kVmbusIntid = 18;

// RD_base frame registers the machine answers itself (the SGI frame goes
// to devices::InterruptLine).
namespace gicr_rd {
inline constexpr std::uint32_t kCtlr = 0x0000;  // RAZ/WI: no LPIs
inline constexpr std::uint32_t kIidr = 0x0004;
inline constexpr std::uint32_t kTyper = 0x0008;           // 64-bit
inline constexpr std::uint32_t kWaker = 0x0014;           // ProcessorSleep bit 1, ChildrenAsleep bit 2
inline constexpr std::uint32_t kPidr2 = 0xFFE8;           // ArchRev in bits 4-7
inline constexpr std::uint32_t kIidrValue = devices::gic::kIidrValue;
inline constexpr std::uint32_t kPidr2Gicv3 = devices::gic::kPidr2Gicv3;
inline constexpr std::uint64_t kTyperLast = 1u << 4;
inline constexpr unsigned kTyperProcessorNumberShift = 8;
inline constexpr unsigned kTyperAffinityShift = 32;
inline constexpr std::uint32_t kWakerProcessorSleep = 1u << 1;
inline constexpr std::uint32_t kWakerChildrenAsleep = 1u << 2;
}  // namespace gicr_rd

// MPIDR_EL1 as the guest reads it: Aff0 = VP index (VP indexes above 255
// go to Aff1), bit 31 RES1.
constexpr std::uint64_t mpidr_for_vp(std::uint32_t vp) {
  return (std::uint64_t{1} << 31) | ((std::uint64_t{vp} >> 8 & 0xFF) << 8) | (vp & 0xFF);
}

}  // namespace softsynic::emu::arm64
