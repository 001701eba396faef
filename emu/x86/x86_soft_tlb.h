// X86SoftTlb: the engine's own TLB fill for Unicorn (UC_TLB_VIRTUAL), so
// that every guest load, store and fetch is translated by the guest's page
// tables as x86_paging.h walks them, and so that no TLB entry ever lets a
// store reach a page holding translated code (Intel SDM vol. 3, 4.10
// "Caching Translation Information"; vol. 3, 8.1.3 "Handling Self- and
// Cross-Modifying Code").
//
// Why: Unicorn 2.1.1 checks stores against translated code through a flag
// in each TLB entry, which the first store through the entry clears
// whatever code the page still holds (docs/PC_PLATFORM.md, "Code patched
// after a store to its page"). The other cure, a memory-write hook, sends
// every guest load and store to a C helper and doubles a Linux boot.
// Here, pages are tracked by guest-physical frame:
//  - a fetch fill marks the frame as holding code and gets read and
//    execute rights only; if a writable entry for the frame may exist, the
//    whole TLB is dropped first;
//  - a read fill gets read rights, plus write rights when the frame holds
//    no code and the walk allows the write with the dirty flag already set
//    (so a later first write sets it), never execute rights;
//  - a write fill to a frame holding code drops the frame's translated
//    code (uc_ctl_remove_cache) and the whole TLB (other aliases' execute
//    rights), unmarks the frame and grants the write.
// So the inline store path never writes code that has a translation, and
// a fetch never runs code that a store could change unseen.
//
// Faults: a walk that fails makes the fill answer no; Unicorn then stops
// the run with UC_ERR_EXCEPTION and RIP on the faulting instruction (for a
// fetch while translating, on the block's first instruction), and the
// engine delivers take_fault()'s #PF (CR2 = the exact address, read from
// Unicorn's engine state at the offset the self-test found) or #GP(0).
//
// Privilege: Unicorn does not say which privilege asks. The CPL decides,
// except that at CPL 3 a supervisor page holding the GDT, IDT or TSS is
// read as the CPU's implicit supervisor accesses do (segment loads and the
// TSS I/O bitmap read them from ring 3); the entry then also serves ring-3
// loads of that page (a leak of read rights documented in PC_PLATFORM.md).
//
// Other VPs: each VP is its own Unicorn engine; X86CodeFrames carries
// what one VP's stores mean for the others' translations.
//
// Not supported: a store that changes the rest of the translated block it
// runs in (the block finishes as translated; the next run sees the new
// code).
//
// Self-test (x86_soft_tlb_support()): on a scratch engine, a refused fill
// must stop the run with UC_ERR_EXCEPTION and RIP on the instruction, a
// read-only entry must come back as a write fill, and the faulting address
// must be found at one offset of Unicorn's engine state for two different
// addresses. When it fails, or SOFTSYNIC_X86_SOFT_TLB_SELFTEST=fail forces
// it to, engines fall back to Unicorn's own TLB and the memory-write hook.
//
// Threading: x86_soft_tlb_support() is thread-safe (computed once); an
// X86SoftTlb is engine-affine (its fill runs inside Unicorn on the VP's
// thread).
#pragma once

#include <unicorn/unicorn.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "emu/x86/x86_code_frames.h"
#include "emu/x86/x86_code_shadow.h"
#include "emu/x86/x86_paging.h"

namespace softsynic {
class GuestMemory;
class RamGuestMemory;
}  // namespace softsynic

namespace softsynic::emu::x86 {

class UnicornX86Registers;

struct X86SoftTlbSupport {
  bool ok = false;
  std::string failure;                   // why not, when !ok
  std::size_t fault_address_offset = 0;  // in Unicorn's engine state
};
inline constexpr const char* kSoftTlbSelftestEnv = "SOFTSYNIC_X86_SOFT_TLB_SELFTEST";

// Runs the self-test at first use.
const X86SoftTlbSupport& x86_soft_tlb_support();

// A fault a refused fill stands for.
struct X86TlbFault {
  bool general_protection = false;  // #GP(0); else #PF
  std::uint32_t error_code = 0;     // #PF's
  std::uint64_t address = 0;        // CR2 for a #PF
};

class X86SoftTlb {
 public:
  // Needs x86_soft_tlb_support().ok. Switches `uc` to UC_TLB_VIRTUAL and
  // adds the fill hook. Walks read page tables through `tables` (RAM, plus
  // any ROM that holds tables); frames are tracked over `ram`.
  // `shared` (may be null: one VP) tells the other VPs' engines of stores
  // to code they translated (x86_code_frames.h).
  X86SoftTlb(uc_engine* uc, RamGuestMemory& ram, GuestMemory& tables, UnicornX86Registers& regs,
             X86CodeFrames* shared, std::uint32_t vp);
  X86SoftTlb(const X86SoftTlb&) = delete;
  X86SoftTlb& operator=(const X86SoftTlb&) = delete;

  // Before each uc_emu_start: forgets a refusal that did not end a run (a
  // non-faulting probe's). `until`: the run's end address (0: none).
  // Unicorn translates it when the run starts and again when it ends; when
  // the guest's tables do not map it by then (an AP that left the ROM for
  // its kernel's tables), that fetch fill is answered with the physical
  // address itself, and end_run() drops the entry.
  void begin_run(std::uint64_t until) {
    refused_.reset();
    until_ = until;
  }
  void end_run();
  // Outside a run: drops the code other VPs' stores asked this VP to drop.
  void apply_remote_drops();
  // Called with each frame whose translated code this TLB drops (inside a
  // fill, or in apply_remote_drops()), so that what the engine learnt from
  // that code (the trapped-instruction scan) is learnt again.
  void set_drop_listener(std::function<void(std::uint64_t frame)> listener) { on_drop_ = std::move(listener); }
  // Fetches run from `shadow`'s pages for frames with patches
  // (x86_code_shadow.h); outlives this TLB.
  void set_code_shadow(X86CodeShadow* shadow) { shadow_ = shadow; }
  // Outside a run: `frame` got new patches; its code goes, and is
  // translated again from its shadow page.
  void drop_patched(std::uint64_t frame) { drop_code(frame, false); }
  // The guest-physical page the last fetch fill of `linear_page` answered
  // (a shadow page for a patched frame); nullopt when not remembered. Every
  // run of code from the page since went through that fill: Unicorn looks
  // a block up through the TLB after each flush.
  // How many linear code pages the remap check remembers, and forgetting
  // them (then every block must be scanned again: a remap is not seen).
  std::size_t exec_frames_remembered() const { return exec_frames_.size(); }
  void forget_exec_frames() { exec_frames_.clear(); }
  std::optional<std::uint64_t> exec_page_of(std::uint64_t linear_page) const {
    const ExecEntry& e = exec_pages_[(linear_page >> 12) % kExecEntries];
    if (e.linear != linear_page) return std::nullopt;
    return e.paddr;
  }
  // After uc_emu_start returned `err`: the fault to deliver, if a refused
  // fill ended the run.
  std::optional<X86TlbFault> take_fault(uc_err err);

  struct Counters {
    std::uint64_t fills = 0;
    std::uint64_t code_writes = 0;   // write fills that dropped a frame's code
    std::uint64_t remote_drops = 0;  // frames dropped at another VP's request
    std::uint64_t flushes = 0;      // whole-TLB drops
  };
  const Counters& counters() const { return counters_; }

 private:
  static bool fill_hook(uc_engine* uc, std::uint64_t page, uc_mem_type type, uc_tlb_entry* entry, void* user);
  bool fill(std::uint64_t page, uc_mem_type type, uc_tlb_entry& entry);
  bool supervisor_table_page(std::uint64_t page) const;
  void flush();
  std::uint8_t* frame_state(std::uint64_t gpa);
  void grant(std::uint8_t* state, std::uint64_t gpa, std::uint8_t bit);
  // changed: a store (maybe another VP's) may have changed the bytes.
  void drop_code(std::uint64_t frame, bool changed);

  uc_engine* uc_;
  RamGuestMemory& ram_;
  GuestMemory& tables_;
  UnicornX86Registers& regs_;
  X86CodeFrames* shared_;
  std::uint32_t vp_;
  // Per 4 KiB guest-physical frame of RAM (frames outside RAM are not
  // tracked: no code is translated from them and no store reaches them).
  static constexpr std::uint8_t kHoldsCode = 1;      // translated code may exist
  static constexpr std::uint8_t kWriteGranted = 2;   // a writable entry may exist
  static constexpr std::uint8_t kExecGranted = 4;    // an executable entry may exist
  static constexpr std::uint8_t kWatched = 8;        // in watched_
  // Frames translated while another VP could store to them through an
  // entry it already had: dropped again at the next apply_remote_drops().
  std::vector<std::uint64_t> watched_;
  std::vector<std::uint8_t> frames_;
  std::vector<std::uint32_t> granted_;  // frames with a granted bit, cleared at flush()
  bool dropping_code_ = false;          // inside uc_ctl_remove_cache's own fetch fill
  std::uint64_t until_ = 0;
  bool until_granted_ = false;
  std::uint64_t dropping_frame_ = 0;
  // The fault a refused fill stands for; its address is the refused page
  // until take_fault() finds the exact one.
  std::optional<X86TlbFault> refused_;
  Counters counters_;
  std::function<void(std::uint64_t frame)> on_drop_;
  X86CodeShadow* shadow_ = nullptr;
  struct ExecEntry {
    std::uint64_t linear = ~std::uint64_t{0};
    std::uint64_t paddr = 0;
  };
  static constexpr std::size_t kExecEntries = 1024;
  std::vector<ExecEntry> exec_pages_ = std::vector<ExecEntry>(kExecEntries);
  // The frame each linear code page was last fetched from: a page mapped to
  // a new frame has its blocks scanned again (on_drop_ for the old frame).
  std::unordered_map<std::uint64_t, std::uint64_t> exec_frames_;
};

}  // namespace softsynic::emu::x86
