// build_arm64_acpi: see devices/arm64/acpi_tables.h.
#include "devices/arm64/acpi_tables.h"

#include <stdexcept>
#include <string>

#include "devices/acpi/aml_builder.h"

namespace softsynic::devices {
namespace {

using acpi::Bytes;
using acpi::finish_table;
using acpi::new_table;
using acpi::put_le;

constexpr std::uint32_t kFirstPpi = 16, kFirstSpi = 32, kLastSpi = 1019;
constexpr std::uint64_t k4GiB = 1ull << 32;

bool is_ppi(std::uint32_t intid) { return intid >= kFirstPpi && intid < kFirstSpi; }

Bytes build_fadt(std::uint64_t dsdt_gpa) {
  Bytes t = new_table(acpi::kFadtSignature, acpi::kFadtLength, acpi::kFadtRevision);
  t[acpi::fadt::kMinorVersion] = acpi::kFadtMinorRevision;
  put_le(t, acpi::fadt::kFlags, acpi::kFadtFlagHwReducedAcpi | acpi::kFadtFlagPwrButton | acpi::kFadtFlagSlpButton, 4);
  put_le(t, acpi::fadt::kArmBootArch, acpi::kArmBootPsciCompliant | acpi::kArmBootPsciUseHvc, 2);
  put_le(t, acpi::fadt::kXDsdt, dsdt_gpa, 8);
  acpi::put_chars(t, acpi::fadt::kHypervisorVendor, acpi::kHyperVVendorId);
  finish_table(t);
  return t;
}

Bytes build_madt(const Arm64AcpiConfig& config) {
  const std::size_t vps = config.mpidrs.size();
  const std::size_t length = acpi::madt::kEntries + acpi::kMadtGicdLength + acpi::kMadtGicrLength +
                             vps * acpi::kMadtGiccLength;
  Bytes t = new_table(acpi::kMadtSignature, length, acpi::kMadtRevision);
  // No local interrupt controller address, no flags (no PC-AT 8259s).
  std::size_t e = acpi::madt::kEntries;
  t[e] = acpi::kMadtTypeGicd;
  t[e + 1] = acpi::kMadtGicdLength;
  put_le(t, e + acpi::gicd::kBaseAddress, config.gicd_base, 8);
  t[e + acpi::gicd::kVersion] = acpi::kGicVersion3;  // GIC ID and GSI base 0: SPIs are GSIs
  e += acpi::kMadtGicdLength;

  t[e] = acpi::kMadtTypeGicr;
  t[e + 1] = acpi::kMadtGicrLength;
  put_le(t, e + acpi::gicr::kBaseAddress, config.gicr_base, 8);
  put_le(t, e + acpi::gicr::kLength, vps * config.gicr_stride, 4);
  e += acpi::kMadtGicrLength;

  for (std::size_t vp = 0; vp < vps; ++vp, e += acpi::kMadtGiccLength) {
    t[e] = acpi::kMadtTypeGicc;
    t[e + 1] = acpi::kMadtGiccLength;
    put_le(t, e + acpi::gicc::kCpuInterfaceNumber, vp, 4);
    put_le(t, e + acpi::gicc::kUid, vp, 4);
    put_le(t, e + acpi::gicc::kFlags, acpi::kGiccEnabled, 4);
    // The redistributor comes from the GICR entry: gicr_base_address 0.
    put_le(t, e + acpi::gicc::kMpidr, config.mpidrs[vp] & acpi::kGiccMpidrAffinityMask, 8);
  }
  finish_table(t);
  return t;
}

Bytes build_gtdt(const Arm64AcpiConfig& config) {
  Bytes t = new_table(acpi::kGtdtSignature, acpi::kGtdtLength, acpi::kGtdtRevision);
  constexpr std::uint32_t kLevelHighAlwaysOn = acpi::kGtdtTimerAlwaysOn;
  put_le(t, acpi::gtdt::kCntControlBase, acpi::kGtdtNoCounterBlock, 8);
  put_le(t, acpi::gtdt::kNonSecureEl1Gsiv, config.el1_physical_timer_intid, 4);
  put_le(t, acpi::gtdt::kNonSecureEl1Flags, kLevelHighAlwaysOn, 4);
  put_le(t, acpi::gtdt::kVirtualGsiv, config.virtual_timer_intid, 4);
  put_le(t, acpi::gtdt::kVirtualFlags, kLevelHighAlwaysOn, 4);
  put_le(t, acpi::gtdt::kNonSecureEl2Gsiv, config.el2_physical_timer_intid, 4);
  put_le(t, acpi::gtdt::kNonSecureEl2Flags, kLevelHighAlwaysOn, 4);
  put_le(t, acpi::gtdt::kCntReadBase, acpi::kGtdtNoCounterBlock, 8);
  // No platform timers; their offset points past the fixed part anyway.
  put_le(t, acpi::gtdt::kPlatformTimerOffset, acpi::kGtdtLength, 4);
  finish_table(t);
  return t;
}

Bytes build_spcr(const Arm64AcpiConfig& config) {
  Bytes t = new_table(acpi::kSpcrSignature, acpi::kSpcrLength, acpi::kSpcrRevision);
  t[acpi::spcr::kInterfaceType] = acpi::kSpcrInterfaceArmPl011;
  acpi::put_gas(t, acpi::spcr::kBaseAddress, acpi::kGasSystemMemory, 32, acpi::kGasAccessDword, config.pl011.base);
  t[acpi::spcr::kInterruptType] = acpi::kSpcrInterruptGic;
  put_le(t, acpi::spcr::kGsiv, config.pl011_intid, 4);
  t[acpi::spcr::kBaudRate] = acpi::kSpcrBaud115200;
  t[acpi::spcr::kStopBits] = acpi::kSpcrOneStopBit;
  put_le(t, acpi::spcr::kPciDeviceId, acpi::kSpcrNotPci, 2);
  put_le(t, acpi::spcr::kPciVendorId, acpi::kSpcrNotPci, 2);
  finish_table(t);
  return t;
}

Bytes build_dsdt(const Arm64AcpiConfig& config) {
  std::vector<Bytes> module_crs;
  if (config.vmbus_mmio && config.vmbus_mmio->size != 0) {
    module_crs.push_back(aml::qword_memory(config.vmbus_mmio->base, config.vmbus_mmio->base + config.vmbus_mmio->size - 1));
  }
  const Bytes vmbus = aml::device(
      "VMBS", aml::join({aml::name("_HID", aml::string("VMBus")), aml::name("_UID", aml::integer(0)),
                         aml::name("_CCA", aml::integer(1)),
                         aml::name("_CRS", aml::resource_template({aml::interrupt(
                                               config.vmbus_intid, aml::Trigger::kEdge, aml::Polarity::kActiveHigh)}))}));
  const Bytes module = aml::device("VMOD", aml::join({aml::name("_HID", aml::string("ACPI0004")),
                                                      aml::name("_UID", aml::integer(0)),
                                                      aml::name("_CRS", aml::resource_template(module_crs)), vmbus}));
  const Bytes uart = aml::device(
      "COM0",
      aml::join({aml::name("_HID", aml::string("ARMH0011")), aml::name("_UID", aml::integer(0)),
                 aml::name("_CRS", aml::resource_template(
                                       {aml::memory32_fixed(static_cast<std::uint32_t>(config.pl011.base),
                                                            static_cast<std::uint32_t>(config.pl011.size)),
                                        aml::interrupt(config.pl011_intid, aml::Trigger::kLevel,
                                                       aml::Polarity::kActiveHigh)}))}));
  return acpi::build_dsdt(aml::scope("\\_SB", aml::join({module, uart})));
}

void check(const Arm64AcpiConfig& config) {
  if (config.mpidrs.empty()) throw std::invalid_argument("acpi: no VPs");
  if (config.mpidrs.size() * config.gicr_stride > 0xFFFF'FFFF) throw std::invalid_argument("acpi: GICR range too long");
  for (std::uint32_t intid : {config.el1_physical_timer_intid, config.virtual_timer_intid,
                              config.el2_physical_timer_intid, config.vmbus_intid}) {
    if (!is_ppi(intid)) throw std::invalid_argument("acpi: INTID " + std::to_string(intid) + " is not a PPI (16..31)");
  }
  if (config.pl011_intid < kFirstSpi || config.pl011_intid > kLastSpi) {
    throw std::invalid_argument("acpi: the PL011's INTID " + std::to_string(config.pl011_intid) + " is not an SPI");
  }
  if (config.pl011.size == 0 || config.pl011.base >= k4GiB || config.pl011.size > k4GiB - config.pl011.base) {
    throw std::invalid_argument("acpi: the PL011's registers must be in the low 4 GiB");
  }
}

}  // namespace

AcpiTables build_arm64_acpi(const Arm64AcpiConfig& config, std::uint64_t base_gpa) {
  check(config);
  const Bytes madt = build_madt(config);
  const Bytes gtdt = build_gtdt(config);
  const Bytes spcr = build_spcr(config);
  const Bytes dsdt = build_dsdt(config);
  constexpr std::size_t kXsdtEntries = 4;  // FADT, MADT, GTDT, SPCR (the DSDT hangs off the FADT)

  acpi::ImageLayout layout(base_gpa);
  const std::size_t rsdp_off = layout.reserve(acpi::kRsdpLength, acpi::kRsdpAlignment);
  const std::size_t xsdt_off = layout.reserve(acpi::kHeaderLength + 8 * kXsdtEntries);
  const std::size_t fadt_off = layout.reserve(acpi::kFadtLength);
  const std::size_t madt_off = layout.reserve(madt.size());
  const std::size_t gtdt_off = layout.reserve(gtdt.size());
  const std::size_t spcr_off = layout.reserve(spcr.size());
  const std::size_t dsdt_off = layout.reserve(dsdt.size());

  layout.place(acpi::kRsdpSignature, rsdp_off, acpi::build_rsdp(layout.gpa(xsdt_off)));
  layout.place(acpi::kXsdtSignature, xsdt_off,
               acpi::build_xsdt({layout.gpa(fadt_off), layout.gpa(madt_off), layout.gpa(gtdt_off), layout.gpa(spcr_off)}));
  layout.place(acpi::kFadtSignature, fadt_off, build_fadt(layout.gpa(dsdt_off)));
  layout.place(acpi::kMadtSignature, madt_off, madt);
  layout.place(acpi::kGtdtSignature, gtdt_off, gtdt);
  layout.place(acpi::kSpcrSignature, spcr_off, spcr);
  layout.place(acpi::kDsdtSignature, dsdt_off, dsdt);
  return std::move(layout).finish(rsdp_off);
}

}  // namespace softsynic::devices
