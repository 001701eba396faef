// GICv3 definitions used by the per-VP interrupt line (Arm GICv3/v4
// architecture specification: "CPU interface System registers",
// "Redistributor registers for SGIs and PPIs"). Definitions only.
// Not covered: the distributor (SPIs), LPIs/ITS, group 0 and secure state.
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

}  // namespace softsynic::devices::gic
