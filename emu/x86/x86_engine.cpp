// X86Engine: the Unicorn x86-64 CPU of one VP; see x86_engine.h.
#include "emu/x86/x86_engine.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "devices/apic/local_apic.h"
#include "devices/x86_interrupt_entry.h"
#include "emu/debug_devices.h"
#include "emu/replay/guest_cpu_observer.h"
#include "emu/x86/msr_sites.h"
#include "emu/x86/x86_boot.h"
#include "emu/x86/x86_machine.h"
#include "synic/defs/hypercall.h"
#include "synic/guest_memory.h"
#include "synic/timers/stimer_registers.h"
#include "synic/timers/synthetic_timers.h"

namespace softsynic::emu::x86 {
namespace {

constexpr std::uint8_t kHltOpcode = 0xF4;
constexpr std::uint8_t kInt3Opcode = 0xCC;
constexpr std::uint8_t kIntOpcode = 0xCD;
constexpr std::uint8_t kStiOpcode = 0xFB;
constexpr std::uint8_t kInvalidOpcodeVector = 6;
constexpr std::uint64_t kHypercallRetOffset = 3;  // `vmcall; ret`: the ret
constexpr std::uint64_t kXapicSize = 0x1000;
constexpr std::uint64_t kXapicEoiOffset = 0xB0;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return buf;
}

bool is_vmcall(const std::uint8_t* b) { return b[0] == 0x0F && b[1] == 0x01 && (b[2] == 0xC1 || b[2] == 0xD9); }

}  // namespace

// Unicorn calls these with the engine as user data.
struct X86Engine::Hooks {
  static X86Engine& self(void* user) { return *static_cast<X86Engine*>(user); }

  static void block(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user) {
    X86Engine& e = self(user);
    if (!e.long_mode_) {
      // The start-up stub runs to its end: its segments are not ones a
      // resume could rebuild.
      if (e.in_firmware(address)) return;
      e.track_mode();
    }
    // Stores to the monitor page in the previous block have landed.
    e.monitor_hook_.flush();
    if (e.slice_.on_block()) {
      e.slice_.stop_before_block(uc, address - e.cs_base_);
      return;
    }
    if (e.irq_requested_.load(std::memory_order_relaxed) &&
        e.irq_requested_.exchange(false, std::memory_order_acquire))
      e.irq_check_ = true;
    if (e.irq_check_ && e.interrupt_window_at(address)) {
      e.take_irq_now_ = true;
      e.slice_.stop_before_block(uc, address - e.cs_base_);
      return;
    }
    e.scan_block(address, size);
  }
  static void msr_site(uc_engine*, std::uint64_t address, std::uint32_t, void* user) { self(user).emulate_msr(address); }
  static void hypercall_page(uc_engine*, std::uint64_t address, std::uint32_t, void* user) {
    self(user).emulate_hypercall(address + kHypercallRetOffset);
  }
  static int cpuid(uc_engine*, void* user) {
    X86Engine& e = self(user);
    auto leaf = static_cast<std::uint32_t>(e.regs_.get(X86Reg::rax));
    auto subleaf = static_cast<std::uint32_t>(e.regs_.get(X86Reg::rcx));
    auto r = e.machine_.hypervisor().cpuid(leaf, subleaf);
    if (!r) return 0;  // Unicorn's own leaf
    e.regs_.set(X86Reg::rax, r->eax);
    e.regs_.set(X86Reg::rbx, r->ebx);
    e.regs_.set(X86Reg::rcx, r->ecx);
    e.regs_.set(X86Reg::rdx, r->edx);
    return 1;
  }
  static void out(uc_engine* uc, std::uint32_t port, int size, std::uint32_t value, void* user) {
    X86Engine& e = self(user);
    e.machine_.io().write(e.vp_, static_cast<std::uint16_t>(port), static_cast<unsigned>(size), value);
    // Both platforms' exit devices sit at 0xF4.
    if (port == kX86ExitPort) {
      e.exited_ = true;
      uc_emu_stop(uc);
    }
  }
  static std::uint32_t in(uc_engine*, std::uint32_t port, int size, void* user) {
    X86Engine& e = self(user);
    return e.machine_.io().read(e.vp_, static_cast<std::uint16_t>(port), static_cast<unsigned>(size));
  }
  static bool invalid(uc_engine*, void* user) { return self(user).handle_invalid_opcode(); }
  static void intr(uc_engine*, std::uint32_t intno, void* user) { self(user).handle_cpu_exception(intno); }
  static bool unmapped(uc_engine*, uc_mem_type type, std::uint64_t address, int size, std::int64_t, void* user) {
    X86Engine& e = self(user);
    if (e.alias_linear_page(address)) return true;  // mapped by the guest's page tables: retry
    const char* kind = type == UC_MEM_FETCH_UNMAPPED ? "fetch from" : type == UC_MEM_WRITE_UNMAPPED ? "write to" : "read from";
    e.fatal(std::string("unmapped ") + kind + " " + hex(address) + " (" + std::to_string(size) + " bytes)");
    return false;
  }
  static std::uint64_t apic_read(uc_engine*, std::uint64_t offset, unsigned size, void* user) {
    X86Engine& e = self(user);
    std::uint32_t reg = e.apic_.mmio_read(static_cast<std::uint32_t>(offset & ~std::uint64_t{3}));
    std::uint64_t value = reg >> (8 * (offset & 3));
    return size >= 4 ? value : value & ((std::uint64_t{1} << (8 * size)) - 1);
  }
  static void apic_write(uc_engine*, std::uint64_t offset, unsigned, std::uint64_t value, void* user) {
    X86Engine& e = self(user);
    // Registers are 32-bit at 16-byte strides; narrower writes are ignored
    // by the APIC model's offset rules.
    const bool eoi = offset == kXapicEoiOffset;
    if (eoi && e.observer_) e.observer_->before_crossing(e.vp_, 0);
    e.apic_.mmio_write(static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(value));
    if (eoi && e.observer_) e.observer_->on_eoi(e.vp_, 0);
    // An EOI or TPR write may unmask a pending vector: take it at the next
    // open window (inside a handler IF is clear: ending the slice would
    // only give the turn away).
    e.irq_check_ = true;
  }
};

X86Engine::X86Engine(X86Machine& machine, const EngineConfig& config)
    : machine_(machine),
      vp_(config.vp_index),
      uc_(unicorn::open_engine(UC_ARCH_X86, UC_MODE_64)),
      regs_(uc_.get()),
      apic_(machine.apic(config.vp_index)),
      observer_(machine.config().cpu_observer),
      monitor_hook_(machine.config().monitor, machine.config().monitor_pages, machine.config().ram,
                    [this] { machine_.config().host->deadline_armed(vp_); }) {
  unicorn::map_guest_ram(uc_.get(), *machine_.config().ram);
  switch (config.start) {
    case StartMode::multiboot:
    case StartMode::wait_for_startup:
      firmware_ = std::make_unique<PcFirmware>();
      firmware_->map(uc_.get());
      set_long_mode(false);
      waiting_for_sipi_ = config.start == StartMode::wait_for_startup;
      if (!waiting_for_sipi_) {
        PcStart start;
        start.entry = static_cast<std::uint32_t>(config.entry);
        start.eax = kMultibootBootMagic;
        start.ebx = config.multiboot_info;
        firmware_->prepare(uc_.get(), start);
      }
      break;
    case StartMode::boot_contract:
    default:
      load_boot_state(uc_.get(), config.entry, config.stack_top, vp_, machine_.config().vp_count);
      break;
  }
  install_hooks();
  apic_.set_kick([this] {
    kicked_.store(true, std::memory_order_release);
    // Not a yield: a request the CPU cannot take yet (IF clear in a
    // handler, a vector of the in-service class) would end the slice and
    // hand the VP's turn to the others while its own work is unfinished.
    irq_requested_.store(true, std::memory_order_release);
    machine_.config().host->wake(vp_);
  });
}

X86Engine::~X86Engine() = default;

void X86Engine::install_hooks() {
  uc_engine* uc = uc_.get();
  uc_hook h;
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&Hooks::block), this, 1, 0), "block hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Hooks::cpuid), this, 1, 0, UC_X86_INS_CPUID),
                 "cpuid hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Hooks::out), this, 1, 0, UC_X86_INS_OUT),
                 "out hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Hooks::in), this, 1, 0, UC_X86_INS_IN),
                 "in hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INSN_INVALID, reinterpret_cast<void*>(&Hooks::invalid), this, 1, 0),
                 "invalid-instruction hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&Hooks::intr), this, 1, 0), "interrupt hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED, reinterpret_cast<void*>(&Hooks::unmapped), this, 1, 0),
                 "unmapped-memory hook");
  unicorn::check(uc_mmio_map(uc, kXapicBase, kXapicSize, &Hooks::apic_read, this, &Hooks::apic_write, this),
                 "xAPIC MMIO");
}

const std::uint8_t* X86Engine::code_bytes(std::uint64_t address, std::uint64_t size) const {
  if (in_firmware(address)) return firmware_->bytes(address, size);
  // Identity paging: a linear code address is its guest physical address.
  return reinterpret_cast<const std::uint8_t*>(machine_.config().ram->host_pointer(address, size));
}

// PC platform, run_slice's start: INIT parks an AP until a SIPI, which
// starts it in real mode at vector << 12 through the ROM. A SIPI to a
// running VP is ignored, as on hardware; so is INIT to the BSP.
void X86Engine::take_startup_events() {
  devices::StartupEvents events = apic_.take_startup_events();
  if (!events) return;
  if (events.init && vp_ != 0) {
    waiting_for_sipi_ = true;
    halted_ = false;
    irq_check_ = false;
  }
  if (events.sipi_vector && waiting_for_sipi_) {
    PcStart start;
    start.mode = PcStart::Mode::real_mode;
    start.cs = static_cast<std::uint16_t>(*events.sipi_vector << 8);
    start.ip = 0;
    firmware_->prepare(uc_.get(), start);
    waiting_for_sipi_ = false;
    set_long_mode(false);
    cs_base_ = 0;
    cs_known_ = false;
  }
}

// Until 64-bit code runs: CS's base, and whether long mode has begun.
void X86Engine::track_mode() {
  const auto selector = static_cast<std::uint16_t>(regs_.read(UC_X86_REG_CS));
  const bool protected_mode = (regs_.read(UC_X86_REG_CR0) & kCr0Pe) != 0;
  // The base changes only when CS is loaded: setting PE keeps real mode's
  // base until the far jump (trampolines run a few instructions that way).
  const bool reloaded = selector != cs_selector_ || !cs_known_;
  cs_selector_ = selector;
  cs_known_ = true;
  if (!protected_mode) {
    cs_base_ = std::uint64_t{selector} << 4;
    return;
  }
  uc_x86_msr efer{kEferMsr, 0};
  uc_reg_read(uc_.get(), UC_X86_REG_MSR, &efer);
  // Same selector, no long mode: the base is unchanged. With long mode on,
  // look anyway: the far jump into 64-bit code may reuse the selector
  // number in a new GDT (kvm-unit-tests does).
  if (!reloaded && (efer.value & kEferLma) == 0) return;
  uc_x86_mmr gdtr{};
  uc_reg_read(uc_.get(), UC_X86_REG_GDTR, &gdtr);
  std::uint64_t descriptor = 0;
  const std::uint64_t at = gdtr.base + (selector & ~7u);
  if (const std::uint8_t* bytes = code_bytes(at, 8)) std::memcpy(&descriptor, bytes, 8);
  if (reloaded) cs_base_ = ((descriptor >> 16) & 0xFF'FFFF) | (((descriptor >> 56) & 0xFF) << 24);
  const bool code64 = ((descriptor >> 53) & 1) != 0;
  if ((efer.value & kEferLma) != 0 && code64) {
    set_long_mode(true);
    cs_base_ = 0;
  }
}

// The guest's 4-level translation of `linear` (long mode paging only).
std::optional<std::uint64_t> X86Engine::translate(std::uint64_t linear) const {
  constexpr std::uint64_t kPresent = 1;
  constexpr std::uint64_t kLarge = 0x80;
  constexpr std::uint64_t kAddressMask = 0x000F'FFFF'FFFF'F000;
  GuestMemory& ram = *machine_.config().ram;
  std::uint64_t table = regs_.read(UC_X86_REG_CR3) & kAddressMask;
  for (int level = 3; level >= 0; --level) {
    const unsigned shift = 12 + 9 * static_cast<unsigned>(level);
    std::uint64_t entry = 0;
    std::byte bytes[8];
    if (!ram.read(table + 8 * ((linear >> shift) & 511), bytes)) return std::nullopt;
    std::memcpy(&entry, bytes, 8);
    if ((entry & kPresent) == 0) return std::nullopt;
    const std::uint64_t page = std::uint64_t{1} << shift;
    if (level == 0 || ((level == 1 || level == 2) && (entry & kLarge) != 0)) {
      return (entry & kAddressMask & ~(page - 1)) | (linear & (page - 1));
    }
    table = entry & kAddressMask;
  }
  return std::nullopt;
}

// Unicorn looks each access's linear address up in its own memory map, and
// for a page mapped there it reads and writes that mapping's memory. A
// linear page that the guest's tables map to RAM, at a number where RAM is
// not (kernels put code and data high, e.g. at 0xFFFFFFFFFFFFE000), is
// therefore mapped at its linear address onto the same host bytes as its
// physical page: both views then agree. The alias keeps the translation
// it was made with (remapping such a page later is not followed).
bool X86Engine::alias_linear_page(std::uint64_t linear) {
  if (!long_mode_ || (regs_.read(UC_X86_REG_CR0) & kCr0Pg) == 0) return false;
  const std::uint64_t page = linear & ~(kHvPageSize - 1);
  if (aliased_pages_.contains(page)) return false;  // mapped already: a real fault
  auto gpa = translate(page);
  std::byte* host = gpa ? machine_.config().ram->host_pointer(*gpa, kHvPageSize) : nullptr;
  if (host == nullptr) return false;
  if (uc_mem_map_ptr(uc_.get(), page, kHvPageSize, UC_PROT_ALL, host) != UC_ERR_OK) return false;
  aliased_pages_.insert(page);
  return true;
}

void X86Engine::apply_invalidations() {
  invalidations_.apply(uc_.get(), [this](std::uint64_t gpa, std::uint64_t size) {
    // Blocks there may hold new code: scan them again when they next run.
    // A block starts at most one page before the range it overlaps.
    std::erase_if(scanned_blocks_, [gpa, size](std::uint64_t a) { return a + kHvPageSize > gpa && a < gpa + size; });
    last_scanned_ = kNoBlock;
  });
}

void X86Engine::sync_hypercall_page() {
  auto page = machine_.hypervisor().hypercall_page_gpa(0);
  if (page == hypercall_page_) return;
  if (hypercall_page_) uc_hook_del(uc_.get(), hypercall_hook_);
  hypercall_page_ = page;
  if (page) {
    unicorn::check(uc_hook_add(uc_.get(), &hypercall_hook_, UC_HOOK_CODE, reinterpret_cast<void*>(&Hooks::hypercall_page),
                               this, *page, *page),
                   "hypercall page hook");
    unicorn::remove_cache(uc_.get(), *page, kHvPageSize);
  }
}

// From the block hook while irq_check_: may a pending vector be taken
// before the block at `block`?
bool X86Engine::interrupt_window_at(std::uint64_t block) {
  if (!apic_.pending_vector()) {
    // A vector held back by an in-service one of its class becomes
    // deliverable at that EOI, and no new request announces it: watch
    // until nothing is requested at all.
    if (apic_.irr().empty()) irq_check_ = false;  // a new request ends the slice by itself
    return false;
  }
  if ((regs_.rflags() & devices::x86_rflags::kIf) == 0) return false;
  // The instruction after STI runs before any interrupt (`sti; hlt`).
  const std::uint8_t* before = block >= 1 ? code_bytes(block - 1, 1) : nullptr;
  return before == nullptr || *before != kStiOpcode;
}

void X86Engine::scan_block(std::uint64_t address, std::uint32_t size) {
  // Loops re-enter the same block: skip the set lookup for it.
  if (address == last_scanned_) return;
  last_scanned_ = address;
  if (!scanned_blocks_.insert(address).second) return;
  const std::uint8_t* code = code_bytes(address, size);
  if (code == nullptr) return;
  bool added = false;
  for (std::size_t offset : find_msr_candidates({code, size})) {
    std::uint64_t site = address + offset;
    if (msr_hooks_.contains(site)) continue;
    uc_hook h;
    unicorn::check(uc_hook_add(uc_.get(), &h, UC_HOOK_CODE, reinterpret_cast<void*>(&Hooks::msr_site), this, site, site),
                   "MSR site hook");
    msr_hooks_.emplace(site, h);
    added = true;
  }
  if (!added) return;
  // The block was translated without the new hooks: drop it and run it
  // again from its start once the engine has stopped.
  invalidate_code(address, size);
  restart_ = true;
  slice_.stop_before_block(uc_.get(), address - cs_base_);
}

void X86Engine::emulate_msr(std::uint64_t address) {
  const std::uint8_t* code = code_bytes(address, 2);
  if (code == nullptr || code[0] != kTwoByteEscape) return;
  const bool is_read = code[1] == kRdmsrOpcode;
  if (!is_read && code[1] != kWrmsrOpcode) return;
  X86Hypervisor& hv = machine_.hypervisor();
  machine_.set_current_vp(vp_);
  auto msr = static_cast<std::uint32_t>(regs_.get(X86Reg::rcx));
  if (observer_) observer_->before_crossing(vp_, 0);
  MsrResult result;
  if (is_read) {
    std::uint64_t value = 0;
    result = hv.rdmsr(vp_, 0, msr, value);
    if (result == MsrResult::ok) {
      regs_.set(X86Reg::rax, value & 0xFFFF'FFFF);
      regs_.set(X86Reg::rdx, value >> 32);
    }
    if (observer_ && result != MsrResult::not_mine) observer_->on_rdmsr(vp_, 0, msr, value, result);
  } else {
    std::uint64_t value = (regs_.get(X86Reg::rdx) << 32) | (regs_.get(X86Reg::rax) & 0xFFFF'FFFF);
    result = hv.wrmsr(vp_, 0, msr, value);
    if (observer_ && result != MsrResult::not_mine) observer_->on_wrmsr(vp_, 0, msr, value, result);
    // A timer write may have armed a deadline before this slice's end.
    if (result == MsrResult::ok && stimer_register_for_msr(msr)) machine_.config().host->deadline_armed(vp_);
  }
  switch (result) {
    case MsrResult::ok:
      regs_.set_rip(address - cs_base_ + 2);
      break;
    case MsrResult::gp:
      deliver({devices::x86_vector::kGeneralProtection, devices::X86EventKind::exception, 0});
      break;
    case MsrResult::not_mine:
    default:
      return;  // the CPU model's own MSR (or Unicorn's read-0 default)
  }
  // A write may have filled or moved the hypercall page: re-enter with the
  // translations dropped and the page hook in place.
  if (invalidations_.pending() ||
      machine_.hypervisor().hypercall_page_gpa(0) != hypercall_page_) {
    restart_ = true;
    slice_.stop_at(uc_.get(), regs_.rip());
  }
}

void X86Engine::emulate_hypercall(std::uint64_t continue_at) {
  machine_.set_current_vp(vp_);
  X86RegisterFile before;
  if (observer_) {
    observer_->before_crossing(vp_, 0);
    for (unsigned i = 0; i < kX86RegCount; ++i) before.gpr[i] = regs_.get(X86Reg(i));
    for (unsigned i = 0; i < kXmmCount; ++i) before.xmm[i] = regs_.get_xmm(i);
  }
  HypercallOutcome outcome = machine_.hypervisor().hypercall(vp_, 0, regs_);
  if (observer_) observer_->on_x86_hypercall(vp_, 0, before, regs_, outcome);
  if (outcome.action == HypercallAction::completed) {
    regs_.set_rip(continue_at);
  } else {
    deliver({kInvalidOpcodeVector, devices::X86EventKind::exception, 0});
  }
  // The call may have moved the monitor page (a host port set it): re-enter
  // with the write hook moved, so the guest's next store is seen.
  if (monitor_hook_.stale()) {
    restart_ = true;
    slice_.stop_at(uc_.get(), regs_.rip());
  }
}

bool X86Engine::handle_invalid_opcode() {
  std::uint64_t rip = regs_.rip();
  const std::uint8_t* code = code_bytes(cs_base_ + rip, 3);
  if (code != nullptr && is_vmcall(code)) {
    emulate_hypercall(rip + 3);
  } else {
    deliver({kInvalidOpcodeVector, devices::X86EventKind::exception, 0});
  }
  // Unicorn returns from uc_emu_start after this hook whatever it answers.
  resume_after_invalid_ = regs_.rip();
  return true;
}

void X86Engine::handle_cpu_exception(std::uint32_t intno) {
  std::uint64_t rip = regs_.rip();
  const std::uint8_t* before = rip >= 2 ? code_bytes(cs_base_ + rip - 2, 2) : nullptr;
  devices::X86Event event;
  event.vector = static_cast<std::uint8_t>(intno);
  // INT n and INT3 arrive with RIP after the instruction; faults with RIP
  // on the faulting instruction.
  const bool software = before != nullptr && ((intno == 3 && before[1] == kInt3Opcode) ||
                                              (before[0] == kIntOpcode && before[1] == intno));
  event.kind = software ? devices::X86EventKind::software_interrupt : devices::X86EventKind::exception;
  if (intno > 0xFF) {
    fatal("CPU event " + std::to_string(intno) + " at " + hex(rip));
    return;
  }
  deliver(event);
}

bool X86Engine::deliver(const devices::X86Event& event) {
  if (!long_mode_) {
    fatal("vector " + std::to_string(event.vector) +
          " raised before the guest entered long mode (not supported in 32-bit or real mode)");
    return false;
  }
  auto result = devices::x86_deliver_event(regs_, machine_.linear_memory(), regs_.descriptor_tables(), event);
  switch (result.status) {
    case devices::X86EntryStatus::delivered:
      return true;
    case devices::X86EntryStatus::triple_fault:
      fatal("triple fault delivering vector " + std::to_string(event.vector));
      return false;
    case devices::X86EntryStatus::memory_fault:
      fatal("memory fault at " + hex(result.fault_address) + " delivering vector " + std::to_string(event.vector));
      return false;
    case devices::X86EntryStatus::fault:
    default:
      fatal("fault " + std::to_string(result.fault.vector) + " delivering vector " + std::to_string(event.vector));
      return false;
  }
}

void X86Engine::fatal(std::string message) {
  if (!fault_) fault_ = std::move(message) + " (rip " + hex(regs_.rip()) + ")";
  uc_emu_stop(uc_.get());
}

bool X86Engine::take_interrupt() {
  if (fault_ || exited_ || !long_mode_) return false;
  // A slice that stopped right after STI resumes in its shadow: the next
  // instruction (the HLT of `sti; hlt`) runs first, or the wake-up is lost.
  if ((regs_.rflags() & devices::x86_rflags::kIf) != 0 && apic_.pending_vector()) {
    const std::uint64_t linear = cs_base_ + regs_.rip();
    const std::uint8_t* before = linear >= 1 ? code_bytes(linear - 1, 1) : nullptr;
    if (before != nullptr && *before == kStiOpcode && !halted_) {
      irq_check_ = true;
      return false;
    }
  }
  auto vector = devices::x86_take_interrupt(apic_, regs_.rflags(), false);
  if (!vector) return false;
  if (observer_) observer_->before_crossing(vp_, 0);
  if (!deliver({*vector, devices::X86EventKind::external_interrupt, 0})) return false;
  if (observer_) observer_->on_interrupt_taken(vp_, 0, *vector);
  halted_ = false;
  irq_check_ = true;  // another may be pending when the handler returns
  return true;
}

SliceResult X86Engine::run_slice(std::uint64_t block_budget) {
  slice_.begin(block_budget);
  kicked_.store(false, std::memory_order_release);
  auto finish = [&](StopReason reason) { return slice_.result(reason, fault_); };
  if (fault_) return finish(StopReason::guest_fault);
  if (exited_ || slice_.stop_requested()) return finish(StopReason::exit_requested);
  if (firmware_) {
    take_startup_events();
    if (waiting_for_sipi_) return finish(StopReason::halted);
  }
  apply_invalidations();
  sync_hypercall_page();
  if (monitor_hook_.stale()) monitor_hook_.sync(uc_.get());
  take_interrupt();
  if (fault_) return finish(StopReason::guest_fault);
  if (halted_) return finish(StopReason::halted);

  std::uint64_t pc = regs_.rip();
  for (;;) {
    restart_ = false;
    take_irq_now_ = false;
    resume_after_invalid_.reset();
    // Unicorn stops when code reaches `until` (0 when unused, as a nonzero
    // one costs a retranslation per entry). APs start at linear 0 after a
    // SIPI with vector 0: until 64-bit code runs, use the ROM's HLT.
    const std::uint64_t until = firmware_ && !long_mode_ ? firmware_->never_executed() : 0;
    uc_err err = uc_emu_start(uc_.get(), pc, until, 0, 0);
    monitor_hook_.flush();
    if (monitor_hook_.stale()) monitor_hook_.sync(uc_.get());
    auto resume = slice_.take_resume();
    if (resume) regs_.set_rip(*resume);  // the PC may be stale after a stop from a block hook
    if (fault_) return finish(StopReason::guest_fault);
    if (exited_ || slice_.stop_requested()) return finish(StopReason::exit_requested);
    if (resume_after_invalid_) {
      pc = *resume_after_invalid_;
      continue;
    }
    if (err != UC_ERR_OK) {
      fault_ = std::string("CPU error: ") + uc_strerror(err) + " (rip " + hex(regs_.rip()) + ")";
      return finish(StopReason::guest_fault);
    }
    if (resume && take_irq_now_) {
      take_interrupt();
      if (fault_) return finish(StopReason::guest_fault);
      pc = regs_.rip();
      continue;
    }
    if (resume) {
      if (!restart_) return finish(StopReason::slice_budget);
      apply_invalidations();
      sync_hypercall_page();
      pc = *resume;
      continue;
    }
    // No stop of ours: the CPU executed HLT (RIP is past it).
    std::uint64_t rip = regs_.rip();
    const std::uint8_t* last = cs_base_ + rip >= 1 ? code_bytes(cs_base_ + rip - 1, 1) : nullptr;
    if (last == nullptr || *last != kHltOpcode) {
      fault_ = "CPU stopped without a reason (rip " + hex(rip) + ")";
      return finish(StopReason::guest_fault);
    }
    halted_ = true;
    if (!take_interrupt()) return finish(fault_ ? StopReason::guest_fault : StopReason::halted);
    if (slice_.budget_spent()) return finish(StopReason::slice_budget);
    pc = regs_.rip();
  }
}

std::optional<std::uint64_t> X86Engine::next_deadline() const {
  SyntheticTimers* timers = machine_.config().timers;
  return timers != nullptr ? timers->vp(vp_).next_deadline() : std::nullopt;
}

RegisterSnapshot X86Engine::registers() const {
  RegisterSnapshot snap;
  constexpr X86Reg kShown[] = {X86Reg::rip, X86Reg::rsp, X86Reg::rflags, X86Reg::rax, X86Reg::rbx,
                               X86Reg::rcx, X86Reg::rdx, X86Reg::rsi,    X86Reg::rdi, X86Reg::r8};
  for (X86Reg r : kShown) snap.registers.emplace_back(std::string(x86_reg_name(r)), regs_.get(r));
  return snap;
}

}  // namespace softsynic::emu::x86
