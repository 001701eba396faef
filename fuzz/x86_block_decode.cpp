// fuzz_x86_block_decode: the input is a translated block of 64-bit code as
// the x86 engine decodes it to find the trapped instructions it patches
// (emu/x86/x86_insn_length.h, msr_sites.h). Invariants: every length is
// 1..15 and inside the bytes; a length depends only on the instruction's
// own bytes (the same with the block cut right after it); an instruction
// the engine would patch has the length it is patched with.
#include <cstddef>
#include <cstdint>
#include <span>

#include "emu/x86/msr_sites.h"
#include "emu/x86/x86_insn_length.h"
#include "fuzz/invariant.h"

using softsynic::fuzz::check;
namespace x86 = softsynic::emu::x86;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> block(data, size);
  std::size_t at = 0;
  while (at < block.size()) {
    const auto rest = block.subspan(at);
    const auto length = x86::x86_64_instruction_length(rest);
    if (!length) break;
    check(*length >= 1 && *length <= x86::kMaxInstructionLength, "a length of 1 to 15 bytes");
    check(*length <= rest.size(), "a length inside the bytes given");
    const auto alone = x86::x86_64_instruction_length(rest.first(*length));
    check(alone && *alone == *length, "the same length with only the instruction's own bytes");
    x86::TrappedSite site{};
    if (x86::decode_patchable_site(rest, site)) check(site.length == *length, "a patched site's length is its decoded one");
    at += *length;
  }
  return 0;
}
