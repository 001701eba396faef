// The arm64 virt machine's firmware tables as the table builders take them:
// emu/arm64/platform.h's addresses and interrupts in a
// devices::Arm64AcpiConfig (devices/arm64/acpi_tables.h), one GICC per VP
// with mpidr_for_vp's affinity. Header-only, so table tools need no
// emulator library.
#pragma once

#include <cstdint>

#include "devices/arm64/acpi_tables.h"
#include "emu/arm64/platform.h"

namespace softsynic::emu::arm64 {

inline devices::Arm64AcpiConfig virt_acpi_config(std::uint32_t vp_count) {
  devices::Arm64AcpiConfig c;
  for (std::uint32_t vp = 0; vp < vp_count; ++vp) c.mpidrs.push_back(mpidr_for_vp(vp));
  c.gicd_base = kGicdBase;
  c.gicr_base = kGicrBase;
  c.gicr_stride = kGicrFrameSize;
  c.el1_physical_timer_intid = kPhysicalTimerIntid;
  c.virtual_timer_intid = kVirtualTimerIntid;
  c.el2_physical_timer_intid = kHypPhysicalTimerIntid;
  c.vmbus_intid = kVmbusIntid;
  c.pl011 = {kPl011Base, kPl011Size};
  c.pl011_intid = kPl011Intid;
  return c;
}

}  // namespace softsynic::emu::arm64
