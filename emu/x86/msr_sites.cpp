// Candidate RDMSR/WRMSR sites in a block of code.
#include "emu/x86/msr_sites.h"

namespace softsynic::emu::x86 {

std::vector<std::size_t> find_msr_candidates(std::span<const std::uint8_t> code) {
  std::vector<std::size_t> found;
  for (std::size_t i = 0; i + 1 < code.size(); ++i) {
    if (code[i] == kTwoByteEscape && (code[i + 1] == kWrmsrOpcode || code[i + 1] == kRdmsrOpcode)) found.push_back(i);
  }
  return found;
}

}  // namespace softsynic::emu::x86
