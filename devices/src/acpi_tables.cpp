// build_pc_acpi: see devices/pc/acpi_tables.h.
#include "devices/pc/acpi_tables.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "devices/acpi/aml_builder.h"

namespace softsynic::devices {
namespace {

using acpi::Bytes;
using acpi::finish_table;
using acpi::new_table;
using acpi::put_le;
constexpr std::uint64_t k4GiB = 1ull << 32;

// A Generic Address Structure for `bits` of I/O space at `port`.
void put_io_gas(Bytes& b, std::size_t offset, std::uint16_t port, std::uint8_t bits, std::uint8_t access) {
  acpi::put_gas(b, offset, acpi::kGasSystemIo, bits, access, port);
}

Bytes build_dsdt(const PcAcpiConfig& config) {
  std::vector<Bytes> crs;
  if (config.vmbus_mmio && config.vmbus_mmio->size != 0) {
    crs.push_back(aml::qword_memory(config.vmbus_mmio->base, config.vmbus_mmio->base + config.vmbus_mmio->size - 1));
  }
  const Bytes vmbus = aml::device("VMBS", aml::join({aml::name("_HID", aml::string("VMBUS")),
                                                     aml::name("_UID", aml::integer(0)),
                                                     aml::name("_CRS", aml::resource_template(crs))}));
  // \_S5: SLP_TYPa, SLP_TYPb, two reserved elements.
  const std::uint64_t s5 = config.pm.s5_sleep_type;
  const Bytes s5_package = aml::name("\\_S5", aml::package({aml::integer(s5), aml::integer(s5), aml::integer(0),
                                                           aml::integer(0)}));
  return acpi::build_dsdt(aml::join({aml::scope("\\_SB", vmbus), s5_package}));
}

Bytes build_madt(const PcAcpiConfig& config) {
  struct Override {
    std::uint8_t irq;
    std::uint32_t gsi;
    std::uint16_t flags;
  };
  std::vector<Override> overrides;
  if (config.io_apic) {
    overrides.push_back({0, 2, acpi::kMpsIntiConforms});
    if (!config.hardware_reduced) overrides.push_back({static_cast<std::uint8_t>(acpi::kSciIrq), acpi::kSciIrq,
                                                       acpi::kMpsIntiActiveHigh | acpi::kMpsIntiLevel});
  }
  const std::size_t length = acpi::madt::kEntries + config.vp_count * acpi::kMadtLocalApicLength +
                             (config.io_apic ? acpi::kMadtIoApicLength : 0) +
                             overrides.size() * acpi::kMadtInterruptOverrideLength;
  Bytes t = new_table(acpi::kMadtSignature, length, acpi::kMadtRevision);
  put_le(t, acpi::madt::kLocalApicAddress, acpi::kLocalApicAddress, 4);
  put_le(t, acpi::madt::kFlags, config.hardware_reduced ? 0 : acpi::kMadtFlagPcatCompat, 4);
  std::size_t e = acpi::madt::kEntries;
  for (std::uint32_t vp = 0; vp < config.vp_count; ++vp, e += acpi::kMadtLocalApicLength) {
    t[e] = acpi::kMadtTypeLocalApic;
    t[e + 1] = acpi::kMadtLocalApicLength;
    t[e + 2] = static_cast<std::uint8_t>(vp);  // processor UID
    t[e + 3] = static_cast<std::uint8_t>(vp);  // APIC ID: the platform's is the VP index
    put_le(t, e + 4, acpi::kMadtLocalApicEnabled, 4);
  }
  if (config.io_apic) {
    t[e] = acpi::kMadtTypeIoApic;
    t[e + 1] = acpi::kMadtIoApicLength;
    t[e + 2] = config.io_apic_id;
    put_le(t, e + 4, acpi::kIoApicAddress, 4);
    put_le(t, e + 8, 0, 4);  // GSI base
    e += acpi::kMadtIoApicLength;
  }
  for (const Override& o : overrides) {
    t[e] = acpi::kMadtTypeInterruptOverride;
    t[e + 1] = acpi::kMadtInterruptOverrideLength;
    t[e + 2] = 0;  // ISA
    t[e + 3] = o.irq;
    put_le(t, e + 4, o.gsi, 4);
    put_le(t, e + 8, o.flags, 2);
    e += acpi::kMadtInterruptOverrideLength;
  }
  finish_table(t);
  return t;
}

// `facs_gpa` is used only by a full FADT.
Bytes build_fadt(const PcAcpiConfig& config, std::uint64_t dsdt_gpa, std::uint64_t facs_gpa) {
  Bytes t = new_table(acpi::kFadtSignature, acpi::kFadtLength, acpi::kFadtRevision);
  t[acpi::fadt::kMinorVersion] = acpi::kFadtMinorRevision;
  if (dsdt_gpa < k4GiB) put_le(t, acpi::fadt::kDsdt, dsdt_gpa, 4);
  put_le(t, acpi::fadt::kXDsdt, dsdt_gpa, 8);

  std::uint32_t flags = acpi::kFadtFlagWbinvd | acpi::kFadtFlagProcC1 | acpi::kFadtFlagPwrButton |
                        acpi::kFadtFlagSlpButton;
  std::uint16_t boot_arch = acpi::kBootArchVgaNotPresent;
  if (config.i8042_present) boot_arch |= acpi::kBootArch8042;
  if (!config.cmos_rtc_present) boot_arch |= acpi::kBootArchCmosRtcNotPresent;

  if (config.hardware_reduced) {
    flags |= acpi::kFadtFlagHwReducedAcpi;
    put_io_gas(t, acpi::fadt::kSleepControlReg, config.pm.sleep_control, 8, acpi::kGasAccessByte);
    put_io_gas(t, acpi::fadt::kSleepStatusReg, config.pm.sleep_status, 8, acpi::kGasAccessByte);
  } else {
    // The FACS goes in the 32-bit field when it fits: ACPI wants exactly
    // one of FIRMWARE_CTRL and X_FIRMWARE_CTRL set.
    if (facs_gpa < k4GiB) {
      put_le(t, acpi::fadt::kFirmwareCtrl, facs_gpa, 4);
    } else {
      put_le(t, acpi::fadt::kXFirmwareCtrl, facs_gpa, 8);
    }
    put_le(t, acpi::fadt::kSciInt, acpi::kSciIrq, 2);
    // SMI_CMD 0: no SMM mode switch, the machine is always in ACPI mode
    // (PM1_CNT.SCI_EN reads 1).
    put_le(t, acpi::fadt::kSmiCmd, 0, 4);
    put_le(t, acpi::fadt::kPm1aEvtBlk, config.pm.pm1a_event, 4);
    put_le(t, acpi::fadt::kPm1aCntBlk, config.pm.pm1a_control, 4);
    t[acpi::fadt::kPm1EvtLen] = acpi::kPm1EvtLength;
    t[acpi::fadt::kPm1CntLen] = acpi::kPm1CntLength;
    put_io_gas(t, acpi::fadt::kXPm1aEvtBlk, config.pm.pm1a_event, 8 * acpi::kPm1EvtLength, acpi::kGasAccessWord);
    put_io_gas(t, acpi::fadt::kXPm1aCntBlk, config.pm.pm1a_control, 8 * acpi::kPm1CntLength, acpi::kGasAccessWord);
  }
  put_le(t, acpi::fadt::kFlags, flags, 4);
  put_le(t, acpi::fadt::kIapcBootArch, boot_arch, 2);
  finish_table(t);
  return t;
}

Bytes build_facs() {
  Bytes t(acpi::kFacsLength, 0);  // no checksum: the OS writes it
  acpi::put_chars(t, acpi::facs::kSignature, acpi::kFacsSignature);
  put_le(t, acpi::facs::kLength, acpi::kFacsLength, 4);
  t[acpi::facs::kVersion] = acpi::kFacsVersion;
  return t;
}

}  // namespace

AcpiTables build_pc_acpi(const PcAcpiConfig& config, std::uint64_t base_gpa) {
  if (config.vp_count == 0 || config.vp_count > acpi::kMaxXapicVps) {
    throw std::invalid_argument("acpi: " + std::to_string(config.vp_count) + " VPs; the MADT holds 1 to 255 xAPICs");
  }
  if (config.io_apic_id > 15) throw std::invalid_argument("acpi: I/O APIC IDs have 4 bits");
  if (config.pm.s5_sleep_type > acpi::kSlpTypMask) throw std::invalid_argument("acpi: S5 sleep type above 7");

  // Sizes first (the FADT and XSDT hold addresses of the tables after them).
  const Bytes dsdt = build_dsdt(config);
  const Bytes madt = build_madt(config);
  const bool with_facs = !config.hardware_reduced;
  const std::size_t xsdt_entries = 2;  // FADT, MADT (the DSDT hangs off the FADT)

  acpi::ImageLayout layout(base_gpa);
  const std::size_t rsdp_off = layout.reserve(acpi::kRsdpLength, acpi::kRsdpAlignment);
  const std::size_t facs_off = with_facs ? layout.reserve(acpi::kFacsLength, acpi::kFacsAlignment) : 0;
  const std::size_t xsdt_off = layout.reserve(acpi::kHeaderLength + 8 * xsdt_entries);
  const std::size_t fadt_off = layout.reserve(acpi::kFadtLength);
  const std::size_t madt_off = layout.reserve(madt.size());
  const std::size_t dsdt_off = layout.reserve(dsdt.size());

  const Bytes fadt = build_fadt(config, layout.gpa(dsdt_off), layout.gpa(facs_off));
  layout.place(acpi::kRsdpSignature, rsdp_off, acpi::build_rsdp(layout.gpa(xsdt_off)));
  if (with_facs) layout.place(acpi::kFacsSignature, facs_off, build_facs());
  layout.place(acpi::kXsdtSignature, xsdt_off, acpi::build_xsdt({layout.gpa(fadt_off), layout.gpa(madt_off)}));
  layout.place(acpi::kFadtSignature, fadt_off, fadt);
  layout.place(acpi::kMadtSignature, madt_off, madt);
  layout.place(acpi::kDsdtSignature, dsdt_off, dsdt);
  return std::move(layout).finish(rsdp_off);
}

}  // namespace softsynic::devices
