// build_pc_acpi: see devices/pc/acpi_tables.h.
#include "devices/pc/acpi_tables.h"

#include <cstring>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "devices/pc/aml_builder.h"

namespace softsynic::devices {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::size_t kTableAlignment = 8;
constexpr std::uint64_t k4GiB = 1ull << 32;
constexpr std::uint64_t kMaxImageSize = 1ull << 20;

void put(Bytes& b, std::size_t offset, std::uint64_t value, unsigned size) {
  for (unsigned i = 0; i < size; ++i) b.at(offset + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

void put_chars(Bytes& b, std::size_t offset, std::string_view text) {
  std::memcpy(b.data() + offset, text.data(), text.size());
}

// A Generic Address Structure for `bits` of I/O space at `port`.
void put_io_gas(Bytes& b, std::size_t offset, std::uint16_t port, std::uint8_t bits, std::uint8_t access) {
  b.at(offset) = acpi::kGasSystemIo;
  b.at(offset + 1) = bits;
  b.at(offset + 2) = 0;
  b.at(offset + 3) = access;
  put(b, offset + 4, port, 8);
}

// A table of `length` bytes with its header filled in; the checksum is set
// by finish_table once the body is complete.
Bytes new_table(std::string_view signature, std::size_t length, std::uint8_t revision) {
  Bytes t(length, 0);
  put_chars(t, acpi::header::kSignature, signature);
  put(t, acpi::header::kLength, length, 4);
  t[acpi::header::kRevision] = revision;
  put_chars(t, acpi::header::kOemId, acpi::kOemId);
  put_chars(t, acpi::header::kOemTableId, acpi::kOemTableId);
  put(t, acpi::header::kOemRevision, acpi::kOemRevision, 4);
  put_chars(t, acpi::header::kCreatorId, acpi::kCreatorId);
  put(t, acpi::header::kCreatorRevision, acpi::kCreatorRevision, 4);
  return t;
}

void finish_table(Bytes& t) {
  t[acpi::header::kChecksum] = 0;
  t[acpi::header::kChecksum] = acpi_checksum(t);
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
  const Bytes aml_code = aml::join({aml::scope("\\_SB", vmbus), s5_package});
  Bytes t = new_table(acpi::kDsdtSignature, acpi::kHeaderLength + aml_code.size(), acpi::kDsdtRevision);
  std::memcpy(t.data() + acpi::kHeaderLength, aml_code.data(), aml_code.size());
  finish_table(t);
  return t;
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
  put(t, acpi::madt::kLocalApicAddress, acpi::kLocalApicAddress, 4);
  put(t, acpi::madt::kFlags, config.hardware_reduced ? 0 : acpi::kMadtFlagPcatCompat, 4);
  std::size_t e = acpi::madt::kEntries;
  for (std::uint32_t vp = 0; vp < config.vp_count; ++vp, e += acpi::kMadtLocalApicLength) {
    t[e] = acpi::kMadtTypeLocalApic;
    t[e + 1] = acpi::kMadtLocalApicLength;
    t[e + 2] = static_cast<std::uint8_t>(vp);  // processor UID
    t[e + 3] = static_cast<std::uint8_t>(vp);  // APIC ID: the platform's is the VP index
    put(t, e + 4, acpi::kMadtLocalApicEnabled, 4);
  }
  if (config.io_apic) {
    t[e] = acpi::kMadtTypeIoApic;
    t[e + 1] = acpi::kMadtIoApicLength;
    t[e + 2] = config.io_apic_id;
    put(t, e + 4, acpi::kIoApicAddress, 4);
    put(t, e + 8, 0, 4);  // GSI base
    e += acpi::kMadtIoApicLength;
  }
  for (const Override& o : overrides) {
    t[e] = acpi::kMadtTypeInterruptOverride;
    t[e + 1] = acpi::kMadtInterruptOverrideLength;
    t[e + 2] = 0;  // ISA
    t[e + 3] = o.irq;
    put(t, e + 4, o.gsi, 4);
    put(t, e + 8, o.flags, 2);
    e += acpi::kMadtInterruptOverrideLength;
  }
  finish_table(t);
  return t;
}

// `facs_gpa` is used only by a full FADT.
Bytes build_fadt(const PcAcpiConfig& config, std::uint64_t dsdt_gpa, std::uint64_t facs_gpa) {
  Bytes t = new_table(acpi::kFadtSignature, acpi::kFadtLength, acpi::kFadtRevision);
  t[acpi::fadt::kMinorVersion] = acpi::kFadtMinorRevision;
  if (dsdt_gpa < k4GiB) put(t, acpi::fadt::kDsdt, dsdt_gpa, 4);
  put(t, acpi::fadt::kXDsdt, dsdt_gpa, 8);

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
      put(t, acpi::fadt::kFirmwareCtrl, facs_gpa, 4);
    } else {
      put(t, acpi::fadt::kXFirmwareCtrl, facs_gpa, 8);
    }
    put(t, acpi::fadt::kSciInt, acpi::kSciIrq, 2);
    // SMI_CMD 0: no SMM mode switch, the machine is always in ACPI mode
    // (PM1_CNT.SCI_EN reads 1).
    put(t, acpi::fadt::kSmiCmd, 0, 4);
    put(t, acpi::fadt::kPm1aEvtBlk, config.pm.pm1a_event, 4);
    put(t, acpi::fadt::kPm1aCntBlk, config.pm.pm1a_control, 4);
    t[acpi::fadt::kPm1EvtLen] = acpi::kPm1EvtLength;
    t[acpi::fadt::kPm1CntLen] = acpi::kPm1CntLength;
    put_io_gas(t, acpi::fadt::kXPm1aEvtBlk, config.pm.pm1a_event, 8 * acpi::kPm1EvtLength, acpi::kGasAccessWord);
    put_io_gas(t, acpi::fadt::kXPm1aCntBlk, config.pm.pm1a_control, 8 * acpi::kPm1CntLength, acpi::kGasAccessWord);
  }
  put(t, acpi::fadt::kFlags, flags, 4);
  put(t, acpi::fadt::kIapcBootArch, boot_arch, 2);
  finish_table(t);
  return t;
}

Bytes build_facs() {
  Bytes t(acpi::kFacsLength, 0);  // no checksum: the OS writes it
  put_chars(t, acpi::facs::kSignature, acpi::kFacsSignature);
  put(t, acpi::facs::kLength, acpi::kFacsLength, 4);
  t[acpi::facs::kVersion] = acpi::kFacsVersion;
  return t;
}

Bytes build_xsdt(const std::vector<std::uint64_t>& entries) {
  Bytes t = new_table(acpi::kXsdtSignature, acpi::kHeaderLength + 8 * entries.size(), acpi::kXsdtRevision);
  for (std::size_t i = 0; i < entries.size(); ++i) put(t, acpi::kHeaderLength + 8 * i, entries[i], 8);
  finish_table(t);
  return t;
}

Bytes build_rsdp(std::uint64_t xsdt_gpa) {
  Bytes r(acpi::kRsdpLength, 0);
  put_chars(r, 0, acpi::kRsdpSignature);
  put_chars(r, acpi::rsdp::kOemId, acpi::kOemId);
  r[acpi::rsdp::kRevision] = acpi::kRsdpRevision;
  put(r, acpi::rsdp::kRsdtAddress, 0, 4);  // no RSDT
  put(r, acpi::rsdp::kLength, acpi::kRsdpLength, 4);
  put(r, acpi::rsdp::kXsdtAddress, xsdt_gpa, 8);
  r[acpi::rsdp::kChecksum] = acpi_checksum(std::span(r).first(acpi::kRsdpV1ChecksumLength));
  r[acpi::rsdp::kExtendedChecksum] = acpi_checksum(r);
  return r;
}

// Lays tables out one after the other, each at its alignment relative to
// the guest-physical base.
class ImageLayout {
 public:
  explicit ImageLayout(std::uint64_t base) : base_(base) {}
  // Reserves room for `size` bytes; returns the offset.
  std::size_t reserve(std::size_t size, std::size_t alignment) {
    const std::uint64_t next = base_ + end_;
    const std::size_t offset = static_cast<std::size_t>((next + alignment - 1) / alignment * alignment - base_);
    end_ = offset + size;
    return offset;
  }
  std::uint64_t gpa(std::size_t offset) const { return base_ + offset; }
  std::size_t size() const { return end_; }

 private:
  std::uint64_t base_;
  std::size_t end_ = 0;
};

}  // namespace

std::uint8_t acpi_checksum(std::span<const std::uint8_t> bytes) {
  const unsigned sum = std::accumulate(bytes.begin(), bytes.end(), 0u);
  return static_cast<std::uint8_t>(0x100 - (sum & 0xFF));
}

std::span<const std::uint8_t> AcpiTables::table(std::string_view signature) const {
  for (const AcpiTableRef& t : tables) {
    if (t.signature == signature) return std::span(bytes).subspan(t.offset, t.length);
  }
  throw std::out_of_range("acpi: no table " + std::string(signature));
}

AcpiTables build_pc_acpi(const PcAcpiConfig& config, std::uint64_t base_gpa) {
  if (config.vp_count == 0 || config.vp_count > acpi::kMaxXapicVps) {
    throw std::invalid_argument("acpi: " + std::to_string(config.vp_count) + " VPs; the MADT holds 1 to 255 xAPICs");
  }
  if (base_gpa % acpi::kRsdpAlignment != 0) throw std::invalid_argument("acpi: table base must be 16-byte aligned");
  // The image is a few KiB; a base this close to the top would wrap.
  if (base_gpa > ~std::uint64_t{0} - kMaxImageSize) throw std::invalid_argument("acpi: tables pass the end of the address space");
  if (config.io_apic_id > 15) throw std::invalid_argument("acpi: I/O APIC IDs have 4 bits");
  if (config.pm.s5_sleep_type > acpi::kSlpTypMask) throw std::invalid_argument("acpi: S5 sleep type above 7");

  // Sizes first (the FADT and XSDT hold addresses of the tables after them).
  const Bytes dsdt = build_dsdt(config);
  const Bytes madt = build_madt(config);
  const bool with_facs = !config.hardware_reduced;
  const std::size_t xsdt_entries = 2;  // FADT, MADT (the DSDT hangs off the FADT)

  ImageLayout layout(base_gpa);
  const std::size_t rsdp_off = layout.reserve(acpi::kRsdpLength, acpi::kRsdpAlignment);
  const std::size_t facs_off = with_facs ? layout.reserve(acpi::kFacsLength, acpi::kFacsAlignment) : 0;
  const std::size_t xsdt_off = layout.reserve(acpi::kHeaderLength + 8 * xsdt_entries, kTableAlignment);
  const std::size_t fadt_off = layout.reserve(acpi::kFadtLength, kTableAlignment);
  const std::size_t madt_off = layout.reserve(madt.size(), kTableAlignment);
  const std::size_t dsdt_off = layout.reserve(dsdt.size(), kTableAlignment);

  const Bytes fadt = build_fadt(config, layout.gpa(dsdt_off), layout.gpa(facs_off));
  const Bytes xsdt = build_xsdt({layout.gpa(fadt_off), layout.gpa(madt_off)});
  const Bytes rsdp = build_rsdp(layout.gpa(xsdt_off));

  AcpiTables out;
  out.base_gpa = base_gpa;
  out.rsdp_gpa = layout.gpa(rsdp_off);
  out.bytes.assign(layout.size(), 0);
  auto place = [&](std::string_view signature, std::size_t offset, const Bytes& table) {
    std::memcpy(out.bytes.data() + offset, table.data(), table.size());
    out.tables.push_back({std::string(signature), layout.gpa(offset), offset, table.size()});
  };
  place(acpi::kRsdpSignature, rsdp_off, rsdp);
  if (with_facs) place(acpi::kFacsSignature, facs_off, build_facs());
  place(acpi::kXsdtSignature, xsdt_off, xsdt);
  place(acpi::kFadtSignature, fadt_off, fadt);
  place(acpi::kMadtSignature, madt_off, madt);
  place(acpi::kDsdtSignature, dsdt_off, dsdt);
  return out;
}

}  // namespace softsynic::devices
