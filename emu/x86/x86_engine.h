// X86Engine: one x86-64 VP on its own Unicorn engine (UC_MODE_64) over the
// partition's shared RAM.
//
// How each guest action reaches softsynic (Unicorn 2.0.1 has no hook for
// VMCALL, RDMSR or WRMSR and no interrupt injection; see
// docs/PLUGIN_GUIDE.md):
//  - Hypercall page: a code hook bounded to the page's first byte calls
//    X86Hypervisor::hypercall and continues at the page's `ret` (page + 3).
//  - VMCALL/VMMCALL elsewhere raise #UD, which reaches UC_HOOK_INSN_INVALID:
//    both vendors' instructions are treated as hypercalls (as a hypervisor
//    that traps them would); any other invalid opcode becomes #UD through
//    the guest's IDT.
//  - RDMSR/WRMSR: each newly executed block is scanned for 0F 32 / 0F 30;
//    candidates get a code hook bounded to their address and the block is
//    retranslated. The hook runs the hypervisor's MSR chain (SynIC and
//    hypervisor MSRs, then the local APIC): ok -> RIP += 2; gp -> #GP(0)
//    through the IDT; not_mine -> the instruction runs natively (Unicorn
//    knows EFER and friends; unknown MSRs read 0 and writes vanish).
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
//  - xAPIC page at 0xFEE00000: uc_mmio_map to the LocalApic.
//  - Port I/O: UC_HOOK_INSN IN/OUT to the machine's IoPortBus (the bare
//    platform's debug console and exit ports, the pc platform's devices).
//  - PC platform: the engine maps its PcFirmware ROM and starts through it
//    (multiboot: 32-bit protected mode; APs: halted until INIT/SIPI, then
//    real mode at vector << 12). Until the guest reaches 64-bit mode the
//    block hook tracks CS's base (real-mode and 16-bit code run with a
//    non-zero base, and Unicorn's start address is an offset in CS) and
//    interrupts are held; an exception before long mode ends the run.
//    Accesses to linear addresses Unicorn finds unmapped although the guest
//    page tables map them to RAM (Unicorn looks linear addresses up in its
//    own map) get that RAM page mapped at the linear address too (an alias
//    fixed at its first translation).
//  - Synthetic timers (when the machine has them): the STIMER MSRs go
//    through the MSR chain like the SynIC's; next_deadline() is this VP's
//    earliest expiry.
//  - Monitor page (when the machine has a monitor): a UC_HOOK_MEM_WRITE
//    on the child-to-parent page records stores, reported after they
//    landed at the next block boundary (emu/unicorn/monitor_write_hook.h).
// Not supported: interrupts and exceptions in 32-bit or real mode (guests
// that stay there run, but get none), the interrupt shadow after MOV SS
// (interrupts are only taken at block boundaries and HLT anyway), APIC
// relocation, exception error codes other than #GP's (Unicorn does not
// report them; 0 is pushed), paging other than the identity map for
// event delivery.
//
// Threading: as VpEngine says.
#pragma once

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
#include "emu/unicorn/monitor_write_hook.h"
#include "emu/unicorn/uc_engine.h"
#include "emu/vp_engine.h"
#include "emu/x86/pc_firmware.h"
#include "emu/x86/unicorn_x86_registers.h"

namespace softsynic::devices {
class LocalApic;
struct X86Event;
}  // namespace softsynic::devices

namespace softsynic::replay {
class GuestCpuObserver;
}  // namespace softsynic::replay

namespace softsynic::emu::x86 {

class X86Machine;

class X86Engine final : public VpEngine {
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
  RegisterSnapshot registers() const override;

 private:
  struct Hooks;  // the static Unicorn callbacks
  friend struct Hooks;

  void install_hooks();
  void apply_invalidations();
  void sync_hypercall_page();
  void scan_block(std::uint64_t address, std::uint32_t size);
  bool interrupt_window_at(std::uint64_t block);
  void emulate_msr(std::uint64_t address);
  void emulate_hypercall(std::uint64_t continue_at);
  bool handle_invalid_opcode();
  void handle_cpu_exception(std::uint32_t intno);
  bool deliver(const devices::X86Event& event);
  void fatal(std::string message);
  const std::uint8_t* code_bytes(std::uint64_t address, std::uint64_t size) const;
  // PC platform.
  void take_startup_events();
  bool in_firmware(std::uint64_t linear) const {
    return firmware_ && linear >= kPcRomBase && linear - kPcRomBase < kPcRomSize;
  }
  void track_mode();
  void set_long_mode(bool on) {
    long_mode_ = on;
    regs_.set_long_mode(on);
  }
  std::optional<std::uint64_t> translate(std::uint64_t linear) const;
  bool alias_linear_page(std::uint64_t linear);

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
  std::optional<std::string> fault_;
  std::atomic<bool> kicked_{false};
  // A new request since the block hook last looked (set from any thread):
  // the hook starts watching for its window instead of ending the slice.
  std::atomic<bool> irq_requested_{false};

  static constexpr std::uint64_t kNoBlock = ~std::uint64_t{0};
  std::unordered_set<std::uint64_t> scanned_blocks_;
  std::uint64_t last_scanned_ = kNoBlock;
  std::unordered_map<std::uint64_t, uc_hook> msr_hooks_;
  std::optional<std::uint64_t> hypercall_page_;
  uc_hook hypercall_hook_ = 0;

  // PC platform: the ROM, an AP waiting for SIPI, and until the guest runs
  // 64-bit code, CS's base (linear = cs_base_ + RIP).
  std::unique_ptr<PcFirmware> firmware_;
  bool waiting_for_sipi_ = false;
  bool long_mode_ = true;
  std::uint64_t cs_base_ = 0;
  std::uint16_t cs_selector_ = 0;  // the selector cs_base_ was computed for
  bool cs_known_ = false;
  std::unordered_set<std::uint64_t> aliased_pages_;

  unicorn::CodeInvalidations invalidations_;
  unicorn::MonitorWriteHook monitor_hook_;
};

}  // namespace softsynic::emu::x86
