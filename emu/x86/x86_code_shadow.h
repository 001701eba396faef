// X86CodeShadow: the execution view of guest code pages that hold trapped
// instructions (RDMSR, WRMSR, RDTSC, RDTSCP, VMCALL/VMMCALL), with each
// such instruction replaced by SYSCALL, which Unicorn 2.1.1 hooks
// (UC_HOOK_INSN) and after which it ends the translated block.
//
// Why: the engine must emulate those instructions (the SynIC MSRs, a TSC
// on reference time, hypercalls), Unicorn cannot hook them, and a code hook
// that moves RIP past them makes Unicorn leave the block through its
// execution loop's restart, about 11 OUT traps per instruction
// (docs/PERFORMANCE.md). The SYSCALL hook costs an OUT trap and a block
// exit. Not CPUID, although its hook is cheaper: the block goes on after
// it, so a fault the emulation raises (#GP for a bad MSR) could not stop
// the instructions after it; after SYSCALL, RIP is the hook's to set.
//
// How: the engine's TLB (x86_soft_tlb.h) answers a fetch fill of a frame
// with patches with the frame's shadow page, a copy of the frame with the
// patches, mapped into Unicorn's physical space above anything a guest can
// address (kBase: bit 40, beyond the 40 physical address bits the CPU
// model reports). Loads and stores still reach the frame itself: the
// guest, the debugger and the engine's own scans see the guest's bytes.
// The copy is made again at the next fetch fill after the frame's code was
// dropped, and a store to the frame forgets its patches. The copy is made
// only from the very bytes the patches were found in: the frame's bytes
// are kept when its first patch is added, and a frame that differs from
// them in any byte when the copy is made loses its patches (so a change
// that no fill saw, another VP's store or a host write, cannot leave a
// patch in code it no longer fits).
//
// Patches: the engine adds one only where the instruction is known to
// start (a decode of the translated block from its first instruction,
// x86_insn_length.h, or the instruction's own trap), so bytes inside
// another instruction are never changed. A 2-byte instruction becomes
// `0F 05` (SYSCALL), a 3-byte one `2E 0F 05` (with an ignored segment
// prefix): the next instruction keeps its address, and RIP at the hook is
// the site's. An instruction with prefixes of its own, or one that
// crosses a page, is not patched (the engine's code hook handles it).
//
// Not supported: more than kSlots shadowed frames per VP, or a frame whose
// bytes changed unseen kMaxUnseenChanges times (another VP writing data
// next to the code): those keep the code-hook path, so that patching
// cannot go on failing for ever.
//
// Threading: engine-affine (one per VP engine; used inside Unicorn's
// callbacks on the VP's thread).
#pragma once

#include <unicorn/unicorn.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "emu/x86/msr_sites.h"

namespace softsynic {
class RamGuestMemory;
}  // namespace softsynic

namespace softsynic::emu::x86 {

class X86CodeShadow {
 public:
  static constexpr std::uint64_t kBase = std::uint64_t{1} << 40;
  static constexpr std::size_t kSlots = 4096;  // 16 MiB of address space, touched as used
  static constexpr std::uint64_t kPageSize = 0x1000;
  static constexpr std::uint32_t kMaxUnseenChanges = 8;

  struct Patch {
    std::uint16_t offset = 0;
    TrappedInstruction instruction = TrappedInstruction::rdmsr;
    std::uint8_t length = 2;
  };

  // Maps the shadow pages into `uc` at kBase.
  X86CodeShadow(uc_engine* uc, RamGuestMemory& ram);
  ~X86CodeShadow();
  X86CodeShadow(const X86CodeShadow&) = delete;
  X86CodeShadow& operator=(const X86CodeShadow&) = delete;

  static bool in_shadow(std::uint64_t paddr) { return paddr >= kBase && paddr < kBase + kSlots * kPageSize; }

  // Adds a patch at `offset` of `frame` (a RAM frame); false when it cannot
  // be patched (crosses the page, or no slot is left). The frame's code
  // must then be dropped (by the caller, outside the run) so that it is
  // translated again from the shadow.
  bool add(std::uint64_t frame, const Patch& patch);
  bool patched(std::uint64_t frame, std::uint16_t offset) const;
  // The frame has patches: its fetches run from its shadow page.
  bool active(std::uint64_t frame) const {
    auto it = by_frame_.find(frame);
    return it != by_frame_.end() && !slots_[it->second].patches.empty();
  }
  // After the guest's RAM changed behind the engine (a host write):
  // every patch goes; scans find them again.
  void forget_all() {
    for (Slot& slot : slots_) {
      slot.current = false;
      slot.patches.clear();
    }
  }
  // The shadow page a fetch of `frame` runs from, rebuilt if stale; nullopt
  // when the frame has no patch.
  std::optional<std::uint64_t> exec_page(std::uint64_t frame);
  // The shadow page of `frame` whose translations must go with the
  // frame's, if it has one.
  std::optional<std::uint64_t> page_of(std::uint64_t frame) const;
  // The frame's code was dropped: copy it again at the next fetch. With
  // `changed`, the guest stored to it: its patches go too (the scan of the
  // blocks run from it again finds what is there now).
  void dropped(std::uint64_t frame, bool changed);
  // The patch at `offset` of the shadow page `page`, if any.
  const Patch* patch_at(std::uint64_t page, std::uint16_t offset) const;

  std::size_t frames() const { return by_frame_.size(); }

 private:
  struct Slot {
    std::uint64_t frame = 0;
    bool current = false;  // the page holds the frame's bytes plus patches
    std::vector<Patch> patches;
    std::uint32_t unseen_changes = 0;  // copies refused for changed bytes
  };
  void rebuild(std::size_t index);

  RamGuestMemory& ram_;
  std::uint8_t* pages_ = nullptr;   // kSlots execution pages, mapped into Unicorn
  std::uint8_t* basis_ = nullptr;   // kSlots pages: the bytes the patches were found in
  std::vector<Slot> slots_;
  std::unordered_map<std::uint64_t, std::size_t> by_frame_;
};

}  // namespace softsynic::emu::x86
