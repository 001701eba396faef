// Arm64Engine: one ARM64 VP on its own Unicorn engine (Cortex-A72 model,
// starting at Non-secure EL1h) over the partition's shared RAM. Guests run
// at EL1 and EL0 with the MMU off or on.
//
// How each guest action reaches softsynic (Unicorn 2.0.1 and 2.1.1 facts; see
// docs/PLUGIN_GUIDE.md):
//  - HVC: with SCR_EL3.HCE and HCR_EL2.RW set by the host, `hvc #imm`
//    reaches UC_HOOK_INTR (exception 11) with the PC already past it; the
//    immediate is decoded from the instruction word at PC - 4 (MMU off) or
//    taken from the syndrome (MMU on; unicorn_arm64_internals.h) and the call
//    goes to Arm64Hypervisor::hvc (#0 SMCCC, #1 native). Other immediates
//    are not hypercalls: the run ends with a guest fault.
//  - MRS/MSR: UC_HOOK_INSN hooks offer every access to the VP's
//    InterruptLine (the ICC_* registers by encoding) and answer MPIDR_EL1
//    (Aff0 = VP index); a handled access is skipped (PC += 4, as the model
//    has no ICC_* registers); anything else runs on the CPU model.
//  - Synchronous exceptions (Arm ARM D1): SVC, UDF and other undefined
//    instructions, BRK, instruction and data aborts reach UC_HOOK_INTR,
//    where Unicorn would drop them; the engine reads the syndrome, fault
//    address and target EL that QEMU recorded (unicorn_arm64_internals.h)
//    and enters the guest's EL1 vectors (devices::arm64_take_sync: VBAR_EL1
//    + 0x000/0x200 from EL1, 0x400 from EL0; ESR_EL1, FAR_EL1, ELR_EL1,
//    SPSR_EL1). Unicorn runs ERET itself. If the start-up self-test failed,
//    they end the run with a guest fault naming the reason.
//  - Interrupts: the line's IRQ is taken through VBAR_EL1 + 0x080/0x280
//    (from EL1) or 0x480 (from EL0) (devices/arm64/irq_entry.h) at slice
//    start, at WFI, and at the first block boundary after a request
//    arrives, an ICC/GICR write or an unmasking
//    (Unicorn ends the translation block after every DAIF write, so the
//    unmasking instruction is always followed by a block boundary).
//  - WFI returns from uc_emu_start: the VP halts unless the line asserts
//    IRQ (WFI wakes whatever PSTATE.I says).
//  - MMIO: the debug console and exit device (emu/debug_devices.h) and the
//    GICv3 redistributors (emu/arm64/platform.h).
//  - Synthetic timers (when the machine has them): the STIMER register
//    names go through HvGet/SetVpRegisters; next_deadline() is this VP's
//    earliest expiry.
//  - Monitor page (when the machine has a monitor): the trigger groups of
//    the child-to-parent page are looked at each block boundary and newly
//    set pending bits reported (emu/unicorn/monitor_trigger_watch.h).
// Guest faults end the run with a readable message: SMC, accesses to
// physical addresses with no RAM or device (Unicorn's unmapped-memory
// hook), exceptions routed to EL2/EL3, system registers the interrupt line
// declares undefined.
// Not supported: EL2 guests, AArch32, FIQ, SError, the generic timer's
// interrupt (no PPI 27/30).
// Debugger (VpDebug): x0-x30, sp, pc and cpsr (PSTATE) by gdb number;
// memory by virtual address while the MMU is off (SCTLR_EL1.M clear:
// virtual is physical, as our guests run); with the MMU on only physical
// access works (virtual reads report nothing mapped); breakpoints and steps
// as code hooks (unicorn/debug_hooks.h).
//
// Threading: as VpEngine and VpDebug say.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "emu/arm64/arm64_paging.h"
#include "emu/arm64/unicorn_arm64_internals.h"
#include "emu/arm64/unicorn_arm64_registers.h"
#include "emu/unicorn/code_invalidations.h"
#include "emu/unicorn/debug_hooks.h"
#include "emu/unicorn/monitor_trigger_watch.h"
#include "emu/unicorn/uc_engine.h"
#include "emu/vp_debug.h"
#include "emu/vp_engine.h"

namespace softsynic::devices {
class InterruptLine;
}

namespace softsynic::replay {
class GuestCpuObserver;
}

namespace softsynic::emu::arm64 {

class Arm64Machine;
class VirtPlatform;

class Arm64Engine final : public VpEngine, public unicorn::UnicornVpDebug {
 public:
  Arm64Engine(Arm64Machine& machine, const EngineConfig& config);
  ~Arm64Engine() override;

  Arch arch() const override { return Arch::aarch64; }
  std::uint32_t vp_index() const override { return vp_; }
  SliceResult run_slice(std::uint64_t block_budget) override;
  void request_stop() override { slice_.request_stop(); }
  void limit_slice(std::uint64_t blocks) override { slice_.limit(blocks); }
  bool take_interrupt() override;
  bool interrupt_pending() const override;
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
  std::uint64_t pc() override { return regs_.pc(); }

 private:
  std::optional<std::uint64_t> debug_page(gdb::AddressSpace space, std::uint64_t page) const override;
  struct Hooks;  // the static Unicorn callbacks
  friend struct Hooks;

  void load_boot_state(const EngineConfig& config);
  // A VP started powered off runs once a PSCI CPU_ON named it: false while
  // it is still off.
  bool power_on_if_started();
  void install_hooks();
  void on_block(std::uint64_t address);
  void on_exception(std::uint32_t intno);
  std::string describe_exception(std::uint32_t intno) const;
  void take_sync_exception(std::uint32_t intno);
  void refuse_exceptions(const std::string& what);
  std::optional<std::uint16_t> hvc_immediate();
  void emulate_hvc();
  bool on_sysreg(int rt, const uc_arm64_cp_reg& cp, bool is_read);
  // SYS instructions: broadcast TLB invalidations and instruction-cache
  // maintenance reach the other VPs' engines.
  void on_sys(const uc_arm64_cp_reg& cp);
  // The instruction word at virtual `address`, through the guest's tables.
  std::optional<std::uint32_t> instruction_at(std::uint64_t address) const;
  Arm64PagingState paging_state() const;
  void fatal(std::string message);

  Arm64Machine& machine_;
  std::uint32_t vp_;
  unicorn::UcHandle uc_;
  UnicornArm64Registers regs_;
  ExceptionReader exceptions_;
  devices::InterruptLine& line_;
  unicorn::SliceControl slice_;

  bool halted_ = false;
  bool exited_ = false;
  bool take_irq_now_ = false;  // the block hook stopped to take an IRQ
  bool restart_ = false;       // a hook stopped to re-enter (the monitor page moved)
  std::optional<std::string> fault_;
  std::atomic<bool> kicked_{false};     // a request arrived since the slice began
  std::atomic<bool> irq_check_{false};  // the line may assert: look at block boundaries
  unicorn::CodeInvalidations invalidations_;
  unicorn::MonitorTriggerWatch monitor_watch_;
  replay::GuestCpuObserver* observer_;  // may be null: recorder and timeline
  VirtPlatform* virt_;                  // the virt platform's devices; null on bare
  bool powered_off_;                    // virt: waiting for PSCI CPU_ON
  const bool other_vps_;                // another VP may send this one a TLB flush
};

}  // namespace softsynic::emu::arm64
