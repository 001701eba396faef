// GICv3 definitions used by the per-VP interrupt line and the distributor
// (Arm GICv3/v4 architecture specification: "CPU interface System
// registers", "Redistributor registers for SGIs and PPIs", "The GIC
// Distributor register map"). Definitions only.
// Not covered: LPIs/ITS, extended SPIs, group 0 and secure state.
#pragma once

#include <cstdint>

namespace softsynic::devices::gic {

// A system register by its MRS/MSR encoding.
struct SysRegEncoding {
  std::uint8_t op0 = 0;
  std::uint8_t op1 = 0;
  std::uint8_t crn = 0;
  std::uint8_t crm = 0;
  std::uint8_t op2 = 0;
  friend constexpr bool operator==(SysRegEncoding, SysRegEncoding) = default;
};

namespace icc {
inline constexpr SysRegEncoding kPmr{3, 0, 4, 6, 0};        // ICC_PMR_EL1
inline constexpr SysRegEncoding kDir{3, 0, 12, 11, 1};      // ICC_DIR_EL1
inline constexpr SysRegEncoding kRpr{3, 0, 12, 11, 3};      // ICC_RPR_EL1
inline constexpr SysRegEncoding kSgi1r{3, 0, 12, 11, 5};    // ICC_SGI1R_EL1
inline constexpr SysRegEncoding kIar1{3, 0, 12, 12, 0};     // ICC_IAR1_EL1
inline constexpr SysRegEncoding kEoir1{3, 0, 12, 12, 1};    // ICC_EOIR1_EL1
inline constexpr SysRegEncoding kHppir1{3, 0, 12, 12, 2};   // ICC_HPPIR1_EL1
inline constexpr SysRegEncoding kBpr1{3, 0, 12, 12, 3};     // ICC_BPR1_EL1
inline constexpr SysRegEncoding kCtlr{3, 0, 12, 12, 4};     // ICC_CTLR_EL1
inline constexpr SysRegEncoding kSre{3, 0, 12, 12, 5};      // ICC_SRE_EL1
inline constexpr SysRegEncoding kIgrpen0{3, 0, 12, 12, 6};  // ICC_IGRPEN0_EL1
inline constexpr SysRegEncoding kIgrpen1{3, 0, 12, 12, 7};  // ICC_IGRPEN1_EL1
// Active priorities, group 0 (op2 4-7) and group 1 (op2 0-3), n = 0..3.
constexpr bool is_ap0r(SysRegEncoding r) { return r.op0 == 3 && r.op1 == 0 && r.crn == 12 && r.crm == 8 && r.op2 >= 4; }
constexpr bool is_ap1r(SysRegEncoding r) { return r.op0 == 3 && r.op1 == 0 && r.crn == 12 && r.crm == 9 && r.op2 <= 3; }
}  // namespace icc

// Offsets in the redistributor's SGI/PPI frame (RD_base + 0x10000).
namespace gicr {
inline constexpr std::uint32_t kSgiFrameOffset = 0x10000;
inline constexpr std::uint32_t kIgroupr0 = 0x0080;
inline constexpr std::uint32_t kIsenabler0 = 0x0100;
inline constexpr std::uint32_t kIcenabler0 = 0x0180;
inline constexpr std::uint32_t kIspendr0 = 0x0200;
inline constexpr std::uint32_t kIcpendr0 = 0x0280;
inline constexpr std::uint32_t kIsactiver0 = 0x0300;
inline constexpr std::uint32_t kIcactiver0 = 0x0380;
inline constexpr std::uint32_t kIpriorityr0 = 0x0400;  // 8 registers, one byte per INTID
inline constexpr std::uint32_t kIpriorityrEnd = 0x0420;
inline constexpr std::uint32_t kIcfgr0 = 0x0C00;
inline constexpr std::uint32_t kIcfgr1 = 0x0C04;
}  // namespace gicr

inline constexpr std::uint32_t kLocalIntids = 32;  // SGIs 0-15, PPIs 16-31
// SPIs the distributor implements: INTIDs 32-63 (GICD_TYPER.ITLinesNumber
// 1). A small, fixed set keeps per-INTID state in one 32-bit word.
inline constexpr std::uint32_t kFirstSpi = 32;
inline constexpr std::uint32_t kSpiCount = 32;
inline constexpr std::uint32_t kIntidLimit = kFirstSpi + kSpiCount;  // one past the last SPI
inline constexpr std::uint32_t kFirstSpecialIntid = 1020;  // 1020-1023 are never interrupts
inline constexpr std::uint32_t kSpuriousIntid = 1023;
inline constexpr unsigned kPriorityBits = 5;        // implemented priority bits
inline constexpr std::uint8_t kPriorityMask = 0xF8;  // the implemented bits of a priority byte
inline constexpr std::uint8_t kIdlePriority = 0xFF;  // running priority with nothing active

// ICC_CTLR_EL1: CBPR 0, EOImode 1, PRIbits 8-10 (RO), IDbits 11-13 (RO, 0 =
// 16 bits). Only CBPR and EOImode are writable.
class IccCtlrReg {
 public:
  static constexpr std::uint64_t kWritable = 0x3;
  static constexpr std::uint64_t kReadOnly = std::uint64_t{kPriorityBits - 1} << 8;
  constexpr IccCtlrReg() = default;
  constexpr explicit IccCtlrReg(std::uint64_t raw) : raw_((raw & kWritable) | kReadOnly) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool cbpr() const { return (raw_ & 1) != 0; }
  constexpr bool eoi_mode() const { return (raw_ & 2) != 0; }  // 1: EOIR drops priority only, DIR deactivates
  constexpr IccCtlrReg with_eoi_mode(bool b) const { return IccCtlrReg(b ? (raw_ | 2) : (raw_ & ~std::uint64_t{2})); }
  friend constexpr bool operator==(IccCtlrReg, IccCtlrReg) = default;

 private:
  std::uint64_t raw_ = kReadOnly;
};

// Distributor (GICD) register offsets from GICD_base; the per-INTID
// arrays are indexed by INTID (word n holds INTIDs 32n to 32n+31).
namespace gicd {
inline constexpr std::uint64_t kFrameSize = 0x10000;
inline constexpr std::uint32_t kCtlr = 0x0000;
inline constexpr std::uint32_t kTyper = 0x0004;
inline constexpr std::uint32_t kIidr = 0x0008;
inline constexpr std::uint32_t kTyper2 = 0x000C;
inline constexpr std::uint32_t kStatusr = 0x0010;
inline constexpr std::uint32_t kIgroupr = 0x0080;
inline constexpr std::uint32_t kIsenabler = 0x0100;
inline constexpr std::uint32_t kIcenabler = 0x0180;
inline constexpr std::uint32_t kIspendr = 0x0200;
inline constexpr std::uint32_t kIcpendr = 0x0280;
inline constexpr std::uint32_t kIsactiver = 0x0300;
inline constexpr std::uint32_t kIcactiver = 0x0380;
inline constexpr std::uint32_t kBitArraySize = 0x80;  // each one-bit-per-INTID array
inline constexpr std::uint32_t kIpriorityr = 0x0400;  // one byte per INTID
inline constexpr std::uint32_t kIpriorityrSize = 0x400;
inline constexpr std::uint32_t kIcfgr = 0x0C00;  // two bits per INTID (bit 1: edge)
inline constexpr std::uint32_t kIcfgrSize = 0x100;
inline constexpr std::uint32_t kIrouter = 0x6000;  // 64-bit per INTID; SPIs from 0x6100
inline constexpr std::uint32_t kIrouterEnd = 0x7FE0;
inline constexpr std::uint32_t kPidr2 = 0xFFE8;
}  // namespace gicd

// Identification shared by the distributor and the redistributors.
inline constexpr std::uint32_t kPidr2Gicv3 = 0x30;        // ArchRev 3 in bits 4-7
inline constexpr std::uint32_t kIidrValue = 0x0000'043B;  // implementer code only; not a real part

// GICD_CTLR as seen with a single security state (DS = 1): EnableGrp0 bit 0
// (Linux names it EnableGrp1), EnableGrp1 bit 1 (EnableGrp1A), ARE bit 4
// (ARE_NS), DS bit 6 (reads 1), RWP bit 31 (reads 0: writes take effect at
// once). Only bits 0, 1 and 4 are writable.
class GicdCtlrReg {
 public:
  static constexpr std::uint32_t kEnableGrp0 = 1u << 0;
  static constexpr std::uint32_t kEnableGrp1 = 1u << 1;
  static constexpr std::uint32_t kAre = 1u << 4;
  static constexpr std::uint32_t kDs = 1u << 6;
  static constexpr std::uint32_t kRwp = 1u << 31;
  static constexpr std::uint32_t kWritable = kEnableGrp0 | kEnableGrp1 | kAre;
  constexpr GicdCtlrReg() = default;
  constexpr explicit GicdCtlrReg(std::uint32_t raw) : raw_((raw & kWritable) | kDs) {}
  constexpr std::uint32_t raw() const { return raw_; }
  constexpr bool enable_grp1() const { return (raw_ & kEnableGrp1) != 0; }
  constexpr bool are() const { return (raw_ & kAre) != 0; }
  constexpr GicdCtlrReg with_enable_grp1(bool b) const { return GicdCtlrReg(b ? raw_ | kEnableGrp1 : raw_ & ~kEnableGrp1); }
  friend constexpr bool operator==(GicdCtlrReg, GicdCtlrReg) = default;

 private:
  std::uint32_t raw_ = kDs;
};

// GICD_TYPER (read-only): ITLinesNumber bits 0-4, CPUNumber 5-7, ESPI 8,
// SecurityExtn 10, MBIS 16, LPIS 17, IDbits 19-23, No1N 25.
class GicdTyperReg {
 public:
  constexpr GicdTyperReg() = default;
  constexpr explicit GicdTyperReg(std::uint32_t raw) : raw_(raw) {}
  constexpr std::uint32_t raw() const { return raw_; }
  constexpr std::uint32_t it_lines_number() const { return raw_ & 0x1F; }
  constexpr std::uint32_t cpu_number() const { return (raw_ >> 5) & 7; }
  constexpr std::uint32_t id_bits() const { return (raw_ >> 19) & 0x1F; }
  constexpr bool lpis() const { return (raw_ & (1u << 17)) != 0; }
  constexpr bool mbis() const { return (raw_ & (1u << 16)) != 0; }
  constexpr bool espi() const { return (raw_ & (1u << 8)) != 0; }
  constexpr bool no1n() const { return (raw_ & (1u << 25)) != 0; }
  constexpr GicdTyperReg with_it_lines_number(std::uint32_t n) const { return GicdTyperReg((raw_ & ~0x1Fu) | (n & 0x1F)); }
  constexpr GicdTyperReg with_cpu_number(std::uint32_t n) const { return GicdTyperReg((raw_ & ~(7u << 5)) | ((n & 7) << 5)); }
  constexpr GicdTyperReg with_id_bits(std::uint32_t n) const { return GicdTyperReg((raw_ & ~(0x1Fu << 19)) | ((n & 0x1F) << 19)); }
  // Total INTIDs the distributor's arrays cover: 32 * (ITLinesNumber + 1).
  constexpr std::uint32_t intid_limit() const { return 32 * (it_lines_number() + 1); }
  friend constexpr bool operator==(GicdTyperReg, GicdTyperReg) = default;

 private:
  std::uint32_t raw_ = 0;
};

// GICD_IROUTER<n>: Aff0 bits 0-7, Aff1 8-15, Aff2 16-23, IRM 31 (1: any
// participating PE), Aff3 32-39; the rest RES0. The affinity fields sit
// where MPIDR_EL1 keeps them.
class IrouterReg {
 public:
  static constexpr std::uint64_t kAffinityMask = 0xFF'00FF'FFFF;
  static constexpr std::uint64_t kIrm = std::uint64_t{1} << 31;
  static constexpr std::uint64_t kWritable = kAffinityMask | kIrm;
  constexpr IrouterReg() = default;
  constexpr explicit IrouterReg(std::uint64_t raw) : raw_(raw & kWritable) {}
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool any() const { return (raw_ & kIrm) != 0; }
  constexpr std::uint64_t affinity() const { return raw_ & kAffinityMask; }
  constexpr bool targets(std::uint64_t mpidr) const { return affinity() == (mpidr & kAffinityMask); }
  constexpr IrouterReg with_any(bool b) const { return IrouterReg(b ? raw_ | kIrm : raw_ & ~kIrm); }
  constexpr IrouterReg with_affinity(std::uint64_t mpidr) const { return IrouterReg((raw_ & kIrm) | (mpidr & kAffinityMask)); }
  friend constexpr bool operator==(IrouterReg, IrouterReg) = default;

 private:
  std::uint64_t raw_ = 0;
};

}  // namespace softsynic::devices::gic
