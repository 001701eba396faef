// The MSRs that Unicorn 2.1.1's x86-64 CPU model itself implements
// (QEMU's TCG RDMSR/WRMSR helpers): the engine lets them through, and
// every other MSR that no handler of the machine owns is reported as
// unhandled (Unicorn then reads 0 and ignores writes). Definitions only.
// Not listed: MSRs whose only model is "reads 0" (Intel's microcode
// revision 0x8B, AMD's DE_CFG and K7 performance counters).
#pragma once

#include <cstdint>

namespace softsynic::emu::x86 {

struct MsrRange {
  std::uint32_t first;
  std::uint32_t last;
};

inline constexpr MsrRange kCpuModelMsrs[] = {
    {0x10, 0x10},                  // TSC
    {0x1B, 0x1B},                  // APIC_BASE
    {0x174, 0x176},                // SYSENTER_CS/ESP/EIP
    {0x179, 0x17B},                // MCG_CAP, MCG_STATUS, MCG_CTL
    {0x1A0, 0x1A0},                // MISC_ENABLE
    {0xFE, 0xFE},                  // MTRRcap
    {0x200, 0x20F},                // variable-range MTRRs
    {0x250, 0x250},                // fixed-range MTRRs
    {0x258, 0x259},
    {0x268, 0x26F},
    {0x277, 0x277},                // PAT
    {0x2FF, 0x2FF},                // MTRRdefType
    {0x400, 0x47F},                // machine-check banks
    {0xC0000080, 0xC0000084},      // EFER, STAR, LSTAR, CSTAR, FMASK
    {0xC0000100, 0xC0000103},      // FS_BASE, GS_BASE, KERNEL_GS_BASE, TSC_AUX
    {0xC0010117, 0xC0010117},      // VM_HSAVE_PA
};

constexpr bool cpu_model_msr(std::uint32_t msr) {
  for (const MsrRange& r : kCpuModelMsrs)
    if (msr >= r.first && msr <= r.last) return true;
  return false;
}

}  // namespace softsynic::emu::x86
