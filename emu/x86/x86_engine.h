// X86Engine: one x86-64 VP on its own Unicorn engine (UC_MODE_64) over the
// partition's shared RAM.
//
// How each guest action reaches softsynic (Unicorn 2.1.1 has no hook for
// VMCALL, RDMSR or WRMSR and no interrupt injection; see
// docs/PLUGIN_GUIDE.md):
//  - Memory: Unicorn's TLB is the engine's (x86_soft_tlb.h): every fill
//    walks the guest's page tables, a refused one is delivered as #PF (the
//    exact CR2 and the walk's error code) or #GP, and frames holding
//    translated code are never writable, on any VP (x86_code_frames.h).
//    Without it (self-test failed, or --unchecked-code-writes) Unicorn walks
//    the tables itself and reports faults through UC_HOOK_INTR.
//  - Hypercall page: it holds `syscall; ret`; the SYSCALL hook, at the
//    page's first byte, calls X86Hypervisor::hypercall (#UD from CPL > 0)
//    and Unicorn continues at the page's `ret`.
//  - VMCALL/VMMCALL elsewhere raise #UD, which reaches UC_HOOK_INSN_INVALID:
//    both vendors' instructions are treated as hypercalls (as a hypervisor
//    that traps them would); any other invalid opcode becomes #UD through
//    the guest's IDT. The site is then patched (below).
//  - RDMSR/WRMSR/RDTSC/RDTSCP/VMCALL: each new block of 64-bit kernel code
//    is decoded (x86_insn_length.h) and each such instruction patched to
//    SYSCALL in the execution view of its page (x86_code_shadow.h), whose
//    hook emulates it. Elsewhere, candidates get a code hook bounded to
//    their address and the block is retranslated; a hook that fires gets
//    its site patched. The MSR chain (SynIC and hypervisor MSRs, then the
//    local APIC): ok -> done; gp -> #GP(0) through the IDT; not_mine -> the
//    CPU model's own access (Unicorn knows EFER and friends; unknown MSRs
//    read 0 and writes vanish). CPL > 0: #GP (RDTSC: with CR4.TSD).
//  - CPUID: UC_HOOK_INSN answers 0x40000000-0x40000006; other leaves are
//    Unicorn's.
//  - Interrupts: at slice start and after HLT the APIC's vector is taken if
//    RFLAGS.IF allows and entered through the IDT (devices/
//    x86_interrupt_entry.h). After a vector is taken, block boundaries are
//    watched while the APIC still has one pending, so the next is taken
//    as soon as the handler's IRET (or an STI) opens the window, except
//    right after an STI (its one-instruction shadow keeps `sti; hlt`
//    safe). Exceptions Unicorn raises (INT n, #PF, ...) are delivered the
//    same way from UC_HOOK_INTR.
//  - xAPIC page at 0xFEE00000: uc_mmio_map to the LocalApic. pc: the I/O
//    APIC's page at 0xFEC00000 to the machine's IoApic (32-bit registers;
//    narrower reads see bytes of one, narrower writes count at IOREGSEL
//    only).
//  - Port I/O: UC_HOOK_INSN IN/OUT to the machine's IoPortBus (the bare
//    platform's debug console and exit ports, the pc platform's devices).
//  - PC platform: the engine maps its PcFirmware ROM and starts through it
//    (multiboot: 32-bit protected mode; APs: halted until INIT/SIPI, then
//    real mode at vector << 12). Until the guest reaches 64-bit mode the
//    block hook tracks CS's base (real-mode and 16-bit code run with a
//    non-zero base, and Unicorn's start address is an offset in CS) and
//    interrupts are held; an exception before long mode ends the run.
//  - Synthetic timers (when the machine has them): the STIMER MSRs go
//    through the MSR chain like the SynIC's; next_deadline() is this VP's
//    earliest expiry.
//  - User mode (ring 3): IRETQ and SYSRETQ to ring 3 are Unicorn's own;
//    SYSCALL (UC_HOOK_INSN) and events taken in ring 3 change the CPL and
//    the CS/SS caches through unicorn_x86_internals.h (SDM vol. 2B
//    "SYSCALL"; vol. 3, 6.14). Without EFER.SCE or outside 64-bit mode
//    SYSCALL is #UD; VMCALL at CPL > 0 is #UD (TLFS). When the user-mode
//    self-test failed, the first ring-3 block, SYSCALL or event from ring 3
//    ends the run with a guest fault naming the reason.
//  - Monitor page (when the machine has a monitor): the trigger groups of
//    the child-to-parent page are looked at each block boundary and newly
//    set pending bits reported (emu/unicorn/monitor_trigger_watch.h).
// Not supported: SYSCALL from compatibility mode (CSTAR), SYSENTER (not
// advertised), SMEP/SMAP (not
// advertised), interrupts and exceptions in 32-bit or real mode (guests
// that stay there run, but get none), the interrupt shadow after MOV SS
// (interrupts are only taken at block boundaries and HLT anyway), APIC
// relocation.
// Debugger (VpDebug): registers by gdb number (rax-r15, rip, eflags, the
// segment selectors, fs_base/gs_base, cr0/2/3/4/8, EFER; the x87 registers
// are unavailable and the selectors read-only), memory by linear address
// through the guest's page tables (x86_paging.h; CS's base is not added
// in real mode), breakpoints and steps as code hooks (unicorn/debug_hooks.h).
//
// Threading: as VpEngine and VpDebug say.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "emu/unicorn/code_invalidations.h"
#include "emu/unicorn/debug_hooks.h"
#include "emu/unicorn/monitor_trigger_watch.h"
#include "emu/unicorn/uc_engine.h"
#include "emu/vp_debug.h"
#include "emu/vp_engine.h"
#include "emu/x86/pc_firmware.h"
#include "emu/x86/unicorn_x86_internals.h"
#include "emu/x86/unicorn_x86_registers.h"
#include "emu/x86/x86_paging.h"
#include "emu/x86/x86_soft_tlb.h"

namespace softsynic::devices {
class LocalApic;
struct X86Event;
}  // namespace softsynic::devices

namespace softsynic::replay {
class GuestCpuObserver;
}  // namespace softsynic::replay

namespace softsynic::emu::x86 {

class X86Machine;

// The guest's TSC rate: 1 GHz, 100 cycles per 100 ns reference tick.
inline constexpr std::uint64_t kTscPerTick = 100;
inline constexpr std::uint64_t kTscFrequencyHz = kTscPerTick * 10'000'000;

class X86Engine final : public VpEngine, public unicorn::UnicornVpDebug {
 public:
  X86Engine(X86Machine& machine, const EngineConfig& config);
  ~X86Engine() override;

  Arch arch() const override { return Arch::x86_64; }
  std::uint32_t vp_index() const override { return vp_; }
  SliceResult run_slice(std::uint64_t block_budget) override;
  void request_stop() override { slice_.request_stop(); }
  void limit_slice(std::uint64_t blocks) override { slice_.limit(blocks); }
  bool take_interrupt() override;
  bool interrupt_pending() const override { return kicked_.load(std::memory_order_acquire); }
  void invalidate_code(std::uint64_t gpa, std::uint64_t size) override { invalidations_.add(gpa, size); }
  std::optional<std::uint64_t> next_deadline() const override;
  void fire_due(std::uint64_t now) override;
  RegisterSnapshot registers() const override;
  void request_pause() override { slice_.request_pause(); }
  void clear_pause() override { slice_.clear_pause(); }
  VpDebug* debug() override { return this; }

  // VpDebug
  bool read_register(unsigned regno, std::span<std::byte> value) override;
  bool write_register(unsigned regno, std::span<const std::byte> value) override;
  std::uint64_t pc() override { return cs_base_ + regs_.rip(); }

 private:
  struct Hooks;  // the static Unicorn callbacks
  friend struct Hooks;

  void install_hooks();
  void apply_invalidations();
  void sync_hypercall_page();
  void scan_block(std::uint64_t address, std::uint32_t size);
  void forget_rewritten_site(std::uint64_t address);
  bool interrupt_window_at(std::uint64_t block);
  void emulate_site(std::uint64_t address);
  // The instruction at `linear` (`length` bytes). patched: from the SYSCALL
  // hook of a patched site (x86_code_shadow.h), after which Unicorn moves
  // RIP past the site itself; else from the site's code hook, which moves
  // RIP here (or lets a CPU model MSR's access run natively).
  void emulate_trapped(TrappedInstruction instruction, std::uint64_t linear, std::size_t length, bool patched);
  // From the SYSCALL hook: a patched site at RIP was emulated.
  bool emulate_patched_site();
  // `site` is known to start an instruction at `linear`: patch it in the
  // execution view from the next run on (pending until then; applied once
  // translations run from the patched view; refused when it cannot be).
  enum class PatchState { applied, pending, refused };
  PatchState patch_site(std::uint64_t linear, const TrappedSite& site);
  void apply_patches();
  // Whether the block about to run is 64-bit kernel code (what the decoder
  // and the patches cover).
  bool patchable_code() const { return code_shadow_ && long_mode_ && (regs_.cs() & 3) == 0; }
  std::uint64_t read_tsc();
  // next: the instruction after the call. move_rip: the #UD path (VMCALL)
  // moves RIP there; after a SYSCALL hook (the hypercall page, a patched
  // site) Unicorn does.
  // hook_advance: what Unicorn adds to RIP after the hook returns (a
  // patched site's length), taken off a #UD delivery's RIP.
  void emulate_hypercall(std::uint64_t next, bool move_rip, std::uint64_t hook_advance = 0);
  bool handle_invalid_opcode();
  void emulate_syscall();
  void refuse_user_mode(const std::string& what);
  void handle_cpu_exception(std::uint32_t intno);
  void deliver_tlb_fault(const X86TlbFault& fault);
  bool deliver(const devices::X86Event& event);
  void fatal(std::string message);
  void triple_fault(const std::string& what);
  std::optional<std::uint64_t> debug_page(gdb::AddressSpace space, std::uint64_t page) const override;
  // The engine's own reads of guest code and tables, by linear address
  // through the guest's page tables (the ROM before the guest runs).
  X86PagingState paging_state() const;
  bool read_code(std::uint64_t linear, std::span<std::uint8_t> out) const;
  std::optional<std::uint8_t> code_byte(std::uint64_t linear) const;
  bool at_hypercall_page() const;
  std::optional<std::uint64_t> code_page(std::uint64_t linear_page) const;
  struct CodePageCache {
    bool valid = false;
    std::uint64_t cr3 = 0, linear = 0, gpa = 0;
  };
  mutable CodePageCache code_page_cache_;
  class DeliveryMemory;
  // PC platform.
  void take_startup_events();
  bool in_firmware(std::uint64_t linear) const {
    return firmware_ && linear >= kPcRomBase && linear - kPcRomBase < kPcRomSize;
  }
  void track_mode();
  bool rom_reachable() const;
  void set_long_mode(bool on) {
    long_mode_ = on;
    regs_.set_long_mode(on);
  }

  X86Machine& machine_;
  std::uint32_t vp_;
  unicorn::UcHandle uc_;
  UnicornX86Registers regs_;
  devices::LocalApic& apic_;
  replay::GuestCpuObserver* observer_;  // may be null
  unicorn::SliceControl slice_;

  bool halted_ = false;
  bool exited_ = false;
  bool restart_ = false;                       // a hook asked for a re-entry at the resume point
  bool irq_check_ = false;                     // a vector may still be pending: watch block boundaries
  bool take_irq_now_ = false;                  // the block hook stopped to take an interrupt
  std::optional<std::uint64_t> resume_after_invalid_;
  bool stale_invalid_opcode_ = false;          // Unicorn will raise the handled #UD once more
  bool triple_fault_ = false;
  std::optional<std::uint64_t> double_fault_rip_;  // where Unicorn last reported #DF
  std::uint64_t tsc_tick_ = ~std::uint64_t{0};  // reference time of the last TSC read
  std::uint64_t tsc_within_tick_ = 0;
  std::optional<std::string> fault_;
  std::atomic<bool> kicked_{false};
  // A new request since the block hook last looked (set from any thread):
  // the hook starts watching for its window instead of ending the slice.
  std::atomic<bool> irq_requested_{false};

  static constexpr std::uint64_t kNoBlock = ~std::uint64_t{0};
  std::unordered_set<std::uint64_t> scanned_blocks_;
  // With the engine's TLB: the scanned blocks by the guest-physical frames
  // they were read from, forgotten when the TLB drops a frame's code.
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> scanned_by_frame_;
  void forget_scans_of(std::uint64_t frame);
  void forget_all_scans();
  static constexpr std::size_t kExecFramesRemembered = 1 << 16;
  static constexpr std::size_t kRecentBlocks = 32768;
  std::array<std::uint64_t, kRecentBlocks> recent_blocks_ = make_recent_blocks();
  std::uint64_t& recent_block(std::uint64_t address) {
    return recent_blocks_[(address ^ (address >> 12)) % kRecentBlocks];
  }
  static constexpr std::array<std::uint64_t, kRecentBlocks> make_recent_blocks() {
    std::array<std::uint64_t, kRecentBlocks> a{};
    a.fill(kNoBlock);
    return a;
  }
  std::unordered_map<std::uint64_t, uc_hook> site_hooks_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> retranslate_;  // virtual blocks given new site hooks
  std::optional<std::uint64_t> hypercall_page_;
  ExceptionState exception_state_;
  PrivilegeState privilege_;

  // PC platform: the ROM, an AP waiting for SIPI, and until the guest runs
  // 64-bit code, CS's base (linear = cs_base_ + RIP).
  std::unique_ptr<PcFirmware> firmware_;
  bool waiting_for_sipi_ = false;
  bool long_mode_ = true;
  std::uint64_t cs_base_ = 0;
  std::uint16_t cs_selector_ = 0;  // the selector cs_base_ was computed for
  bool cs_known_ = false;

  unicorn::CodeInvalidations invalidations_;
  unicorn::MonitorTriggerWatch monitor_watch_;
  // The guest's translation as Unicorn's TLB (x86_soft_tlb.h); null when
  // code writes are unchecked or its self-test failed.
  std::unique_ptr<PcFirmwareOverlay> walk_memory_;
  // Patched trapped-instruction sites (x86_code_shadow.h); null without the
  // engine's TLB or with SOFTSYNIC_X86_SITE_PATCHES=off. Frames given
  // patches and site hooks they replace wait for the next run's start.
  std::unique_ptr<X86CodeShadow> code_shadow_;
  std::vector<std::uint64_t> patched_frames_;
  std::vector<std::uint64_t> replaced_site_hooks_;
  std::unique_ptr<X86SoftTlb> soft_tlb_;
};

}  // namespace softsynic::emu::x86
