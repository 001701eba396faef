// Arm64Engine: the Unicorn ARM64 CPU of one VP; see arm64_engine.h.
#include "emu/arm64/arm64_engine.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "devices/arm64/interrupt_line.h"
#include "devices/arm64/irq_entry.h"
#include "emu/arm64/arm64_machine.h"
#include "emu/arm64/arm64_paging.h"
#include "emu/arm64/platform.h"
#include "emu/arm64/unicorn_arm64_internals.h"
#include "emu/debug_devices.h"
#include "emu/replay/guest_cpu_observer.h"
#include "synic/defs/hypercall.h"
#include "synic/guest_memory.h"
#include "synic/timers/synthetic_timers.h"

namespace softsynic::emu::arm64 {
namespace {

// Unicorn's exception numbers (UC_HOOK_INTR intno) for AArch64.
constexpr std::uint32_t kExcpUdef = 1;
constexpr std::uint32_t kExcpSvc = 2;
constexpr std::uint32_t kExcpPrefetchAbort = 3;
constexpr std::uint32_t kExcpDataAbort = 4;
constexpr std::uint32_t kExcpBkpt = 7;
constexpr std::uint32_t kExcpHvc = 11;
constexpr std::uint32_t kExcpSmc = 13;

// Instruction encodings.
constexpr std::uint32_t kWfi = 0xD503'207F;
constexpr std::uint32_t kHvcMask = 0xFFE0'001F;
constexpr std::uint32_t kHvcBits = 0xD400'0002;
constexpr std::uint32_t kSystemMask = 0xFFC0'0000;  // MRS/MSR/SYS: 1101 0101 00xx
constexpr std::uint32_t kSystemBits = 0xD500'0000;
constexpr std::uint64_t kInstructionSize = 4;

constexpr devices::gic::SysRegEncoding kMpidr{3, 0, 0, 0, 5};
constexpr std::uint64_t kSctlrM = 1;  // SCTLR_EL1.M: stage 1 translation on

std::uint64_t sctlr_el1(const UnicornArm64Registers& regs) { return regs.get_sysreg(3, 0, 1, 0, 0); }

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return buf;
}

std::string sysreg_name(const uc_arm64_cp_reg& cp) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "S%u_%u_C%u_C%u_%u", cp.op0, cp.op1, cp.crn, cp.crm, cp.op2);
  return buf;
}

std::string decoded_sysreg_name(std::uint32_t word) {
  // MRS/MSR fields: op0 = 2 + bit 19, op1 bits 16-18, CRn 12-15, CRm 8-11,
  // op2 5-7.
  uc_arm64_cp_reg cp{};
  cp.op0 = 2 + ((word >> 19) & 1);
  cp.op1 = (word >> 16) & 7;
  cp.crn = (word >> 12) & 0xF;
  cp.crm = (word >> 8) & 0xF;
  cp.op2 = (word >> 5) & 7;
  return sysreg_name(cp);
}

}  // namespace

// Unicorn calls these with the engine as user data.
struct Arm64Engine::Hooks {
  static Arm64Engine& self(void* user) { return *static_cast<Arm64Engine*>(user); }

  static void block(uc_engine*, std::uint64_t address, std::uint32_t, void* user) { self(user).on_block(address); }
  static void intr(uc_engine*, std::uint32_t intno, void* user) { self(user).on_exception(intno); }
  static std::uint32_t mrs(uc_engine*, uc_arm64_reg rt, const uc_arm64_cp_reg* cp, void* user) {
    return self(user).on_sysreg(rt, *cp, true) ? 1 : 0;
  }
  static std::uint32_t sys(uc_engine*, uc_arm64_reg, const uc_arm64_cp_reg* cp, void* user) {
    self(user).on_sys(*cp);
    return 0;  // the CPU model still runs it (its own TLB, its no-op cache operations)
  }
  static std::uint32_t msr(uc_engine*, uc_arm64_reg rt, const uc_arm64_cp_reg* cp, void* user) {
    return self(user).on_sysreg(rt, *cp, false) ? 1 : 0;
  }
  static bool unmapped(uc_engine*, uc_mem_type type, std::uint64_t address, int size, std::int64_t, void* user) {
    const char* kind = type == UC_MEM_FETCH_UNMAPPED   ? "fetch from"
                       : type == UC_MEM_WRITE_UNMAPPED ? "write to"
                                                       : "read from";
    self(user).fatal(std::string("unmapped ") + kind + " " + hex(address) + " (" + std::to_string(size) + " bytes)");
    return false;
  }
  static std::uint64_t debug_read(uc_engine*, std::uint64_t, unsigned, void*) { return 0; }
  static void debug_write(uc_engine* uc, std::uint64_t offset, unsigned, std::uint64_t value, void* user) {
    Arm64Engine& e = self(user);
    EngineHost& host = *e.machine_.config().host;
    if (offset == kArm64ConsoleOffset) {
      host.console_write(e.vp_, static_cast<char>(value & 0xFF));
    } else if (offset == kArm64ExitOffset) {
      e.exited_ = true;
      host.guest_exit(e.vp_, static_cast<std::uint32_t>(value));
      uc_emu_stop(uc);
    }
  }
  static std::uint64_t gicd_read(uc_engine*, std::uint64_t offset, unsigned size, void* user) {
    Arm64Engine& e = self(user);
    return e.virt_->distributor().mmio_read(e.vp_, offset, size);
  }
  static void gicd_write(uc_engine*, std::uint64_t offset, unsigned size, std::uint64_t value, void* user) {
    Arm64Engine& e = self(user);
    e.virt_->distributor().mmio_write(e.vp_, offset, size, value);
    e.irq_check_.store(true, std::memory_order_release);
  }
  static std::uint64_t uart_read(uc_engine*, std::uint64_t offset, unsigned size, void* user) {
    Arm64Engine& e = self(user);
    return e.virt_->uart().mmio_read(e.vp_, offset, size);
  }
  static void uart_write(uc_engine*, std::uint64_t offset, unsigned size, std::uint64_t value, void* user) {
    Arm64Engine& e = self(user);
    e.virt_->uart().mmio_write(e.vp_, offset, size, value);
  }
  static std::uint64_t gicr_read(uc_engine*, std::uint64_t offset, unsigned size, void* user) {
    return self(user).machine_.gicr_read(offset, size);
  }
  static void gicr_write(uc_engine*, std::uint64_t offset, unsigned size, std::uint64_t value, void* user) {
    Arm64Engine& e = self(user);
    e.machine_.gicr_write(offset, size, value);
    // Enables and priorities change what the line asserts.
    e.irq_check_.store(true, std::memory_order_release);
  }
};

Arm64Engine::Arm64Engine(Arm64Machine& machine, const EngineConfig& config)
    : machine_(machine),
      vp_(config.vp_index),
      uc_(unicorn::open_engine(UC_ARCH_ARM64, UC_MODE_ARM)),
      regs_(uc_.get()),
      line_(machine.line(config.vp_index)),
      monitor_watch_(machine.config().monitor, machine.config().monitor_pages, machine.config().ram,
                     [this] { machine_.config().host->deadline_armed(vp_); }),
      observer_(machine.config().cpu_observer),
      virt_(machine.virt()),
      powered_off_(config.start == StartMode::powered_off),
      other_vps_(machine.config().vp_count > 1) {
  unicorn::check(uc_ctl_set_cpu_model(uc_.get(), UC_CPU_ARM64_A72), "ARM64 CPU model");
  unicorn::map_guest_ram(uc_.get(), *machine_.config().ram);
  load_boot_state(config);
  install_hooks();
  attach_debug(uc_.get(), slice_, [this] { return regs_.pc(); }, *machine_.config().ram, *machine_.config().host, vp_);
  line_.set_kick([this] {
    kicked_.store(true, std::memory_order_release);
    irq_check_.store(true, std::memory_order_release);
    machine_.config().host->wake(vp_);
  });
}

Arm64Engine::~Arm64Engine() { line_.set_kick({}); }

void Arm64Engine::load_boot_state(const EngineConfig& config) {
  prepare_non_secure_el1(regs_);
  regs_.set_pc(config.entry);
  regs_.set_sp(config.stack_top);
  regs_.set_x(0, vp_);
  regs_.set_x(1, machine_.config().vp_count);
  if (config.start == StartMode::arm64_linux) {
    // The arm64 booting rules: X0 the DTB, X1-X3 zero, EL1h with D, A, I
    // and F masked; the MMU is off in a fresh engine.
    regs_.set_x(0, config.arm64_x0);
    for (unsigned n = 1; n <= 3; ++n) regs_.set_x(n, 0);
    regs_.set_pstate(devices::pstate::kEl1h | devices::pstate::kDaif);
  }
}

bool Arm64Engine::power_on_if_started() {
  if (!powered_off_) return true;
  auto start = virt_ != nullptr ? virt_->take_start(vp_) : std::nullopt;
  if (!start) return false;
  // PSCI CPU_ON: the entry at EL1h with D, A, I and F masked, X0 the
  // context id; the MMU is still off in this VP's fresh engine. The stack
  // pointer and X1 keep the boot contract's values (PSCI leaves them
  // UNKNOWN).
  powered_off_ = false;
  halted_ = false;
  regs_.set_pc(start->entry);
  regs_.set_x(0, start->context_id);
  regs_.set_pstate(devices::pstate::kEl1h | devices::pstate::kDaif);
  return true;
}

void Arm64Engine::install_hooks() {
  uc_engine* uc = uc_.get();
  uc_hook h;
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&Hooks::block), this, 1, 0), "block hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&Hooks::intr), this, 1, 0),
                 "exception hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Hooks::mrs), this, 1, 0, UC_ARM64_INS_MRS),
                 "MRS hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Hooks::msr), this, 1, 0, UC_ARM64_INS_MSR),
                 "MSR hook");
  if (machine_.config().vp_count > 1 || virt_ != nullptr) {
    unicorn::check(
        uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Hooks::sys), this, 1, 0, UC_ARM64_INS_SYS),
        "SYS hook");
  }
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED, reinterpret_cast<void*>(&Hooks::unmapped), this, 1, 0),
                 "unmapped-memory hook");
  unicorn::check(
      uc_mmio_map(uc, kArm64DebugMmioBase, kArm64DebugMmioSize, &Hooks::debug_read, this, &Hooks::debug_write, this),
      "debug MMIO");
  unicorn::check(uc_mmio_map(uc, kGicrBase, (machine_.gicr_size() + 0xFFF) & ~std::uint64_t{0xFFF}, &Hooks::gicr_read,
                             this, &Hooks::gicr_write, this),
                 "redistributor MMIO");
  if (virt_ != nullptr) {
    unicorn::check(uc_mmio_map(uc, kGicdBase, kGicdSize, &Hooks::gicd_read, this, &Hooks::gicd_write, this),
                   "distributor MMIO");
    unicorn::check(uc_mmio_map(uc, kPl011Base, kPl011Size, &Hooks::uart_read, this, &Hooks::uart_write, this),
                   "PL011 MMIO");
  }
}

Arm64PagingState Arm64Engine::paging_state() const {
  // SCTLR_EL1 (3,0,1,0,0), TCR_EL1 (3,0,2,0,2), TTBR0/1_EL1 (3,0,2,0,0/1).
  return {regs_.get_sysreg(3, 0, 1, 0, 0), regs_.get_sysreg(3, 0, 2, 0, 2), regs_.get_sysreg(3, 0, 2, 0, 0),
          regs_.get_sysreg(3, 0, 2, 0, 1)};
}

std::optional<std::uint32_t> Arm64Engine::instruction_at(std::uint64_t address) const {
  // Instructions are 4-byte aligned, so one never straddles a page.
  const auto pa = arm64_translate(*machine_.config().ram, paging_state(), address);
  if (!pa) return std::nullopt;
  const std::byte* p = machine_.config().ram->host_pointer(*pa, kInstructionSize);
  if (p == nullptr) return std::nullopt;
  std::uint32_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

void Arm64Engine::on_block(std::uint64_t address) {
  // The previous block's stores have landed: a new monitor trigger?
  monitor_watch_.check();
  if (slice_.on_block()) {
    slice_.stop_before_block(uc_.get(), address);
    return;
  }
  // Another VP's broadcast TLBI (threaded runs: it may land mid-slice).
  if (other_vps_ && machine_.tlb_flush_pending(vp_)) {
    restart_ = true;
    slice_.stop_before_block(uc_.get(), address);
    return;
  }
  // Clear the flag before looking, so a request that lands meanwhile sets
  // it again rather than being lost. The plain load keeps the common case
  // (nothing to look at) free of a read-modify-write.
  if (!irq_check_.load(std::memory_order_acquire) || !irq_check_.exchange(false, std::memory_order_acq_rel)) return;
  if (!line_.irq_asserted()) return;
  irq_check_.store(true, std::memory_order_release);  // asserted: keep looking until taken
  if ((regs_.pstate() & devices::pstate::kI) != 0) return;
  take_irq_now_ = true;
  slice_.stop_before_block(uc_.get(), address);
}

void Arm64Engine::on_exception(std::uint32_t intno) {
  switch (intno) {
    case kExcpHvc:
      emulate_hvc();
      return;
    case kExcpUdef:
    case kExcpSvc:
    case kExcpPrefetchAbort:
    case kExcpDataAbort:
    case kExcpBkpt:
      take_sync_exception(intno);
      return;
    case kExcpSmc:
      fatal("SMC: no secure monitor");
      return;
    default:
      fatal("CPU exception " + std::to_string(intno));
      return;
  }
}

std::string Arm64Engine::describe_exception(std::uint32_t intno) const {
  switch (intno) {
    case kExcpUdef: {
      // By physical address: exact while the MMU is off, a hint otherwise.
      auto word = instruction_at(regs_.pc());
      std::string what = "undefined instruction";
      if (word && (*word & kSystemMask) == kSystemBits) what += " (system register " + decoded_sysreg_name(*word) + ")";
      return what + (word ? " " + hex(*word) : std::string());
    }
    case kExcpSvc:
      return "SVC";
    case kExcpPrefetchAbort:
      return "prefetch abort";
    case kExcpDataAbort:
      return "data abort";
    case kExcpBkpt:
      return "BRK";
    default:
      return "CPU exception " + std::to_string(intno);
  }
}

void Arm64Engine::take_sync_exception(std::uint32_t intno) {
  const UnicornArm64Layout& layout = arm64_internals();
  if (!layout.ok) {
    refuse_exceptions(describe_exception(intno));
    return;
  }
  const RaisedException raised = exceptions_.read(uc_.get());
  if (raised.target_el != 1) {
    fatal(describe_exception(intno) + " routed to EL" + std::to_string(raised.target_el) + " (not supported)");
    return;
  }
  // Unicorn left the PC at the preferred return address (past an SVC, at
  // the faulting instruction otherwise).
  const auto entry = devices::arm64_take_sync(regs_, {raised.syndrome, raised.vaddress});
  if (entry.status != devices::Arm64EntryStatus::taken)
    fatal(describe_exception(intno) + " (ESR " + hex(raised.syndrome) + ") in an unsupported mode (PSTATE " +
          hex(regs_.pstate()) + ")");
}

void Arm64Engine::refuse_exceptions(const std::string& what) {
  fatal(what + " refused: synchronous exceptions and IRQs from EL0 are not supported on this Unicorn library, the "
               "ARM64 exception self-test failed (" +
        arm64_internals().failure + ")");
}

std::optional<std::uint16_t> Arm64Engine::hvc_immediate() {
  // The PC is already past the HVC. Its word is read back through the
  // guest's tables (a few RAM reads); the syndrome (a context save of
  // about 12 KiB) is the fallback for a mapping the walk does not support.
  const std::uint64_t pc = regs_.pc();
  auto word = pc >= kInstructionSize ? instruction_at(pc - kInstructionSize) : std::nullopt;
  if (word && (*word & kHvcMask) == kHvcBits) return static_cast<std::uint16_t>((*word >> 5) & 0xFFFF);
  if ((sctlr_el1(regs_) & kSctlrM) == 0 || !arm64_internals().ok) {
    fatal("HVC exception without an HVC instruction before " + hex(pc));
    return std::nullopt;
  }
  const std::uint32_t syndrome = exceptions_.read(uc_.get()).syndrome;
  if (devices::esr::ec(syndrome) != devices::esr::kEcHvc64) {
    fatal("HVC exception with syndrome " + hex(syndrome));
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(syndrome & 0xFFFF);
}

void Arm64Engine::emulate_hvc() {
  const std::optional<std::uint16_t> immediate = hvc_immediate();
  if (!immediate) return;
  const std::uint16_t imm = *immediate;
  // HVC #0 (SMCCC) carries the control word in X1, HVC #1 in X0.
  const HypercallControl control(regs_.get_x(imm == 0 ? 1 : 0));
  Arm64RegisterFile before;
  if (observer_) {
    observer_->before_crossing(vp_, 0);
    for (unsigned n = 0; n < kArm64XCount; ++n) before.x[n] = regs_.get_x(n);
  }
  if (virt_ != nullptr) virt_->set_calling_vp(vp_);
  HypercallOutcome outcome = machine_.hypervisor().hvc(vp_, 0, imm, regs_);
  if (virt_ != nullptr && virt_->system_off_requested()) {
    // PSCI SYSTEM_OFF/RESET: the platform told the host; this VP stops.
    exited_ = true;
    uc_emu_stop(uc_.get());
    return;
  }
  if (observer_) observer_->on_arm64_hvc(vp_, 0, imm, before, regs_, outcome);
  // A timer register write may have armed a deadline before this slice's
  // end (any SetVpRegisters may hold one).
  if (machine_.config().timers != nullptr && control.code() == HvCallCode::set_vp_registers) {
    machine_.config().host->deadline_armed(vp_);
  }
  if (outcome.action != HypercallAction::completed) {
    fatal("HVC #" + std::to_string(imm) + " is not a hypercall");
    return;
  }
}

bool Arm64Engine::on_sysreg(int rt, const uc_arm64_cp_reg& cp, bool is_read) {
  const devices::gic::SysRegEncoding enc{static_cast<std::uint8_t>(cp.op0), static_cast<std::uint8_t>(cp.op1),
                                         static_cast<std::uint8_t>(cp.crn), static_cast<std::uint8_t>(cp.crm),
                                         static_cast<std::uint8_t>(cp.op2)};
  devices::SysRegResult result = devices::SysRegResult::not_mine;
  if (virt_ != nullptr) {
    // The virtual timer's registers; the rest fall through.
    devices::GenericTimer& timer = virt_->timer(vp_);
    const std::uint64_t now = machine_.config().time->now();
    if (is_read) {
      std::uint64_t value = 0;
      result = timer.read_sysreg(enc, now, value);
      if (result == devices::SysRegResult::ok) regs_.set(rt, value);
    } else {
      result = timer.write_sysreg(enc, now, cp.val);
      if (result == devices::SysRegResult::ok) {
        // A new deadline may fall in this slice; the output may have changed.
        machine_.config().host->deadline_armed(vp_);
        irq_check_.store(true, std::memory_order_release);
      }
    }
  }
  if (result != devices::SysRegResult::not_mine) {
    // answered by the timer
  } else if (!is_read && enc == devices::gic::icc::kSgi1r) {
    machine_.send_sgi(vp_, cp.val);
    result = devices::SysRegResult::ok;
  } else if (is_read && enc == kMpidr) {
    regs_.set(rt, mpidr_for_vp(vp_));
    result = devices::SysRegResult::ok;
  } else if (is_read) {
    // Acknowledging (IAR1) is where the guest takes the interrupt: the
    // recorder's expect_interrupt, as the replay machine acknowledges.
    const bool ack = enc == devices::gic::icc::kIar1 && observer_ != nullptr;
    if (ack) observer_->before_crossing(vp_, 0);
    std::uint64_t value = 0;
    result = line_.read_sysreg(enc, value);
    if (result == devices::SysRegResult::ok) regs_.set(rt, value);
    if (ack && result == devices::SysRegResult::ok && value != devices::gic::kSpuriousIntid)
      observer_->on_interrupt_taken(vp_, 0, static_cast<std::uint32_t>(value));
  } else {
    const bool eoi = enc == devices::gic::icc::kEoir1 && observer_ != nullptr;
    if (eoi) observer_->before_crossing(vp_, 0);
    result = line_.write_sysreg(enc, cp.val);
    if (eoi && result == devices::SysRegResult::ok) observer_->on_eoi(vp_, 0);
    // EOI, PMR and group enables change what the line asserts.
    if (result == devices::SysRegResult::ok) irq_check_.store(true, std::memory_order_release);
  }
  switch (result) {
    case devices::SysRegResult::ok:
      // The model has no such register: skip the instruction ourselves.
      regs_.set_pc(regs_.pc() + kInstructionSize);
      return true;
    case devices::SysRegResult::undefined:
      fatal(std::string("undefined ") + (is_read ? "read of " : "write to ") + sysreg_name(cp));
      return true;
    case devices::SysRegResult::not_mine:
    default:
      return false;  // the CPU model's own register
  }
}

void Arm64Engine::on_sys(const uc_arm64_cp_reg& cp) {
  // SYS encodings (Arm ARM C5.3, "A64 System instructions for cache
  // maintenance / TLB maintenance"): op0 1; TLBI is CRn 8, IC is CRn 7.
  if (cp.op0 != 1) return;
  if (cp.crn == 8) {
    // CRm 1 (outer shareable), 2 (range, inner shareable) and 3 (inner
    // shareable) reach every PE of the domain; the others only this one.
    if (cp.crm >= 1 && cp.crm <= 3) machine_.broadcast_tlb_flush(vp_);
    return;
  }
  if (cp.crn == 7) {
    // IC IALLUIS (op1 0, CRm 1, op2 0), IC IALLU (0, 5, 0), IC IVAU (3, 5,
    // 1): instruction fetch must see what was written before. Every VP's
    // engine drops its translations before it runs again (IVAU's line is
    // in the inner shareable domain too); Unicorn runs these as no-ops.
    const bool iallu = cp.op1 == 0 && cp.op2 == 0 && (cp.crm == 1 || cp.crm == 5);
    const bool ivau = cp.op1 == 3 && cp.crm == 5 && cp.op2 == 1;
    if (iallu || ivau) machine_.config().host->code_written(vp_, 0, ~std::uint64_t{0});
  }
}

void Arm64Engine::fatal(std::string message) {
  if (!fault_) fault_ = std::move(message) + " (pc " + hex(regs_.pc()) + ")";
  uc_emu_stop(uc_.get());
}

bool Arm64Engine::take_interrupt() {
  if (fault_ || exited_ || !line_.irq_asserted()) return false;
  // The entry from EL0 banks SP and changes the EL: proved by the self-test.
  if ((regs_.pstate() & devices::pstate::kModeMask) == devices::pstate::kEl0t && !arm64_internals().ok &&
      (regs_.pstate() & devices::pstate::kI) == 0) {
    refuse_exceptions("IRQ taken from EL0");
    return false;
  }
  auto entry = devices::arm64_take_irq(regs_);
  switch (entry.status) {
    case devices::Arm64EntryStatus::taken:
      halted_ = false;
      return true;
    case devices::Arm64EntryStatus::masked:
      return false;
    case devices::Arm64EntryStatus::unsupported:
    default:
      fatal("IRQ pending in an unsupported mode (PSTATE " + hex(regs_.pstate()) + ")");
      return false;
  }
}

SliceResult Arm64Engine::run_slice(std::uint64_t block_budget) {
  SliceResult result;
  slice_.begin(block_budget);
  slice_.take_yield();
  kicked_.store(false, std::memory_order_release);
  auto finish = [&](StopReason reason) {
    result.reason = reason;
    result.blocks = slice_.blocks();
    if (reason == StopReason::guest_fault) result.fault = fault_.value_or("guest fault");
    return result;
  };
  if (fault_) return finish(StopReason::guest_fault);
  if (exited_ || slice_.stop_requested()) return finish(StopReason::exit_requested);
  if (!power_on_if_started()) return finish(StopReason::halted);
  invalidations_.apply(uc_.get());
  monitor_watch_.slice_start();
  // Reference time moved since the last slice: the timer's level follows.
  if (virt_ != nullptr) virt_->timer(vp_).update(machine_.config().time->now());
  // WFI completes when IRQ is asserted, masked or not.
  if (halted_ && devices::arm64_wfi_should_wake(line_)) halted_ = false;
  if (halted_) return finish(StopReason::halted);
  take_interrupt();
  irq_check_.store(true, std::memory_order_release);
  if (fault_) return finish(StopReason::guest_fault);

  std::uint64_t pc = regs_.pc();
  for (;;) {
    take_irq_now_ = false;
    restart_ = false;
    if (machine_.take_tlb_flush(vp_)) uc_ctl_flush_tlb(uc_.get());
    debug_hooks().enter();
    uc_err err = uc_emu_start(uc_.get(), pc, 0, 0, 0);
    monitor_watch_.check();
    auto resume = slice_.take_resume();
    if (resume) regs_.set_pc(*resume);  // the PC may be stale after a stop from a block hook
    if (fault_) return finish(StopReason::guest_fault);
    if (exited_ || slice_.stop_requested()) return finish(StopReason::exit_requested);
    if (auto stop = debug_hooks().take_stop()) return finish(*stop);
    if (err != UC_ERR_OK) {
      fault_ = std::string("CPU error: ") + uc_strerror(err) + " (pc " + hex(regs_.pc()) + ")";
      return finish(StopReason::guest_fault);
    }
    if (resume) {
      if (!take_irq_now_ && !restart_) return finish(StopReason::slice_budget);
      take_interrupt();
      if (fault_) return finish(StopReason::guest_fault);
      pc = regs_.pc();
      continue;
    }
    // No stop of ours: the CPU executed WFI (the PC is past it).
    pc = regs_.pc();
    auto last = pc >= kInstructionSize ? instruction_at(pc - kInstructionSize) : std::nullopt;
    if (!last || *last != kWfi) {
      fault_ = "CPU stopped without a reason (pc " + hex(pc) + ")";
      return finish(StopReason::guest_fault);
    }
    if (!devices::arm64_wfi_should_wake(line_)) {
      halted_ = true;
      // A step onto WFI ends there, with the VP halted.
      return finish(debug_hooks().stepping() ? StopReason::step : StopReason::halted);
    }
    take_interrupt();
    if (fault_) return finish(StopReason::guest_fault);
    if (slice_.budget_spent()) return finish(StopReason::slice_budget);
    pc = regs_.pc();
  }
}

std::optional<std::uint64_t> Arm64Engine::next_deadline() const {
  SyntheticTimers* timers = machine_.config().timers;
  std::optional<std::uint64_t> deadline = timers != nullptr ? timers->vp(vp_).next_deadline() : std::nullopt;
  if (virt_ != nullptr && !powered_off_) {
    // Once the timer's output is asserted it has nothing more to wake the
    // VP for until the guest writes its registers: a deadline in the past
    // would have the runner fire it again and again (the guest may keep
    // interrupts masked for a while, as Linux's stop_machine does).
    devices::GenericTimer& timer = virt_->timer(vp_);
    if (auto at = timer.next_deadline(); at && !timer.output_level() && (!deadline || *at < *deadline)) deadline = at;
  }
  return deadline;
}

void Arm64Engine::fire_due(std::uint64_t now) {
  if (virt_ == nullptr) return;
  virt_->timer(vp_).update(now);
  irq_check_.store(true, std::memory_order_release);
}

bool Arm64Engine::interrupt_pending() const {
  if (powered_off_) return virt_ != nullptr && virt_->start_pending(vp_);
  return kicked_.load(std::memory_order_acquire);
}

RegisterSnapshot Arm64Engine::registers() const {
  RegisterSnapshot snap;
  snap.registers.emplace_back("pc", regs_.pc());
  snap.registers.emplace_back("sp", regs_.sp());
  snap.registers.emplace_back("pstate", regs_.pstate());
  for (unsigned n : {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 30u})
    snap.registers.emplace_back("x" + std::to_string(n), regs_.get_x(n));
  snap.registers.emplace_back("elr_el1", regs_.elr_el1());
  snap.registers.emplace_back("vbar_el1", regs_.vbar_el1());
  return snap;
}

// ---- VpDebug ----

namespace {

constexpr unsigned kGdbSp = 31;
constexpr unsigned kGdbPc = 32;
constexpr unsigned kGdbCpsr = 33;

int gdb_uc_register(unsigned regno) {
  if (regno <= 28) return UC_ARM64_REG_X0 + static_cast<int>(regno);
  switch (regno) {
    case 29:
      return UC_ARM64_REG_X29;
    case 30:
      return UC_ARM64_REG_X30;
    case kGdbSp:
      return UC_ARM64_REG_SP;
    case kGdbPc:
      return UC_ARM64_REG_PC;
    case kGdbCpsr:
      return UC_ARM64_REG_PSTATE;
    default:
      return UC_ARM64_REG_INVALID;
  }
}

}  // namespace

bool Arm64Engine::read_register(unsigned regno, std::span<std::byte> value) {
  const int reg = gdb_uc_register(regno);
  if (reg == UC_ARM64_REG_INVALID) return false;
  const std::uint64_t v = regs_.get(reg);
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<std::byte>(i < 8 ? v >> (8 * i) : 0);
  return true;
}

bool Arm64Engine::write_register(unsigned regno, std::span<const std::byte> value) {
  const int reg = gdb_uc_register(regno);
  if (reg == UC_ARM64_REG_INVALID) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < value.size() && i < 8; ++i) v |= std::to_integer<std::uint64_t>(value[i]) << (8 * i);
  regs_.set(reg, v);
  return true;
}

std::optional<std::uint64_t> Arm64Engine::debug_page(gdb::AddressSpace space, std::uint64_t page) const {
  if (space == gdb::AddressSpace::physical) return page;
  return arm64_translate(*machine_.config().ram, paging_state(), page);
}


}  // namespace softsynic::emu::arm64
