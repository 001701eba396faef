// Candidate trapped-instruction sites in a block of code.
#include "emu/x86/msr_sites.h"

namespace softsynic::emu::x86 {

bool decode_trapped_site(std::span<const std::uint8_t> code, TrappedSite& site) {
  if (code.size() < 2 || code[0] != kTwoByteEscape) return false;
  site.offset = 0;
  site.length = 2;
  switch (code[1]) {
    case kRdmsrOpcode: site.instruction = TrappedInstruction::rdmsr; return true;
    case kWrmsrOpcode: site.instruction = TrappedInstruction::wrmsr; return true;
    case kRdtscOpcode: site.instruction = TrappedInstruction::rdtsc; return true;
    case kGroup7Opcode:
      if (code.size() < 3 || code[2] != kRdtscpModrm) return false;
      site.instruction = TrappedInstruction::rdtscp;
      site.length = 3;
      return true;
    default:
      return false;
  }
}

bool decode_patchable_site(std::span<const std::uint8_t> code, TrappedSite& site) {
  if (decode_trapped_site(code, site)) return true;
  if (code.size() < 3 || code[0] != kTwoByteEscape || code[1] != kGroup7Opcode) return false;
  if (code[2] != kVmcallModrm && code[2] != kVmmcallModrm) return false;
  site.offset = 0;
  site.instruction = TrappedInstruction::hypercall;
  site.length = 3;
  return true;
}

std::vector<TrappedSite> find_trapped_sites(std::span<const std::uint8_t> code) {
  std::vector<TrappedSite> found;
  for (std::size_t i = 0; i + 1 < code.size(); ++i) {
    TrappedSite site{};
    if (decode_trapped_site(code.subspan(i), site)) {
      site.offset = i;
      found.push_back(site);
    }
  }
  return found;
}

}  // namespace softsynic::emu::x86
