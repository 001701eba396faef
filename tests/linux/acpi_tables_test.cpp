// The PC platform's ACPI tables (devices/pc/acpi_tables.h), the AML encoder
// they use, and the power-management ports that end a run on an S5 write.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "devices/acpi/aml_builder.h"
#include "devices/pc/acpi_pm_device.h"
#include "devices/pc/acpi_tables.h"
#include "tests/linux/table_bytes.h"

using namespace softsynic::devices;
namespace aml = softsynic::devices::aml;
using namespace softsynic::test;

namespace {

constexpr std::uint64_t kBase = 0xE0000;

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("acpi: every table sums to zero and its header length is its size") {
  for (bool reduced : {false, true}) {
    PcAcpiConfig config;
    config.vp_count = 2;
    config.hardware_reduced = reduced;
    const AcpiTables t = build_pc_acpi(config, kBase);
    for (const AcpiTableRef& ref : t.tables) {
      CAPTURE(ref.signature);
      const auto b = std::span(t.bytes).subspan(ref.offset, ref.length);
      if (ref.signature == "RSD PTR ") {
        CHECK(byte_sum(b.first(20)) == 0);
        CHECK(byte_sum(b) == 0);
        CHECK(le(b, 20, 4) == 36);
      } else if (ref.signature == "FACS") {
        CHECK(le(b, 4, 4) == 64);
        CHECK(ref.gpa % 64 == 0);
      } else {
        CHECK(byte_sum(b) == 0);
        CHECK(le(b, 4, 4) == ref.length);
        CHECK(std::memcmp(b.data(), ref.signature.data(), 4) == 0);
      }
    }
    CHECK(t.tables.size() == (reduced ? 5u : 6u));
  }
}

TEST_CASE("acpi: the RSDP leads through the XSDT to the FADT and MADT, and the FADT to the DSDT") {
  const AcpiTables t = build_pc_acpi(PcAcpiConfig{}, kBase);
  CHECK(t.rsdp_gpa == kBase);
  const auto rsdp = t.table("RSD PTR ");
  CHECK(rsdp[15] == 2);                 // revision 2: ACPI 2.0+
  CHECK(le(rsdp, 16, 4) == 0);          // no RSDT
  const std::uint64_t xsdt_gpa = le(rsdp, 24, 8);
  const auto xsdt = t.table("XSDT");
  CHECK(xsdt_gpa == kBase + static_cast<std::uint64_t>(xsdt.data() - t.bytes.data()));
  REQUIRE(xsdt.size() == 36 + 16);
  auto gpa_of = [&](std::string_view sig) { return kBase + static_cast<std::uint64_t>(t.table(sig).data() - t.bytes.data()); };
  CHECK(le(xsdt, 36, 8) == gpa_of("FACP"));
  CHECK(le(xsdt, 44, 8) == gpa_of("APIC"));
  const auto fadt = t.table("FACP");
  CHECK(fadt.size() == 276);
  CHECK(fadt[8] == 6);    // FADT major revision
  CHECK(fadt[131] == 3);  // minor revision: ACPI 6.3
  CHECK(le(fadt, 140, 8) == gpa_of("DSDT"));
  CHECK(le(fadt, 40, 4) == gpa_of("DSDT"));
  CHECK(le(fadt, 36, 4) == gpa_of("FACS"));
  CHECK(le(fadt, 132, 8) == 0);  // only one of FIRMWARE_CTRL / X_FIRMWARE_CTRL
}

TEST_CASE("acpi: tables above 4 GiB use only the 64-bit address fields") {
  const std::uint64_t high = 0x1'0000'0000ull;
  const AcpiTables t = build_pc_acpi(PcAcpiConfig{}, high);
  const auto fadt = t.table("FACP");
  CHECK(le(fadt, 40, 4) == 0);
  CHECK(le(fadt, 36, 4) == 0);
  CHECK(le(fadt, 132, 8) >= high);
  CHECK(le(fadt, 140, 8) >= high);
}

TEST_CASE("madt: one enabled local APIC per VP, LAPIC at 0xFEE00000, then the I/O APIC and the ISA overrides; PCAT_COMPAT with a full FADT") {
  for (std::uint32_t vps : {1u, 2u, 8u}) {
    for (bool reduced : {false, true}) {
      CAPTURE(vps);
      CAPTURE(reduced);
      PcAcpiConfig config;
      config.vp_count = vps;
      config.hardware_reduced = reduced;
      config.io_apic_id = 3;
      const auto tables_madt = build_pc_acpi(config, kBase);  // the span below points into it
      const auto madt = tables_madt.table("APIC");
      const std::size_t overrides = reduced ? 1 : 2;
      CHECK(madt.size() == 44 + 8 * vps + 12 + 10 * overrides);
      CHECK(le(madt, 36, 4) == 0xFEE0'0000);
      CHECK(le(madt, 40, 4) == (reduced ? 0u : 1u));  // PCAT_COMPAT
      std::uint32_t entries = 0;
      std::size_t at = 44;
      for (; entries < vps; at += madt[at + 1], ++entries) {
        REQUIRE(madt[at + 1] == 8);
        CHECK(madt[at] == 0);             // processor local APIC
        CHECK(madt[at + 2] == entries);   // processor UID
        CHECK(madt[at + 3] == entries);   // APIC ID = VP index
        CHECK(le(madt, at + 4, 4) == 1);  // enabled
      }
      REQUIRE(madt[at] == 1);  // I/O APIC
      REQUIRE(madt[at + 1] == 12);
      CHECK(madt[at + 2] == 3);
      CHECK(le(madt, at + 4, 4) == 0xFEC0'0000);
      CHECK(le(madt, at + 8, 4) == 0);  // GSI base
      at += 12;
      // IRQ 0 on GSI 2, flags "conforms to the bus".
      CHECK(madt[at] == 2);
      CHECK(madt[at + 1] == 10);
      CHECK(madt[at + 2] == 0);
      CHECK(madt[at + 3] == 0);
      CHECK(le(madt, at + 4, 4) == 2);
      CHECK(le(madt, at + 8, 2) == 0);
      at += 10;
      if (!reduced) {
        // The SCI: IRQ 9 on GSI 9, level-triggered, active high.
        CHECK(madt[at] == 2);
        CHECK(madt[at + 3] == 9);
        CHECK(le(madt, at + 4, 4) == 9);
        CHECK(le(madt, at + 8, 2) == 0x0D);
        at += 10;
      }
      CHECK(at == madt.size());
    }
  }
}

TEST_CASE("madt: without the I/O APIC only the local APICs; an I/O APIC ID above 15 is refused") {
  PcAcpiConfig config;
  config.vp_count = 2;
  config.io_apic = false;
  const auto tables = build_pc_acpi(config, kBase);
  CHECK(tables.table("APIC").size() == 44 + 2 * 8);
  config.io_apic = true;
  config.io_apic_id = 16;
  CHECK_THROWS_AS(build_pc_acpi(config, kBase), std::invalid_argument);
}

TEST_CASE("fadt: full by default, with PM1a blocks at the layout's ports, SCI 9 and no SMI command") {
  PcAcpiConfig config;
  const auto tables_fadt = build_pc_acpi(config, kBase);  // the span below points into it
  const auto fadt = tables_fadt.table("FACP");
  CHECK((le(fadt, 112, 4) & (1u << 20)) == 0);
  CHECK(le(fadt, 46, 2) == 9);
  CHECK(le(fadt, 48, 4) == 0);
  CHECK(le(fadt, 56, 4) == config.pm.pm1a_event);
  CHECK(le(fadt, 64, 4) == config.pm.pm1a_control);
  CHECK(fadt[88] == 4);
  CHECK(fadt[89] == 2);
  // X_PM1a_CNT_BLK: system I/O, 16 bits at the same port.
  CHECK(fadt[172] == 1);
  CHECK(fadt[173] == 16);
  CHECK(le(fadt, 176, 8) == config.pm.pm1a_control);
  CHECK(le(fadt, 244 + 4, 8) == 0);  // no sleep control register
}

TEST_CASE("fadt: hardware-reduced has the sleep registers and no PM1 blocks, SCI or FACS") {
  PcAcpiConfig config;
  config.hardware_reduced = true;
  const AcpiTables t = build_pc_acpi(config, kBase);
  const auto fadt = t.table("FACP");
  CHECK((le(fadt, 112, 4) & (1u << 20)) != 0);
  CHECK(le(fadt, 46, 2) == 0);
  CHECK(le(fadt, 64, 4) == 0);
  CHECK(le(fadt, 36, 4) == 0);
  CHECK(fadt[244] == 1);
  CHECK(le(fadt, 248, 8) == config.pm.sleep_control);
  CHECK(le(fadt, 260, 8) == config.pm.sleep_status);
  CHECK_THROWS_AS(t.table("FACS"), std::out_of_range);
}

TEST_CASE("fadt: IA-PC boot flags say no 8042 and no VGA; no CMOS RTC only when configured so") {
  PcAcpiConfig config;
  CHECK(le(build_pc_acpi(config, kBase).table("FACP"), 109, 2) == 0x4);
  config.cmos_rtc_present = false;
  CHECK(le(build_pc_acpi(config, kBase).table("FACP"), 109, 2) == (0x4 | 0x20));
  config.i8042_present = true;
  CHECK(le(build_pc_acpi(config, kBase).table("FACP"), 109, 2) == (0x4 | 0x20 | 0x2));
}

TEST_CASE("dsdt: \\_SB.VMBS with _HID \"VMBUS\", _UID 0, a _CRS, and \\_S5 with the layout's sleep type") {
  PcAcpiConfig config;
  config.pm.s5_sleep_type = 5;
  const auto tables_dsdt = build_pc_acpi(config, kBase);  // the span below points into it
  const auto dsdt = tables_dsdt.table("DSDT");
  CHECK(dsdt[8] == 2);
  const auto aml_code = dsdt.subspan(36);
  // Scope (\_SB) { Device (VMBS) { ... } }
  CHECK(aml_code[0] == aml::kScopeOp);
  CHECK(contains(aml_code, {'\\', '_', 'S', 'B', '_'}));
  CHECK(contains(aml_code, {0x5B, 0x82}));
  CHECK(contains(aml_code, aml::join({aml::name("_HID", aml::string("VMBUS"))})));
  CHECK(contains(aml_code, aml::name("_UID", aml::integer(0))));
  CHECK(contains(aml_code, aml::name("_CRS", aml::resource_template({}))));
  CHECK(contains(aml_code, aml::name("\\_S5", aml::package({aml::integer(5), aml::integer(5), aml::integer(0),
                                                            aml::integer(0)}))));
}

TEST_CASE("dsdt: a VMBus MMIO window becomes a QWordMemory in _CRS") {
  PcAcpiConfig config;
  config.vmbus_mmio = PcAcpiConfig::Range{0xF000'0000, 0x0800'0000};
  const auto tables_dsdt = build_pc_acpi(config, kBase);  // the span below points into it
  const auto dsdt = tables_dsdt.table("DSDT");
  CHECK(contains(dsdt, aml::name("_CRS", aml::resource_template({aml::qword_memory(0xF000'0000, 0xF7FF'FFFF)}))));
}

TEST_CASE("acpi: bad configurations are refused with a reason") {
  PcAcpiConfig config;
  config.vp_count = 0;
  CHECK_THROWS_AS(build_pc_acpi(config, kBase), std::invalid_argument);
  config.vp_count = 256;
  CHECK_THROWS_AS(build_pc_acpi(config, kBase), std::invalid_argument);
  config.vp_count = 255;
  CHECK(build_pc_acpi(config, kBase).table("APIC").size() == 44 + 8 * 255 + 12 + 2 * 10);
  CHECK_THROWS_AS(build_pc_acpi(PcAcpiConfig{}, kBase + 8), std::invalid_argument);
  CHECK_THROWS_AS(build_pc_acpi(PcAcpiConfig{}, ~std::uint64_t{0xF}), std::invalid_argument);
  config.vp_count = 1;
  config.pm.s5_sleep_type = 8;
  CHECK_THROWS_AS(build_pc_acpi(config, kBase), std::invalid_argument);
}

TEST_CASE("aml: package lengths count their own bytes and switch width at 63, 4095 and 1 MiB") {
  CHECK(aml::pkg_length(0) == aml::Bytes{0x01});
  CHECK(aml::pkg_length(62) == aml::Bytes{0x3F});
  CHECK(aml::pkg_length(63) == aml::Bytes{0x41, 0x04});  // 65 = 0x41: low nibble 1, next byte 4
  CHECK(aml::pkg_length(4093) == aml::Bytes{0x4F, 0xFF});
  CHECK(aml::pkg_length(4094) == aml::Bytes{0x81, 0x00, 0x01});  // 4097
  CHECK(aml::pkg_length((1u << 20) - 3) == aml::Bytes{0xC1, 0x00, 0x00, 0x01});  // 2^20 + 1
  CHECK_THROWS_AS(aml::pkg_length(1u << 28), std::invalid_argument);
}

TEST_CASE("aml: name strings pad segments and use the dual and multi name prefixes") {
  CHECK(aml::name_string("_S5") == bytes_of("_S5_"));
  CHECK(aml::name_string("\\_SB") == bytes_of("\\_SB_"));
  CHECK(aml::name_string("\\_SB.VMBS") == aml::join({bytes_of("\\"), aml::Bytes{0x2E}, bytes_of("_SB_VMBS")}));
  CHECK(aml::name_string("A.B.C") == aml::join({aml::Bytes{0x2F, 3}, bytes_of("A___B___C___")}));
  CHECK(aml::name_string("^^X") == bytes_of("^^X___"));
  CHECK(aml::name_string("") == aml::Bytes{0});
  CHECK_THROWS_AS(aml::name_string("TOOLONG"), std::invalid_argument);
  CHECK_THROWS_AS(aml::name_string("1ABC"), std::invalid_argument);
  CHECK_THROWS_AS(aml::name_string("lower"), std::invalid_argument);
  CHECK_THROWS_AS(aml::name_string("\\_SB."), std::invalid_argument);
}

TEST_CASE("aml: integers take the shortest encoding") {
  CHECK(aml::integer(0) == aml::Bytes{0x00});
  CHECK(aml::integer(1) == aml::Bytes{0x01});
  CHECK(aml::integer(~std::uint64_t{0}) == aml::Bytes{0xFF});
  CHECK(aml::integer(5) == aml::Bytes{0x0A, 5});
  CHECK(aml::integer(0x1234) == aml::Bytes{0x0B, 0x34, 0x12});
  CHECK(aml::integer(0x12345678) == aml::Bytes{0x0C, 0x78, 0x56, 0x34, 0x12});
  CHECK(aml::integer(0x1'0000'0000) == aml::Bytes{0x0E, 0, 0, 0, 0, 1, 0, 0, 0});
  CHECK(aml::string("VMBUS") == aml::Bytes{0x0D, 'V', 'M', 'B', 'U', 'S', 0});
  CHECK_THROWS_AS(aml::string(std::string("A\0B", 3)), std::invalid_argument);
}

TEST_CASE("aml: an empty resource template is a two-byte buffer holding the end tag") {
  CHECK(aml::resource_template({}) == aml::Bytes{0x11, 0x05, 0x0A, 0x02, 0x79, 0x00});
  const aml::Bytes q = aml::qword_memory(0x1000, 0x1FFF);
  CHECK(q.size() == 46);
  CHECK(q[0] == 0x8A);
  CHECK(q[1] == 43);
}

TEST_CASE("acpi pm: an S5 write to PM1a control powers off; SCI_EN reads 1") {
  acpi::PmLayout layout;
  std::vector<std::uint32_t> offs;
  std::vector<unsigned> others;
  AcpiPmDevice pm(layout, [&](std::uint32_t vp) { offs.push_back(vp); },
                  [&](std::uint32_t, std::uint8_t type) { others.push_back(type); });
  IoPortBus bus;
  pm.attach(bus);
  CHECK((bus.read(0, layout.pm1a_control, 2) & 1) == 1);
  // Linux writes SLP_TYP first, then SLP_TYP | SLP_EN.
  bus.write(1, layout.pm1a_control, 2, 5u << 10);
  CHECK(offs.empty());
  CHECK((bus.read(0, layout.pm1a_control, 2) & 0x1C00) == (5u << 10));
  bus.write(1, layout.pm1a_control, 2, (5u << 10) | (1u << 13));
  CHECK(offs == std::vector<std::uint32_t>{1});
  CHECK((bus.read(0, layout.pm1a_control, 2) & (1u << 13)) == 0);  // SLP_EN is write-only
  // S3 is not modelled: reported, not a power-off.
  bus.write(0, layout.pm1a_control, 2, (3u << 10) | (1u << 13));
  CHECK(offs.size() == 1);
  CHECK(others == std::vector<unsigned>{3});
}

TEST_CASE("acpi pm: byte writes to PM1a control merge, the high byte carrying SLP_EN") {
  acpi::PmLayout layout;
  int offs = 0;
  AcpiPmDevice pm(layout, [&](std::uint32_t) { ++offs; });
  IoPortBus bus;
  pm.attach(bus);
  bus.write(0, layout.pm1a_control + 1, 1, ((5u << 10) | (1u << 13)) >> 8);
  CHECK(offs == 1);
}

TEST_CASE("acpi pm: the hardware-reduced sleep control register powers off on S5 with SLP_EN") {
  acpi::PmLayout layout;
  layout.s5_sleep_type = 7;
  int offs = 0;
  AcpiPmDevice pm(layout, [&](std::uint32_t) { ++offs; });
  IoPortBus bus;
  pm.attach(bus);
  bus.write(0, layout.sleep_status, 1, 0x80);            // clear WAK_STS
  bus.write(0, layout.sleep_control, 1, 7u << 2);        // SLP_TYP without SLP_EN
  CHECK(offs == 0);
  bus.write(0, layout.sleep_control, 1, (5u << 2) | 0x20);  // another state
  CHECK(offs == 0);
  bus.write(0, layout.sleep_control, 1, (7u << 2) | 0x20);
  CHECK(offs == 1);
  CHECK(bus.read(0, layout.sleep_status, 1) == 0);
}

TEST_CASE("acpi pm: the PM1 enable register keeps what was written; status reads 0") {
  acpi::PmLayout layout;
  AcpiPmDevice pm(layout, {});
  IoPortBus bus;
  pm.attach(bus);
  bus.write(0, layout.pm1a_event + 2, 2, 0x0121);
  CHECK(bus.read(0, layout.pm1a_event + 2, 2) == 0x0121);
  bus.write(0, layout.pm1a_event, 2, 0xFFFF);
  CHECK(bus.read(0, layout.pm1a_event, 4) == (0x0121u << 16));
}
