// The PC platform's ACPI tables, generated at run time into one byte image
// placed at a guest-physical address the caller chooses: RSDP (revision 2),
// XSDT, FADT (ACPI 6.3 layout), FACS (full FADT only), MADT and a DSDT with
// the VMBus device and \_S5. Layouts and numbers: devices/pc/acpi_defs.h.
//
// Full FADT or hardware-reduced (`PcAcpiConfig::hardware_reduced`):
// the default is a full FADT with a PM1a event and control block at I/O
// ports and SCI 9, because that is what Hyper-V gives its guests (generation 1 has
// the PIIX4's PM block; generation 2, the UEFI machine, keeps a full FADT
// with PM1 blocks as far as we know, see docs/LINUX_GUEST.md) and it is
// the path on which Linux's ACPI power-off writes PM1a_CNT (SLP_TYP from
// \_S5, then SLP_EN). The hardware-reduced choice (the sleep control and
// status registers instead, no FACS, no SCI) is kept for kernels that
// should see no legacy PC hardware: Linux then also skips the PIT and
// the 8259s. Either way no SCI is ever raised (no fixed or GPE events).
//
// MADT: one enabled xAPIC entry per VP (processor UID and APIC ID = VP
// index), LAPIC at 0xFEE00000, then unless `io_apic` is cleared one I/O
// APIC (ID `io_apic_id`, 0xFEC00000, GSI base 0: ISA IRQ n is GSI n) with
// the interrupt source overrides of a PC: IRQ 0 on GSI 2 (the 8254 timer's
// customary pin; there is none here) and, with a full FADT, the SCI on
// GSI 9 level-triggered, active high (without it Linux takes the SCI as
// active low, and an idle pin would be asserted for good). PCAT_COMPAT is
// set with a full FADT (the 8259s are part of that PC; Linux then believes
// in the 16 ISA IRQs without probing the PICs) and clear when
// hardware-reduced.
// DSDT: \_SB.VMBS with _HID "VMBUS" (what Linux's hv_vmbus matches), _UID 0
// and a _CRS that hv_vmbus walks: it must exist (a missing _CRS fails the
// probe); on x86 the bus interrupt is the fixed Hyper-V callback vector, so
// only memory ranges would be read, as the MMIO window for devices that
// need one (none of ours): empty unless `vmbus_mmio` is set.
// Not supported: more than 255 VPs (x2APIC entries), an RSDT, a PM timer,
// GPEs, processor objects in the DSDT.
#pragma once

#include <cstdint>
#include <optional>

#include "devices/acpi/acpi_image.h"
#include "devices/pc/acpi_defs.h"

namespace softsynic::devices {

struct PcAcpiConfig {
  std::uint32_t vp_count = 1;              // 1..255
  bool hardware_reduced = false;           // see the file comment
  bool cmos_rtc_present = true;            // clear: FADT says "CMOS RTC not present"
  bool i8042_present = false;              // clear: FADT says "no 8042"
  acpi::PmLayout pm{};                     // ports and the S5 sleep type
  struct Range {
    std::uint64_t base = 0;
    std::uint64_t size = 0;
  };
  std::optional<Range> vmbus_mmio;         // a QWordMemory in the VMBus _CRS
  bool io_apic = true;                     // clear: no I/O APIC or override entries
  std::uint8_t io_apic_id = 0;             // 0..15
};

// Builds the image for `base_gpa`, which must be 16-byte aligned (the
// RSDP's alignment). Throws std::invalid_argument for a VP count outside
// 1..255, a misaligned base, an S5 sleep type above 7 or an image that
// would pass the end of the 64-bit address space.
AcpiTables build_pc_acpi(const PcAcpiConfig& config, std::uint64_t base_gpa);

}  // namespace softsynic::devices
