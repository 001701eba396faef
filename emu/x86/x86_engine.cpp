// X86Engine: the Unicorn x86-64 CPU of one VP; see x86_engine.h.
#include "emu/x86/x86_engine.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "devices/apic/local_apic.h"
#include "devices/x86_interrupt_entry.h"
#include "emu/debug_devices.h"
#include "emu/replay/guest_cpu_observer.h"
#include "emu/x86/cpu_model_msrs.h"
#include "emu/x86/msr_sites.h"
#include "emu/x86/x86_insn_length.h"
#include "emu/x86/x86_paging.h"
#include "emu/x86/x86_boot.h"
#include "emu/x86/x86_privilege.h"
#include "emu/x86/x86_machine.h"
#include "synic/defs/hypercall.h"
#include "synic/guest_memory.h"
#include "synic/timers/stimer_registers.h"
#include "synic/timers/synthetic_timers.h"

namespace softsynic::emu::x86 {
namespace {

constexpr std::uint8_t kHltOpcode = 0xF4;
constexpr std::uint8_t kIntOpcode = 0xCD;
constexpr std::uint8_t kStiOpcode = 0xFB;
constexpr std::uint8_t kInvalidOpcodeVector = 6;
constexpr std::uint64_t kHypercallSyscallLength = 2;  // the page's `syscall`
constexpr std::uint32_t kTscAuxMsr = 0xC000'0103;
constexpr std::uint64_t kXapicSize = 0x1000;
constexpr std::uint32_t kThermalPowerLeaf = 6;
constexpr std::uint32_t kCpuid6Arat = 1u << 2;
constexpr std::uint64_t kXapicEoiOffset = 0xB0;
constexpr std::uint64_t kXapicTimerInitialOffset = 0x380;
constexpr std::uint64_t kCr4Tsd = 1u << 2;  // RDTSC/RDTSCP are CPL 0 only
constexpr const char* kSitePatchesEnv = "SOFTSYNIC_X86_SITE_PATCHES";  // "off": code hooks only

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return buf;
}

// A read of `size` bytes at `offset` from a 32-bit register `reg`.
std::uint64_t register_bytes(std::uint32_t reg, std::uint64_t offset, unsigned size) {
  const std::uint64_t value = reg >> (8 * (offset & 3));
  return size >= 4 ? value : value & ((std::uint64_t{1} << (8 * size)) - 1);
}

}  // namespace

// Unicorn calls these with the engine as user data.
struct X86Engine::Hooks {
  static X86Engine& self(void* user) { return *static_cast<X86Engine*>(user); }

  // Unicorn calls this before every block: the common case is kept to a
  // few loads (64-bit code, no monitor page watched, no interrupt window
  // sought, nothing requested, a block seen before); the rest is
  // block_slow's.
  static void block(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user) {
    X86Engine& e = self(user);
    if (!e.long_mode_ || e.irq_check_ || e.monitor_watch_.watching()) return block_slow(uc, address, size, user);
    if (e.slice_.on_block()) {
      e.slice_.stop_before_block(uc, address - e.cs_base_);
      return;
    }
    if (!e.irq_requested_.load(std::memory_order_relaxed) && e.recent_block(address) == address) return;
    after_count(uc, address, size, e);
  }
  __attribute__((noinline)) static void block_slow(uc_engine* uc, std::uint64_t address, std::uint32_t size,
                                                   void* user) {
    X86Engine& e = self(user);
    if (!e.long_mode_) {
      // The start-up stub runs to its end: its segments are not ones a
      // resume could rebuild.
      if (e.in_firmware(address)) return;
      e.track_mode();
    }
    // The previous block's stores have landed: a new monitor trigger?
    e.monitor_watch_.check();
    if (e.slice_.on_block()) {
      e.slice_.stop_before_block(uc, address - e.cs_base_);
      return;
    }
    after_count(uc, address, size, e);
  }
  __attribute__((noinline)) static void after_count(uc_engine* uc, std::uint64_t address, std::uint32_t size,
                                                    X86Engine& e) {
    if (e.irq_requested_.load(std::memory_order_relaxed) &&
        e.irq_requested_.exchange(false, std::memory_order_acquire))
      e.irq_check_ = true;
    if (e.irq_check_ && e.interrupt_window_at(address)) {
      e.take_irq_now_ = true;
      e.slice_.stop_before_block(uc, address - e.cs_base_);
      return;
    }
    // Hot blocks run again and again: a direct-mapped cache of recently
    // seen block addresses answers before the scan's set does.
    std::uint64_t& recent = e.recent_block(address);
    if (recent == address) return;
    recent = address;
    e.scan_block(address, size);
  }
  // Unicorn 2.1 write-protects a physical page for its translated code only
  // in TLB entries made after the translation: a writable entry of another
  // virtual alias made before keeps writing without dropping the stale
  // code (a guest patching its code through a second mapping, as Linux's
  // text_poke does, would run the old code). So each newly translated
  // block drops the TLB, and every alias is looked up, and protected, again.
  static void block_translated(uc_engine*, uc_tb*, uc_tb*, void* user) { self(user).regs_.flush_tlb(); }
  // Called for every store Unicorn's slow path makes (with this hook, every
  // store to RAM); it does nothing: its presence is what counts
  // (docs/PC_PLATFORM.md, "Code patched after a store to its page").
  static void write_check(uc_engine*, uc_mem_type, std::uint64_t, int, std::int64_t, void*) {}
  static void trapped_site(uc_engine*, std::uint64_t address, std::uint32_t, void* user) { self(user).emulate_site(address); }
  static int cpuid(uc_engine*, void* user) {
    X86Engine& e = self(user);
    auto leaf = static_cast<std::uint32_t>(e.regs_.get(X86Reg::rax));
    auto subleaf = static_cast<std::uint32_t>(e.regs_.get(X86Reg::rcx));
    auto r = e.machine_.hypervisor().cpuid(leaf, subleaf);
    // Leaf 6: ARAT (the APIC timer always runs: it counts reference time
    // whatever the CPU does), which tells Linux it needs no PIT. Unicorn's
    // qemu64 model has nothing else in this leaf.
    if (!r && leaf == kThermalPowerLeaf) r = CpuidResult{kCpuid6Arat, 0, 0, 0};
    if (!r) return 0;  // Unicorn's own leaf
    e.regs_.set(X86Reg::rax, r->eax);
    e.regs_.set(X86Reg::rbx, r->ebx);
    e.regs_.set(X86Reg::rcx, r->ecx);
    e.regs_.set(X86Reg::rdx, r->edx);
    return 1;
  }
  static void out(uc_engine* uc, std::uint32_t port, int size, std::uint32_t value, void* user) {
    X86Engine& e = self(user);
    if (devices::IoPortDevice* d = e.machine_.io().find(static_cast<std::uint16_t>(port)))
      d->io_write(e.vp_, static_cast<std::uint16_t>(port), static_cast<unsigned>(size), value);
    else
      e.machine_.config().host->unhandled_access(e.vp_, {UnhandledAccess::Kind::port_write, port});
    // Both platforms' exit devices sit at 0xF4.
    if (port == kX86ExitPort) {
      e.exited_ = true;
      uc_emu_stop(uc);
    }
  }
  static std::uint32_t in(uc_engine*, std::uint32_t port, int size, void* user) {
    X86Engine& e = self(user);
    if (devices::IoPortDevice* d = e.machine_.io().find(static_cast<std::uint16_t>(port)))
      return d->io_read(e.vp_, static_cast<std::uint16_t>(port), static_cast<unsigned>(size));
    e.machine_.config().host->unhandled_access(e.vp_, {UnhandledAccess::Kind::port_read, port});
    return devices::IoPortBus::unclaimed_read(static_cast<unsigned>(size));
  }
  static bool invalid(uc_engine*, void* user) { return self(user).handle_invalid_opcode(); }
  static void syscall(uc_engine*, void* user) {
    X86Engine& e = self(user);
    if (e.at_hypercall_page()) {
      // After the hook Unicorn moves RIP past the SYSCALL, to the `ret`.
      e.emulate_trapped(TrappedInstruction::hypercall, e.cs_base_ + e.regs_.rip(), kHypercallSyscallLength, true);
      return;
    }
    if (e.code_shadow_ && e.emulate_patched_site()) return;
    e.emulate_syscall();
  }
  static void user_mode_guard(uc_engine*, std::uint64_t, std::uint32_t, void* user) {
    X86Engine& e = self(user);
    if (e.long_mode_ && (e.regs_.cs() & 3) != 0) e.refuse_user_mode("ring-3 code");
  }
  static void intr(uc_engine*, std::uint32_t intno, void* user) {
    X86Engine& e = self(user);
    // Unicorn's invalid-opcode path leaves the CPU's pending exception set
    // after UC_HOOK_INSN_INVALID; the next uc_emu_start raises it again
    // through UC_HOOK_INTR before any instruction runs. It was handled.
    if (std::exchange(e.stale_invalid_opcode_, false) && intno == kInvalidOpcodeVector) {
      e.resume_after_invalid_.reset();  // and it runs on: no re-entry needed
      return;
    }
    e.handle_cpu_exception(intno);
  }
  static bool unmapped(uc_engine*, uc_mem_type type, std::uint64_t address, int size, std::int64_t, void* user) {
    X86Engine& e = self(user);
    // Unicorn 2.1 reports the guest-physical address: the guest's page
    // tables map it to something that is neither RAM nor a device.
    const char* kind = type == UC_MEM_FETCH_UNMAPPED ? "fetch from" : type == UC_MEM_WRITE_UNMAPPED ? "write to" : "read from";
    e.fatal(std::string("unmapped ") + kind + " physical " + hex(address) + " (" + std::to_string(size) + " bytes)");
    return false;
  }
  static std::uint64_t apic_read(uc_engine*, std::uint64_t offset, unsigned size, void* user) {
    return register_bytes(self(user).apic_.mmio_read(static_cast<std::uint32_t>(offset & ~std::uint64_t{3})), offset, size);
  }
  // The I/O APIC's registers are 32-bit; a narrower read sees the bytes of
  // the selected one, a narrower write counts only at IOREGSEL.
  static std::uint64_t io_apic_read(uc_engine*, std::uint64_t offset, unsigned size, void* user) {
    devices::IoApic& io_apic = *self(user).machine_.io_apic();
    return register_bytes(io_apic.mmio_read(static_cast<std::uint32_t>(offset & ~std::uint64_t{3})), offset, size);
  }
  static void io_apic_write(uc_engine*, std::uint64_t offset, unsigned size, std::uint64_t value, void* user) {
    if (size < 4 && offset != devices::ioapic::kRegSelOffset) return;
    self(user).machine_.io_apic()->mmio_write(static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(value));
  }
  static void apic_write(uc_engine*, std::uint64_t offset, unsigned, std::uint64_t value, void* user) {
    X86Engine& e = self(user);
    // Registers are 32-bit at 16-byte strides; narrower writes are ignored
    // by the APIC model's offset rules.
    const bool eoi = offset == kXapicEoiOffset;
    if (eoi && e.observer_) e.observer_->before_crossing(e.vp_, 0);
    e.apic_.mmio_write(static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(value));
    // The timer armed a deadline that may fall inside this slice.
    if (offset == kXapicTimerInitialOffset) e.machine_.config().host->deadline_armed(e.vp_);
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
      exception_state_(uc_.get()),
      privilege_(uc_.get(), x86_internals()),
      monitor_watch_(machine.config().monitor, machine.config().monitor_pages, machine.config().ram,
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
        start.eax = config.boot_magic;
        start.ebx = config.multiboot_info;
        firmware_->prepare(uc_.get(), start);
      }
      break;
    case StartMode::long_mode: {
      const LongModeStart& lm = config.long_mode;
      load_long_mode(uc_.get(), LongModeTables{lm.gdt_base, lm.gdt_limit, lm.cr3, lm.code_selector, lm.data_selector},
                     config.entry, 0);
      regs_.write(UC_X86_REG_RSI, lm.rsi);
      break;
    }
    case StartMode::boot_contract:
    default:
      load_boot_state(uc_.get(), config.entry, config.stack_top, vp_, machine_.config().vp_count);
      break;
  }
  install_hooks();
  attach_debug(uc_.get(), slice_, [this] { return regs_.rip(); }, *machine_.config().ram, *machine_.config().host, vp_);
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
  unicorn::check(
      uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Hooks::syscall), this, 1, 0, UC_X86_INS_SYSCALL),
      "syscall hook");
  // User mode: privilege changes through Unicorn's hidden state, or, when
  // its self-test failed, a guard that ends the run at the first ring-3
  // block (a cost only this degraded engine pays).
  if (x86_user_mode().ok) {
    regs_.set_privilege(&privilege_);
  } else {
    unicorn::check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&Hooks::user_mode_guard), this, 1, 0),
                   "user-mode guard hook");
  }
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INSN_INVALID, reinterpret_cast<void*>(&Hooks::invalid), this, 1, 0),
                 "invalid-instruction hook");
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&Hooks::intr), this, 1, 0), "interrupt hook");
  // Unicorn 2.1.1 drops a page's self-modifying-code check at the first
  // store there unless a memory-write hook covers the address. The engine's
  // own TLB (x86_soft_tlb.h) keeps every page with translated code out of
  // writable entries instead; when its self-test failed, a write hook over
  // everything keeps the check (every load and store then takes Unicorn's
  // slow path). Unchecked, the TLB is dropped at each translation so that
  // aliases made before it are protected again.
  if (machine_.config().check_code_writes && x86_soft_tlb_support().ok) {
    walk_memory_ = std::make_unique<PcFirmwareOverlay>(*machine_.config().ram, firmware_.get());
    soft_tlb_ = std::make_unique<X86SoftTlb>(uc, *machine_.config().ram, *walk_memory_, regs_,
                                             machine_.config().vp_count > 1 ? &machine_.code_frames() : nullptr, vp_);
    soft_tlb_->set_drop_listener([this](std::uint64_t frame) { forget_scans_of(frame); });
    const char* patches = std::getenv(kSitePatchesEnv);
    if (patches == nullptr || std::string_view(patches) != "off") {
      code_shadow_ = std::make_unique<X86CodeShadow>(uc, *machine_.config().ram);
      soft_tlb_->set_code_shadow(code_shadow_.get());
    }
  } else if (machine_.config().check_code_writes) {
    unicorn::check(uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, reinterpret_cast<void*>(&Hooks::write_check), this, 1, 0),
                   "write-check hook");
  } else {
    unicorn::check(
        uc_hook_add(uc, &h, UC_HOOK_EDGE_GENERATED, reinterpret_cast<void*>(&Hooks::block_translated), this, 1, 0),
        "translation hook");
  }
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED, reinterpret_cast<void*>(&Hooks::unmapped), this, 1, 0),
                 "unmapped-memory hook");
  unicorn::check(uc_mmio_map(uc, kXapicBase, kXapicSize, &Hooks::apic_read, this, &Hooks::apic_write, this),
                 "xAPIC MMIO");
  if (machine_.io_apic() != nullptr) {
    unicorn::check(uc_mmio_map(uc, devices::ioapic::kDefaultBase, devices::ioapic::kMmioSize, &Hooks::io_apic_read,
                               this, &Hooks::io_apic_write, this),
                   "I/O APIC MMIO");
  }
}

X86PagingState X86Engine::paging_state() const {
  X86PagingState state;
  state.cr0 = regs_.cr0();
  state.cr3 = regs_.cr3();
  state.cr4 = regs_.cr4();
  uc_x86_msr efer{kEferMsr, 0};
  uc_reg_read(uc_.get(), UC_X86_REG_MSR, &efer);
  state.efer = efer.value;
  return state;
}

// The guest-physical page of the code page at `linear_page`, through a
// one-entry cache keyed like a TLB entry (CR3 and the linear page) and
// dropped at every uc_emu_start, so a remap is seen by the next run at
// the latest (a guest that remaps the page it is running in and executes
// the new code in the same run is read through the old mapping).
std::optional<std::uint64_t> X86Engine::code_page(std::uint64_t linear_page) const {
  const std::uint64_t cr3 = regs_.cr3();
  if (code_page_cache_.valid && code_page_cache_.cr3 == cr3 && code_page_cache_.linear == linear_page) {
    return code_page_cache_.gpa;
  }
  const X86Translation t = x86_translate(*machine_.config().ram, paging_state(), linear_page, X86Access::fetch);
  if (!t.gpa) return std::nullopt;
  code_page_cache_ = {true, cr3, linear_page, *t.gpa};
  return t.gpa;
}

bool X86Engine::read_code(std::uint64_t linear, std::span<std::uint8_t> out) const {
  if (in_firmware(linear)) {
    const std::uint8_t* rom = firmware_->bytes(linear, out.size());
    if (rom == nullptr) return false;
    std::memcpy(out.data(), rom, out.size());
    return true;
  }
  const std::uint64_t offset = linear & (kHvPageSize - 1);
  if (offset + out.size() <= kHvPageSize) {
    const auto page = code_page(linear - offset);
    return page && machine_.config().ram->read(*page + offset, std::as_writable_bytes(out));
  }
  return x86_read_linear(*machine_.config().ram, paging_state(), linear, std::as_writable_bytes(out),
                         X86Access::fetch);
}

std::optional<std::uint8_t> X86Engine::code_byte(std::uint64_t linear) const {
  std::uint8_t b = 0;
  if (!read_code(linear, {&b, 1})) return std::nullopt;
  return b;
}

bool X86Engine::at_hypercall_page() const {
  if (!hypercall_page_) return false;
  const std::uint64_t linear = cs_base_ + regs_.rip();
  if ((linear & (kHvPageSize - 1)) != 0) return false;  // the page's SYSCALL is its first instruction
  return code_page(linear) == hypercall_page_;
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
bool X86Engine::rom_reachable() const {
  const std::uint64_t cr0 = regs_.cr0();
  return (cr0 & (1ull << 31)) == 0 || in_firmware(regs_.cr3());
}

void X86Engine::track_mode() {
  const auto selector = regs_.cs();
  const bool protected_mode = (regs_.cr0() & kCr0Pe) != 0;
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
  // A data read: the GDT may sit on a no-execute page (an AP's trampoline
  // GDT, reached through the kernel's direct map, does).
  std::byte bytes[8];
  if (x86_read_linear(*machine_.config().ram, paging_state(), at, bytes, X86Access::read))
    std::memcpy(&descriptor, bytes, 8);
  if (reloaded) cs_base_ = ((descriptor >> 16) & 0xFF'FFFF) | (((descriptor >> 56) & 0xFF) << 24);
  const bool code64 = ((descriptor >> 53) & 1) != 0;
  if ((efer.value & kEferLma) != 0 && code64) {
    set_long_mode(true);
    cs_base_ = 0;
  }
}

void X86Engine::apply_invalidations() {
  // Guest-physical ranges: every translation goes (Unicorn drops cached
  // code by virtual address, and any virtual page may map the range), and
  // every block is scanned again when it next runs.
  if (invalidations_.apply(uc_.get())) {
    if (code_shadow_) code_shadow_->forget_all();
    forget_all_scans();
  }
}

// The page holds `syscall; ret` (X86Machine): the SYSCALL hook checks that
// the instruction is the page's first.
void X86Engine::sync_hypercall_page() { hypercall_page_ = machine_.hypervisor().hypercall_page_gpa(0); }

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
  const auto before = block >= 1 ? code_byte(block - 1) : std::nullopt;
  return !before || *before != kStiOpcode;
}

void X86Engine::scan_block(std::uint64_t address, std::uint32_t size) {
  if (!scanned_blocks_.insert(address).second) return;
  if (soft_tlb_) {
    // Remember where the bytes came from: a store there makes the TLB drop
    // the code, and the block must be scanned again.
    for (std::uint64_t page = address & ~(kHvPageSize - 1); page < address + size; page += kHvPageSize) {
      if (in_firmware(page)) break;
      if (auto frame = code_page(page)) scanned_by_frame_[*frame].push_back(address);
    }
  }
  std::vector<std::uint8_t> code(size);
  if (!read_code(address, code)) return;
  bool added = false;
  // 64-bit kernel code: decode the block from its first instruction. Each
  // trapped instruction found starts an instruction and is patched; a byte
  // pattern inside another instruction is no site. Past an instruction the
  // decoder does not know, or if the decode does not end where the block
  // does, the candidates get code hooks as below.
  std::size_t decoded = 0;
  if (patchable_code()) {
    std::size_t at = 0;
    std::vector<std::pair<std::size_t, TrappedSite>> exact;
    while (at < code.size()) {
      const auto length = x86_64_instruction_length(std::span<const std::uint8_t>(code).subspan(at));
      if (!length) break;
      TrappedSite site{};
      if (decode_patchable_site(std::span<const std::uint8_t>(code).subspan(at), site)) exact.emplace_back(at, site);
      at += *length;
    }
    if (at <= code.size()) {
      decoded = at;
      for (auto& [offset, site] : exact) {
        switch (patch_site(address + offset, site)) {
          case PatchState::applied:
            break;
          case PatchState::pending:
            added = true;
            break;
          case PatchState::refused:
          default:
            if (site.instruction != TrappedInstruction::hypercall) decoded = std::min(decoded, offset);  // hooked below
            break;
        }
      }
    }
  }
  for (const TrappedSite& candidate : find_trapped_sites(code)) {
    if (candidate.offset < decoded) continue;
    std::uint64_t site = address + candidate.offset;
    if (site_hooks_.contains(site)) continue;
    if (code_shadow_) {
      // Patched by another block's decode, or by its own trap.
      const std::uint64_t offset = site & (kHvPageSize - 1);
      auto frame = code_page(site - offset);
      if (frame && code_shadow_->patched(*frame, static_cast<std::uint16_t>(offset))) {
        if (std::find(patched_frames_.begin(), patched_frames_.end(), *frame) != patched_frames_.end()) added = true;
        continue;
      }
    }
    uc_hook h;
    unicorn::check(uc_hook_add(uc_.get(), &h, UC_HOOK_CODE, reinterpret_cast<void*>(&Hooks::trapped_site), this, site, site),
                   "trapped-instruction site hook");
    site_hooks_.emplace(site, h);
    added = true;
  }
  if (!added) return;
  // The block was translated without the new hooks or patches: drop it (by
  // its virtual address, as Unicorn looks it up; a patched frame's code
  // goes whole) and run it again from its start once the engine has
  // stopped.
  retranslate_.emplace_back(address, size);
  restart_ = true;
  slice_.stop_before_block(uc_.get(), address - cs_base_);
}

// The guest rewrote the code under a site hook: Linux's alternatives turn
// `rdtsc` into `lfence; rdtsc`, moving the RDTSC 3 bytes on, and a module
// may load where other code ran. The blocks scanned before may hold sites
// the scan never saw, so the hook goes, every block is scanned again when it
// next runs, and this block is cut here and translated anew.
void X86Engine::forget_scans_of(std::uint64_t frame) {
  auto it = scanned_by_frame_.find(frame);
  if (it == scanned_by_frame_.end()) return;
  for (std::uint64_t block : it->second) {
    scanned_blocks_.erase(block);
    std::uint64_t& recent = recent_block(block);
    if (recent == block) recent = kNoBlock;
  }
  scanned_by_frame_.erase(it);
}

void X86Engine::forget_all_scans() {
  scanned_blocks_.clear();
  scanned_by_frame_.clear();
  recent_blocks_.fill(kNoBlock);
}

void X86Engine::forget_rewritten_site(std::uint64_t address) {
  if (auto it = site_hooks_.find(address); it != site_hooks_.end()) {
    uc_hook_del(uc_.get(), it->second);
    site_hooks_.erase(it);
  }
  forget_all_scans();
  restart_ = true;
  slice_.stop_at(uc_.get(), address - cs_base_);
}

// The TSC: kTscPerTick cycles per 100 ns of reference time, so it follows
// the virtual clock (deterministic, replayed byte for byte) or the host
// clock as the reference time does. The clock moves between slices only;
// within one reference tick successive reads still increase, by one cycle,
// up to the tick's last cycle.
std::uint64_t X86Engine::read_tsc() {
  const std::uint64_t now = machine_.config().time->now();
  if (now != tsc_tick_) {
    tsc_tick_ = now;
    tsc_within_tick_ = 0;
  } else if (tsc_within_tick_ + 1 < kTscPerTick) {
    ++tsc_within_tick_;
  }
  return now * kTscPerTick + tsc_within_tick_;
}

void X86Engine::emulate_site(std::uint64_t address) {
  std::uint8_t code[3] = {};
  TrappedSite site{};
  // The bytes are checked again: the guest may have replaced the code.
  const std::size_t readable = (address & (kHvPageSize - 1)) <= kHvPageSize - 3 ? 3 : 2;
  if (!read_code(address, {code, readable})) return;
  if (!decode_trapped_site({code, readable}, site)) {
    forget_rewritten_site(address);
    return;
  }
  // The hook ran: an instruction starts here. Patched from the next run on,
  // when this hook goes.
  if (patchable_code() && patch_site(address, site) == PatchState::pending) replaced_site_hooks_.push_back(address);
  emulate_trapped(site.instruction, address, site.length, false);
}

bool X86Engine::emulate_patched_site() {
  const std::uint64_t linear = cs_base_ + regs_.rip();
  const std::uint64_t page = linear & ~(kHvPageSize - 1);
  std::optional<std::uint64_t> exec = soft_tlb_->exec_page_of(page);
  if (!exec) {
    // Not remembered (another page took its entry): the walk says which
    // frame, and a frame with patches runs from its shadow page.
    const auto frame = code_page(page);
    if (!frame) return false;
    exec = code_shadow_->page_of(*frame);
    if (!exec) return false;
  }
  const X86CodeShadow::Patch* patch = code_shadow_->patch_at(*exec, static_cast<std::uint16_t>(linear - page));
  if (patch == nullptr) return false;  // the guest's own SYSCALL
  emulate_trapped(patch->instruction, linear, patch->length, true);
  return true;
}

X86Engine::PatchState X86Engine::patch_site(std::uint64_t linear, const TrappedSite& site) {
  if (!patchable_code()) return PatchState::refused;
  const std::uint64_t offset = linear & (kHvPageSize - 1);
  if (offset + site.length > kHvPageSize) return PatchState::refused;
  const auto frame = code_page(linear - offset);
  if (!frame || machine_.config().ram->host_pointer(*frame, kHvPageSize) == nullptr) return PatchState::refused;
  const bool pending = std::find(patched_frames_.begin(), patched_frames_.end(), *frame) != patched_frames_.end();
  if (code_shadow_->patched(*frame, static_cast<std::uint16_t>(offset)))
    return pending ? PatchState::pending : PatchState::applied;
  X86CodeShadow::Patch patch;
  patch.offset = static_cast<std::uint16_t>(offset);
  patch.instruction = site.instruction;
  patch.length = static_cast<std::uint8_t>(site.length);
  if (!code_shadow_->add(*frame, patch)) return PatchState::refused;
  if (!pending) patched_frames_.push_back(*frame);
  return PatchState::pending;
}

// Between runs: frames with new patches drop their code (it is translated
// again from the shadow page), and the code hooks the patches replace go.
void X86Engine::apply_patches() {
  if (patched_frames_.empty() && replaced_site_hooks_.empty()) return;
  for (std::uint64_t frame : std::exchange(patched_frames_, {})) soft_tlb_->drop_patched(frame);
  for (std::uint64_t address : std::exchange(replaced_site_hooks_, {})) {
    if (auto it = site_hooks_.find(address); it != site_hooks_.end()) {
      uc_hook_del(uc_.get(), it->second);
      site_hooks_.erase(it);
    }
  }
}

void X86Engine::emulate_trapped(TrappedInstruction instruction, std::uint64_t address, std::size_t length,
                                bool patched) {
  const std::uint64_t next = address - cs_base_ + length;
  // A fault leaves RIP on the instruction; after the SYSCALL hook Unicorn
  // still adds the site's length to whatever RIP is.
  auto fault = [&](std::uint8_t vector) {
    if (deliver({vector, devices::X86EventKind::exception, 0}) && patched) regs_.set_rip(regs_.rip() - length);
  };
  const bool cpl0 = (regs_.cs() & 3) == 0;
  switch (instruction) {
    case TrappedInstruction::rdtsc:
    case TrappedInstruction::rdtscp: {
      if (!cpl0 && (regs_.cr4() & kCr4Tsd) != 0) {
        fault(devices::x86_vector::kGeneralProtection);
        return;
      }
      const std::uint64_t tsc = read_tsc();
      regs_.set(X86Reg::rax, tsc & 0xFFFF'FFFF);
      regs_.set(X86Reg::rdx, tsc >> 32);
      if (instruction == TrappedInstruction::rdtscp) {
        uc_x86_msr aux{kTscAuxMsr, 0};
        uc_reg_read(uc_.get(), UC_X86_REG_MSR, &aux);
        regs_.set(X86Reg::rcx, aux.value & 0xFFFF'FFFF);
      }
      if (!patched) regs_.set_rip(next);
      return;
    }
    case TrappedInstruction::hypercall:
      // A hypercall from CPL > 0 is #UD (TLFS 3.2).
      if (!cpl0) {
        fault(kInvalidOpcodeVector);
        return;
      }
      emulate_hypercall(next, !patched, patched ? length : 0);
      return;
    case TrappedInstruction::rdmsr:
    case TrappedInstruction::wrmsr:
    default:
      break;
  }
  if (!cpl0) {
    fault(devices::x86_vector::kGeneralProtection);
    return;
  }
  const bool is_read = instruction == TrappedInstruction::rdmsr;
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
      if (!patched) regs_.set_rip(next);
      break;
    case MsrResult::gp:
      fault(devices::x86_vector::kGeneralProtection);
      return;
    case MsrResult::not_mine:
    default:
      // The CPU model's own MSR, or Unicorn's default (reads 0, ignores
      // writes) for one nobody models.
      if (!cpu_model_msr(msr))
        machine_.config().host->unhandled_access(
            vp_, {is_read ? UnhandledAccess::Kind::msr_read : UnhandledAccess::Kind::msr_write, msr});
      // From a code hook, the instruction itself runs next; a patched site
      // has no instruction left, so Unicorn's MSR access stands for it.
      if (!patched) return;
      if (is_read) {
        uc_x86_msr native{msr, 0};
        uc_reg_read(uc_.get(), UC_X86_REG_MSR, &native);
        regs_.set(X86Reg::rax, native.value & 0xFFFF'FFFF);
        regs_.set(X86Reg::rdx, native.value >> 32);
      } else {
        uc_x86_msr native{msr, (regs_.get(X86Reg::rdx) << 32) | (regs_.get(X86Reg::rax) & 0xFFFF'FFFF)};
        uc_reg_write(uc_.get(), UC_X86_REG_MSR, &native);
      }
      return;
  }
  // A write may have filled or moved the hypercall page: re-enter with the
  // translations dropped and the page hook in place.
  if (invalidations_.pending() ||
      machine_.hypervisor().hypercall_page_gpa(0) != hypercall_page_) {
    restart_ = true;
    slice_.stop_at(uc_.get(), next);
  }
}

void X86Engine::emulate_hypercall(std::uint64_t next, bool move_rip, std::uint64_t hook_advance) {
  machine_.set_current_vp(vp_);
  HypercallOutcome outcome;
  if (observer_) {
    // The register file before the call goes to the observer (a few
    // hundred bytes: only built when someone records).
    X86RegisterFile before;
    observer_->before_crossing(vp_, 0);
    for (unsigned i = 0; i < kX86RegCount; ++i) before.gpr[i] = regs_.get(X86Reg(i));
    for (unsigned i = 0; i < kXmmCount; ++i) before.xmm[i] = regs_.get_xmm(i);
    outcome = machine_.hypervisor().hypercall(vp_, 0, regs_);
    observer_->on_x86_hypercall(vp_, 0, before, regs_, outcome);
  } else {
    outcome = machine_.hypervisor().hypercall(vp_, 0, regs_);
  }
  if (outcome.status == HvStatus::invalid_hypercall_code) {
    const std::uint64_t control = regs_.long_mode() ? regs_.get(X86Reg::rcx) : regs_.get(X86Reg::rax);
    machine_.config().host->unhandled_access(vp_, {UnhandledAccess::Kind::hypercall, control & 0xFFFF});
  }
  if (outcome.action == HypercallAction::completed) {
    if (move_rip) regs_.set_rip(next);
  } else if (deliver({kInvalidOpcodeVector, devices::X86EventKind::exception, 0}) && hook_advance != 0) {
    regs_.set_rip(regs_.rip() - hook_advance);
  }
}

bool X86Engine::handle_invalid_opcode() {
  std::uint64_t rip = regs_.rip();
  std::uint8_t code[3];
  // A hypercall from CPL > 0 is #UD (TLFS 3.2), as any other invalid opcode.
  TrappedSite site{};
  if (read_code(cs_base_ + rip, code) && decode_patchable_site(code, site) &&
      site.instruction == TrappedInstruction::hypercall && (regs_.cs() & 3) == 0) {
    // Unicorn decoded an instruction here: patched from the next run on.
    patch_site(cs_base_ + rip, site);
    emulate_hypercall(rip + 3, true);
  } else {
    deliver({kInvalidOpcodeVector, devices::X86EventKind::exception, 0});
  }
  // Unicorn 2.1 leaves the #UD pending after this hook and raises it once
  // more through UC_HOOK_INTR, at once or at the next uc_emu_start (see
  // Hooks::intr); should it stop instead, the run re-enters here.
  resume_after_invalid_ = regs_.rip();
  stale_invalid_opcode_ = true;
  return true;
}

void X86Engine::handle_cpu_exception(std::uint32_t intno) {
  std::uint64_t rip = regs_.rip();
  if (intno > 0xFF) {
    fatal("CPU event " + std::to_string(intno) + " at " + hex(rip));
    return;
  }
  std::uint8_t before[2] = {};
  const bool have_before = rip >= 2 && read_code(cs_base_ + rip - 2, before);
  devices::X86Event event;
  event.vector = static_cast<std::uint8_t>(intno);
  // INT n and INT3 arrive with RIP after the instruction; faults with RIP
  // on the faulting instruction.
  const bool software = have_before && ((intno == 3 && before[1] == kInt3Opcode) ||
                                        (before[0] == kIntOpcode && before[1] == intno));
  event.kind = software ? devices::X86EventKind::software_interrupt : devices::X86EventKind::exception;
  // Unicorn never delivers an event, so a #DF it reports is never real: an
  // in-flight state that our hook did not see (Linux's PVH entry leaves one
  // on its switch to long mode) turned a fault into it. Clear the state and
  // run the instruction again: it faults as itself. (Twice at the same RIP
  // is delivered as #DF, so a loop cannot form.)
  if (!software && event.vector == devices::x86_vector::kDoubleFault) {
    exception_state_.take(uc_.get());
    if (std::exchange(double_fault_rip_, rip) != rip) return;
  } else {
    double_fault_rip_.reset();
  }
  // The error code (a #PF's P/W/U/I bits) and the CPU's in-flight state,
  // which must not turn the guest's next, unrelated fault into #DF.
  if (!software && devices::x86_exception_has_error_code(event.vector)) {
    event.error_code = exception_state_.take(uc_.get());
  } else if (!software && event.vector == 0) {
    exception_state_.take(uc_.get());
  }
  deliver(event);
}

// A fault the engine's TLB refused an access for: #PF with CR2 and the
// walk's error code, or #GP(0) for a non-canonical address.
void X86Engine::deliver_tlb_fault(const X86TlbFault& fault) {
  double_fault_rip_.reset();
  if (fault.general_protection) {
    deliver({devices::x86_vector::kGeneralProtection, devices::X86EventKind::exception, 0});
    return;
  }
  regs_.set_cr2(fault.address);
  deliver({devices::x86_vector::kPageFault, devices::X86EventKind::exception, fault.error_code});
}

// Linear accesses of event delivery (IDT, TSS, frame) through the guest's
// page tables, remembering the #PF a failed one raises.
class X86Engine::DeliveryMemory final : public devices::X86LinearMemory {
 public:
  DeliveryMemory(GuestMemory& ram, const X86PagingState& state) : ram_(ram), state_(state) {}
  bool read(std::uint64_t linear, std::span<std::byte> out) override {
    return x86_read_linear(ram_, state_, linear, out, X86Access::read, &fault);
  }
  bool write(std::uint64_t linear, std::span<const std::byte> in) override {
    return x86_write_linear(ram_, state_, linear, in, &fault);
  }
  X86LinearFault fault;

 private:
  GuestMemory& ram_;
  X86PagingState state_;
};

bool X86Engine::deliver(const devices::X86Event& event) {
  if (!long_mode_) {
    fatal("vector " + std::to_string(event.vector) +
          " raised before the guest entered long mode (not supported in 32-bit or real mode)");
    return false;
  }
  if (!x86_user_mode().ok && (regs_.cs() & 3) != 0) {
    refuse_user_mode("vector " + std::to_string(event.vector) + " taken in ring 3");
    return false;
  }
  DeliveryMemory memory(*machine_.config().ram, paging_state());
  devices::X86Event current = event;
  // A page fault while delivering is delivered in its turn (CR2 = the
  // address), or becomes #DF after a contributory fault or a #PF; a fault
  // while delivering #DF is a triple fault (SDM vol. 3, table 6-5).
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto result = devices::x86_deliver_event(regs_, memory, regs_.descriptor_tables(), current);
    switch (result.status) {
      case devices::X86EntryStatus::delivered:
        return true;
      case devices::X86EntryStatus::triple_fault:
        triple_fault("delivering vector " + std::to_string(current.vector));
        return false;
      case devices::X86EntryStatus::memory_fault: {
        if (current.kind == devices::X86EventKind::exception && current.vector == devices::x86_vector::kDoubleFault) {
          triple_fault("page fault at " + hex(result.fault_address) + " delivering #DF");
          return false;
        }
        const bool promote = current.kind == devices::X86EventKind::exception &&
                             (current.vector == 0 || (current.vector >= 10 && current.vector <= 14));
        regs_.set_cr2(result.fault_address);
        current = promote ? devices::X86Event{devices::x86_vector::kDoubleFault, devices::X86EventKind::exception, 0}
                          : devices::X86Event{devices::x86_vector::kPageFault, devices::X86EventKind::exception,
                                              memory.fault.error_code};
        continue;
      }
      case devices::X86EntryStatus::fault:
      default:
        fatal("fault " + std::to_string(result.fault.vector) + " delivering vector " + std::to_string(current.vector));
        return false;
    }
  }
  triple_fault("delivering vector " + std::to_string(event.vector));
  return false;
}

// SYSCALL (SDM vol. 2B): Unicorn runs this hook and then moves RIP past
// the instruction, nothing else. #UD unless EFER.SCE and 64-bit mode.
void X86Engine::emulate_syscall() {
  if (!x86_user_mode().ok) {
    refuse_user_mode("SYSCALL");
    return;
  }
  if (!long_mode_ || (regs_.msr(kEferMsr) & kEferSce) == 0) {
    if (deliver({kInvalidOpcodeVector, devices::X86EventKind::exception, 0}))
      continue_after_syscall_hook(regs_, regs_.rip());
    return;
  }
  x86_unicorn_syscall(regs_, privilege_);
}

void X86Engine::refuse_user_mode(const std::string& what) {
  fatal("user mode (ring 3) is not supported on this Unicorn library: " + what +
        " refused, the user-mode self-test failed (" + x86_user_mode().failure + ")");
}

void X86Engine::triple_fault(const std::string& what) {
  if (!fault_) {
    fault_ = "triple fault " + what + " (rip " + hex(regs_.rip()) + ")";
    triple_fault_ = true;
  }
  uc_emu_stop(uc_.get());
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
    const auto before = linear >= 1 ? code_byte(linear - 1) : std::nullopt;
    if (before && *before == kStiOpcode && !halted_) {
      irq_check_ = true;
      return false;
    }
  }
  auto vector = devices::x86_take_interrupt(apic_, regs_.rflags(), false);
  if (!vector) return false;
  // Code other VPs changed is seen from here on (the entry and its IRET
  // serialize).
  if (soft_tlb_) soft_tlb_->apply_remote_drops();
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
  auto finish = [&](StopReason reason) {
    return slice_.result(reason == StopReason::guest_fault && triple_fault_ ? StopReason::triple_fault : reason, fault_);
  };
  if (fault_) return finish(StopReason::guest_fault);
  if (exited_ || slice_.stop_requested()) return finish(StopReason::exit_requested);
  if (firmware_) {
    take_startup_events();
    if (waiting_for_sipi_) return finish(StopReason::halted);
  }
  apply_invalidations();
  if (soft_tlb_) {
    soft_tlb_->apply_remote_drops();
    // A guest that keeps starting processes maps code at ever new linear
    // pages: bound what the remap check remembers, scanning again after.
    if (soft_tlb_->exec_frames_remembered() > kExecFramesRemembered) {
      soft_tlb_->forget_exec_frames();
      forget_all_scans();
    }
  }
  sync_hypercall_page();
  monitor_watch_.slice_start();
  take_interrupt();
  if (fault_) return finish(StopReason::guest_fault);
  if (halted_) return finish(StopReason::halted);

  std::uint64_t pc = regs_.rip();
  for (;;) {
    if (code_shadow_) apply_patches();
    restart_ = false;
    take_irq_now_ = false;
    resume_after_invalid_.reset();
    // Unicorn stops when code reaches `until` (0 when unused, as a nonzero
    // one costs a retranslation per entry). APs start at linear 0 after a
    // SIPI with vector 0: until 64-bit code runs, use the ROM's HLT.
    // Unicorn translates `until` when the run starts: only while the ROM is
    // where that address leads (paging off, or the stub's own tables).
    const std::uint64_t until = firmware_ && !long_mode_ && rom_reachable() ? firmware_->never_executed() : 0;
    code_page_cache_.valid = false;
    if (soft_tlb_) soft_tlb_->begin_run(until);
    debug_hooks().enter();
    uc_err err = uc_emu_start(uc_.get(), pc, until, 0, 0);
    if (soft_tlb_) soft_tlb_->end_run();
    monitor_watch_.check();
    auto resume = slice_.take_resume();
    if (resume) regs_.set_rip(*resume);  // the PC may be stale after a stop from a block hook
    if (fault_) return finish(StopReason::guest_fault);
    if (exited_ || slice_.stop_requested()) return finish(StopReason::exit_requested);
    if (auto stop = debug_hooks().take_stop()) {
      // A debugger's stop; what another hook of this run asked for is
      // done now, as a re-entry would.
      for (auto [address, size] : retranslate_) unicorn::remove_cache(uc_.get(), address, size);
      retranslate_.clear();
      apply_invalidations();
      sync_hypercall_page();
      return finish(*stop);
    }
    if (resume_after_invalid_) {
      pc = *resume_after_invalid_;
      continue;
    }
    if (auto tlb_fault = soft_tlb_ ? soft_tlb_->take_fault(err) : std::nullopt) {
      // RIP is on the faulting instruction.
      deliver_tlb_fault(*tlb_fault);
      if (fault_) return finish(StopReason::guest_fault);
      if (slice_.budget_spent()) return finish(StopReason::slice_budget);
      pc = regs_.rip();
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
      for (auto [address, size] : retranslate_) unicorn::remove_cache(uc_.get(), address, size);
      retranslate_.clear();
      apply_invalidations();
      sync_hypercall_page();
      pc = *resume;
      continue;
    }
    // No stop of ours: the CPU executed HLT (RIP is past it).
    std::uint64_t rip = regs_.rip();
    const auto last = cs_base_ + rip >= 1 ? code_byte(cs_base_ + rip - 1) : std::nullopt;
    if (!last || *last != kHltOpcode) {
      fault_ = "CPU stopped without a reason (rip " + hex(rip) + ")";
      return finish(StopReason::guest_fault);
    }
    halted_ = true;
    if (!take_interrupt()) {
      if (fault_) return finish(StopReason::guest_fault);
      // A step onto HLT ends there, with the VP halted.
      return finish(debug_hooks().stepping() ? StopReason::step : StopReason::halted);
    }
    if (slice_.budget_spent()) return finish(StopReason::slice_budget);
    pc = regs_.rip();
  }
}

std::optional<std::uint64_t> X86Engine::next_deadline() const {
  SyntheticTimers* timers = machine_.config().timers;
  std::optional<std::uint64_t> earliest = timers != nullptr ? timers->vp(vp_).next_deadline() : std::nullopt;
  if (auto apic = apic_.timer_deadline(); apic && (!earliest || *apic < *earliest)) earliest = apic;
  return earliest;
}

void X86Engine::fire_due(std::uint64_t now) { apic_.fire_timer(now); }

RegisterSnapshot X86Engine::registers() const {
  RegisterSnapshot snap;
  constexpr X86Reg kShown[] = {X86Reg::rip, X86Reg::rsp, X86Reg::rflags, X86Reg::rax, X86Reg::rbx,
                               X86Reg::rcx, X86Reg::rdx, X86Reg::rsi,    X86Reg::rdi, X86Reg::r8};
  for (X86Reg r : kShown) snap.registers.emplace_back(std::string(x86_reg_name(r)), regs_.get(r));
  return snap;
}

// ---- VpDebug ----

namespace {

constexpr int kUnavailable = -1;
constexpr int kEfer = -2;
constexpr int kCr2 = -3;
// By gdb register number (target_description.h's x86-64 order).
constexpr int kGdbRegs[] = {
    UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RSI, UC_X86_REG_RDI,
    UC_X86_REG_RBP, UC_X86_REG_RSP, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_RFLAGS,
    UC_X86_REG_CS,  UC_X86_REG_SS,  UC_X86_REG_DS,  UC_X86_REG_ES,  UC_X86_REG_FS,  UC_X86_REG_GS,
    // st0-st7, fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop
    kUnavailable, kUnavailable, kUnavailable, kUnavailable, kUnavailable, kUnavailable, kUnavailable, kUnavailable,
    kUnavailable, kUnavailable, kUnavailable, kUnavailable, kUnavailable, kUnavailable, kUnavailable, kUnavailable,
    UC_X86_REG_FS_BASE, UC_X86_REG_GS_BASE, UC_X86_REG_CR0, kCr2, UC_X86_REG_CR3, UC_X86_REG_CR4, UC_X86_REG_CR8,
    kEfer,
};
constexpr unsigned kFirstSelector = 18;
constexpr unsigned kLastSelector = 23;

void store_le(std::uint64_t v, std::span<std::byte> out) {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(i < 8 ? v >> (8 * i) : 0);
}
std::uint64_t load_le(std::span<const std::byte> in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < in.size() && i < 8; ++i) v |= std::to_integer<std::uint64_t>(in[i]) << (8 * i);
  return v;
}

}  // namespace

bool X86Engine::read_register(unsigned regno, std::span<std::byte> value) {
  if (regno >= std::size(kGdbRegs) || kGdbRegs[regno] == kUnavailable) return false;
  std::uint64_t v = 0;
  if (kGdbRegs[regno] == kEfer) {
    uc_x86_msr efer{kEferMsr, 0};
    uc_reg_read(uc_.get(), UC_X86_REG_MSR, &efer);
    v = efer.value;
  } else {
    v = regs_.read(kGdbRegs[regno] == kCr2 ? UC_X86_REG_CR2 : kGdbRegs[regno]);
  }
  store_le(v, value);
  return true;
}

bool X86Engine::write_register(unsigned regno, std::span<const std::byte> value) {
  if (regno >= std::size(kGdbRegs) || kGdbRegs[regno] == kUnavailable) return false;
  if (regno >= kFirstSelector && regno <= kLastSelector) return false;  // a selector load is not a register write
  const std::uint64_t v = load_le(value);
  if (kGdbRegs[regno] == kEfer) {
    uc_x86_msr efer{kEferMsr, v};
    return uc_reg_write(uc_.get(), UC_X86_REG_MSR, &efer) == UC_ERR_OK;
  }
  if (kGdbRegs[regno] == kCr2) {
    regs_.set_cr2(v);
  } else {
    regs_.write(kGdbRegs[regno], v);
  }
  code_page_cache_.valid = false;  // CR3 or CR0 may have changed
  return true;
}

std::optional<std::uint64_t> X86Engine::debug_page(gdb::AddressSpace space, std::uint64_t page) const {
  if (space == gdb::AddressSpace::physical) return page;
  return x86_translate(*machine_.config().ram, paging_state(), page, X86Access::read).gpa;
}


}  // namespace softsynic::emu::x86
