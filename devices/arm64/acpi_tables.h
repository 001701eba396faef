// An ARM64 machine's ACPI tables for Linux's hv_vmbus, generated at run
// time into one byte image at a guest-physical address the caller chooses
// (devices/acpi/acpi_image.h): RSDP (revision 2), XSDT, FADT, MADT, GTDT,
// SPCR and DSDT. Numbers: devices/arm64/acpi_defs.h. What Linux 6.1 reads
// of them, by table:
//  - FADT: revision 6.3, HW_REDUCED (arm64 Linux refuses anything else), ARM
//    boot flags PSCI_COMPLIANT | PSCI_USE_HVC (PSCI through HVC #0, as the
//    Hyper-V calls), hypervisor vendor "MsHyperV" (without it
//    hyperv_init does nothing), X_DSDT; no FACS, no SCI, no PM blocks.
//  - MADT: a GICv3 distributor, one GICR range covering every VP's
//    redistributor frames (`gicr_stride` apart, in VP order), then one
//    enabled GICC per VP: UID and CPU interface number = VP index,
//    arm_mpidr = the VP's MPIDR affinity, no GICv2 CPU interface, no
//    PMU or maintenance interrupt.
//  - GTDT: the EL1 physical, virtual and EL2 physical timers' PPIs, each
//    level-triggered, active high and always on; no secure EL1 timer (no
//    secure world: GSIV 0), no memory-mapped counter or timers.
//  - SPCR: the PL011 as the console (interface type 3, 32-bit MMIO access,
//    its SPI, 115200 8N1), so `console=ttyAMA0` or no console= at all works.
//  - DSDT: \_SB.VMOD (_HID "ACPI0004", a module device, with the VMBus MMIO
//    window in its _CRS when `vmbus_mmio` is set: hv_vmbus takes its
//    ranges from the parent) holding VMBS (_HID "VMBus", _UID 0, _CCA 1:
//    coherent DMA, Linux leaves DMA unusable without it) whose _CRS is one
//    Interrupt: the PPI that hv_vmbus requests per CPU and writes into
//    SINT2's vector (edge: every SynIC message or event is one
//    assertion); and \_SB.COM0 (_HID "ARMH0011", the PL011 bound by Linux's
//    SBSA UART driver) with its registers and SPI.
// Not supported: ITS or MSI frames, GICv2, PMU interrupts, PCI, power
// buttons, processor objects in the DSDT, more VPs than GICC UIDs fit.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "devices/acpi/acpi_image.h"
#include "devices/arm64/acpi_defs.h"

namespace softsynic::devices {

struct Arm64AcpiConfig {
  std::vector<std::uint64_t> mpidrs;  // one per VP, in VP order (MPIDR_EL1 as the VP reads it)
  std::uint64_t gicd_base = 0;
  std::uint64_t gicr_base = 0;        // VP n's RD_base at gicr_base + n * gicr_stride
  std::uint64_t gicr_stride = 0x2'0000;
  // Timer PPIs (GSIV = INTID).
  std::uint32_t el1_physical_timer_intid = 0;
  std::uint32_t virtual_timer_intid = 0;
  std::uint32_t el2_physical_timer_intid = 0;
  std::uint32_t vmbus_intid = 0;      // a PPI, 16..31
  struct Range {
    std::uint64_t base = 0;
    std::uint64_t size = 0;
  };
  std::optional<Range> vmbus_mmio;    // a QWordMemory in \_SB.VMOD's _CRS
  Range pl011{};                      // below 4 GiB
  std::uint32_t pl011_intid = 0;      // an SPI, 32..1019
};

// Builds the image for `base_gpa` (16-byte aligned). Throws
// std::invalid_argument for no VPs, a timer or VMBus INTID that is not a
// PPI, a PL011 interrupt that is not an SPI or registers that are not in
// the low 4 GiB, a misaligned base or an image that passes the end of the
// address space.
AcpiTables build_arm64_acpi(const Arm64AcpiConfig& config, std::uint64_t base_gpa);

}  // namespace softsynic::devices
