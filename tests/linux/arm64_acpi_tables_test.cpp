// The arm64 virt machine's ACPI tables (devices/arm64/acpi_tables.h) as
// emu/arm64/firmware_config.h configures them: the fields Linux 6.1 reads
// (arch/arm64/kernel/acpi.c, arch/arm64/hyperv, drivers/acpi/arm64/gtdt.c,
// drivers/acpi/spcr.c, drivers/irqchip/irq-gic-v3.c, drivers/hv/vmbus_drv.c).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "devices/acpi/aml_builder.h"
#include "devices/arm64/acpi_tables.h"
#include "emu/arm64/firmware_config.h"
#include "tests/linux/table_bytes.h"

using namespace softsynic::devices;
namespace aml = softsynic::devices::aml;
using namespace softsynic::test;
namespace platform = softsynic::emu::arm64;

namespace {

constexpr std::uint64_t kBase = 0x4000'0000;

AcpiTables build(std::uint32_t vps) { return build_arm64_acpi(platform::virt_acpi_config(vps), kBase); }

std::uint64_t gpa_of(const AcpiTables& t, std::string_view sig) {
  return t.base_gpa + static_cast<std::uint64_t>(t.table(sig).data() - t.bytes.data());
}

}  // namespace

TEST_CASE("arm64 acpi: every table sums to zero, its header length is its size, and the XSDT lists them") {
  const AcpiTables t = build(2);
  for (const AcpiTableRef& ref : t.tables) {
    CAPTURE(ref.signature);
    const auto b = std::span(t.bytes).subspan(ref.offset, ref.length);
    CHECK(ref.gpa % 8 == 0);
    if (ref.signature == "RSD PTR ") {
      CHECK(byte_sum(b.first(20)) == 0);
      CHECK(byte_sum(b) == 0);
    } else {
      CHECK(byte_sum(b) == 0);
      CHECK(le(b, 4, 4) == ref.length);
    }
  }
  CHECK(t.rsdp_gpa == kBase);
  const auto rsdp = t.table("RSD PTR ");
  CHECK(rsdp[15] == 2);
  CHECK(le(rsdp, 24, 8) == gpa_of(t, "XSDT"));
  const auto xsdt = t.table("XSDT");
  REQUIRE(xsdt.size() == 36 + 4 * 8);
  CHECK(le(xsdt, 36, 8) == gpa_of(t, "FACP"));
  CHECK(le(xsdt, 44, 8) == gpa_of(t, "APIC"));
  CHECK(le(xsdt, 52, 8) == gpa_of(t, "GTDT"));
  CHECK(le(xsdt, 60, 8) == gpa_of(t, "SPCR"));
  CHECK_THROWS_AS(t.table("FACS"), std::out_of_range);  // hardware-reduced: none
}

TEST_CASE("arm64 acpi: the FADT is a hardware-reduced 6.3 FADT with PSCI over HVC and Hyper-V's vendor ID") {
  const AcpiTables t = build(1);
  const auto fadt = t.table("FACP");
  REQUIRE(fadt.size() == 276);
  CHECK(fadt[8] == 6);                                 // revision
  CHECK(fadt[131] >= 1);                               // minor revision: Linux wants 5.1 or later
  CHECK(fadt[131] < 5);                                // 6.5 would make Linux expect 82-byte GICCs
  CHECK((le(fadt, 112, 4) & (1u << 20)) != 0);         // HW_REDUCED_ACPI
  CHECK(le(fadt, 129, 2) == 0x3);                      // PSCI_COMPLIANT | PSCI_USE_HVC
  CHECK(text(fadt, 268, 8) == "MsHyperV");             // hyperv_init compares these 8 bytes
  CHECK(le(fadt, 140, 8) == gpa_of(t, "DSDT"));        // X_DSDT
  CHECK(le(fadt, 40, 4) == 0);                         // DSDT: only the 64-bit field
  CHECK(le(fadt, 36, 4) == 0);                         // no FACS
  CHECK(le(fadt, 132, 8) == 0);
  CHECK(le(fadt, 46, 2) == 0);                         // no SCI
}

TEST_CASE("arm64 acpi: the MADT has a GICv3 distributor, one redistributor range and an enabled GICC per VP") {
  constexpr std::uint32_t kVps = 3;
  const AcpiTables t = build(kVps);
  const auto madt = t.table("APIC");
  CHECK(le(madt, 36, 4) == 0);  // no local interrupt controller address
  CHECK(le(madt, 40, 4) == 0);  // not PC-AT compatible
  std::size_t e = 44;
  REQUIRE(madt[e] == 0x0C);     // GICD
  REQUIRE(madt[e + 1] == 24);
  CHECK(le(madt, e + 8, 8) == platform::kGicdBase);
  CHECK(le(madt, e + 16, 4) == 0);  // GSI base
  CHECK(madt[e + 20] == 3);         // GICv3
  e += 24;
  REQUIRE(madt[e] == 0x0E);         // GICR
  REQUIRE(madt[e + 1] == 16);
  CHECK(le(madt, e + 4, 8) == platform::kGicrBase);
  CHECK(le(madt, e + 12, 4) == kVps * platform::kGicrFrameSize);
  e += 16;
  for (std::uint32_t vp = 0; vp < kVps; ++vp, e += 80) {
    CAPTURE(vp);
    REQUIRE(madt[e] == 0x0B);       // GICC
    REQUIRE(madt[e + 1] == 80);
    CHECK(le(madt, e + 8, 4) == vp);        // UID
    CHECK(le(madt, e + 12, 4) == 1);        // enabled
    CHECK(le(madt, e + 32, 8) == 0);        // no GICv2 CPU interface
    CHECK(le(madt, e + 60, 8) == 0);        // redistributor from the GICR entry
    // Linux matches the boot CPU by MPIDR affinity: bit 31 (RES1) is not part of it.
    CHECK(le(madt, e + 68, 8) == (platform::mpidr_for_vp(vp) & 0xFF'00FF'FFFFull));
    CHECK(le(madt, e + 68, 8) == vp);
  }
  CHECK(e == madt.size());
}

TEST_CASE("arm64 acpi: the GTDT gives the timers' PPIs, level-triggered, active high, always on") {
  const AcpiTables tables = build(1);  // the table views point into it
  const auto gtdt = tables.table("GTDT");
  REQUIRE(gtdt.size() == 96);
  CHECK(gtdt[8] == 2);                       // gtdt.c wants revision 2 or later
  CHECK(le(gtdt, 36, 8) == ~0ull);           // no memory-mapped CNTControlBase
  CHECK(le(gtdt, 48, 4) == 0);               // no secure EL1 timer
  CHECK(le(gtdt, 56, 4) == 30);              // EL1 physical
  CHECK(le(gtdt, 64, 4) == 27);              // virtual: what the kernel at EL1 uses
  CHECK(le(gtdt, 72, 4) == 26);              // EL2 physical
  for (std::size_t flags : {60, 68, 76}) CHECK(le(gtdt, flags, 4) == 0x4);  // bit 0 edge, 1 low clear; 2 always on
  CHECK(le(gtdt, 80, 8) == ~0ull);           // no CNTReadBase
  CHECK(le(gtdt, 88, 4) == 0);               // no platform timers
}

TEST_CASE("arm64 acpi: the SPCR names the PL011, its 32-bit registers and its SPI") {
  const AcpiTables tables = build(1);
  const auto spcr = tables.table("SPCR");
  REQUIRE(spcr.size() == 80);
  CHECK(spcr[8] == 2);
  CHECK(spcr[36] == 0x03);                   // ARM PL011 UART
  CHECK(spcr[40] == 0);                      // system memory
  CHECK(spcr[41] == 32);
  CHECK(spcr[43] == 3);                      // dword access: Linux picks mmio32
  CHECK(le(spcr, 44, 8) == platform::kPl011Base);
  CHECK(spcr[52] == 0x08);                   // GIC interrupt
  CHECK(le(spcr, 54, 4) == platform::kPl011Intid);
  CHECK(spcr[58] == 7);                      // 115200
  CHECK(le(spcr, 64, 2) == 0xFFFF);          // not a PCI device
}

TEST_CASE("arm64 acpi: the DSDT holds VMBus under a module device with its PPI, and the PL011") {
  const AcpiTables tables = build(1);
  const auto dsdt = tables.table("DSDT");
  auto hid = [](std::string_view s) { return aml::name("_HID", aml::string(s)); };
  CHECK(contains(dsdt, aml::name_string("VMOD")));
  CHECK(contains(dsdt, hid("ACPI0004")));
  CHECK(contains(dsdt, hid("VMBus")));
  CHECK(contains(dsdt, aml::name("_CCA", aml::integer(1))));
  // Extended interrupt descriptor: consumer, edge, active high, exclusive, INTID 18.
  CHECK(contains(dsdt, {0x89, 6, 0, 0x03, 1, 18, 0, 0, 0}));
  CHECK(contains(dsdt, hid("ARMH0011")));
  CHECK(contains(dsdt, aml::memory32_fixed(static_cast<std::uint32_t>(platform::kPl011Base), 0x1000)));
  CHECK(contains(dsdt, {0x89, 6, 0, 0x01, 1, 33, 0, 0, 0}));  // consumer, level, active high: SPI 1
  // VMBS is inside VMOD: its Device op follows VMOD's name.
  const auto vmod = std::search(dsdt.begin(), dsdt.end(), std::begin("VMOD"), std::begin("VMOD") + 4);
  const auto vmbs = std::search(dsdt.begin(), dsdt.end(), std::begin("VMBS"), std::begin("VMBS") + 4);
  CHECK(vmod < vmbs);
}

TEST_CASE("arm64 acpi: a VMBus MMIO window goes into the module device's _CRS") {
  auto config = platform::virt_acpi_config(1);
  config.vmbus_mmio = Arm64AcpiConfig::Range{0x1'0000'0000, 0x1000'0000};
  const AcpiTables tables = build_arm64_acpi(config, kBase);
  const auto dsdt = tables.table("DSDT");
  CHECK(contains(dsdt, aml::qword_memory(0x1'0000'0000, 0x1'0FFF'FFFF)));
}

TEST_CASE("arm64 acpi: bad configurations are refused") {
  auto config = platform::virt_acpi_config(1);
  CHECK_THROWS_AS(build_arm64_acpi(config, kBase + 8), std::invalid_argument);
  auto none = config;
  none.mpidrs.clear();
  CHECK_THROWS_AS(build_arm64_acpi(none, kBase), std::invalid_argument);
  auto spi_vmbus = config;
  spi_vmbus.vmbus_intid = 32;
  CHECK_THROWS_AS(build_arm64_acpi(spi_vmbus, kBase), std::invalid_argument);
  auto ppi_uart = config;
  ppi_uart.pl011_intid = 18;
  CHECK_THROWS_AS(build_arm64_acpi(ppi_uart, kBase), std::invalid_argument);
  auto high_uart = config;
  high_uart.pl011.base = 0x1'0000'0000;
  CHECK_THROWS_AS(build_arm64_acpi(high_uart, kBase), std::invalid_argument);
}

TEST_CASE("aml: Memory32Fixed and Interrupt descriptors encode as ACPI 6.4.3.4 and 6.4.3.6 say") {
  CHECK(aml::memory32_fixed(0x0901'0000, 0x1000) ==
        aml::Bytes{0x86, 9, 0, 0x01, 0x00, 0x00, 0x01, 0x09, 0x00, 0x10, 0x00, 0x00});
  CHECK(aml::interrupt(27, aml::Trigger::kLevel, aml::Polarity::kActiveLow) ==
        aml::Bytes{0x89, 6, 0, 0x05, 1, 27, 0, 0, 0});
  CHECK_THROWS_AS(aml::memory32_fixed(0xFFFF'F000, 0x2000), std::invalid_argument);
}
