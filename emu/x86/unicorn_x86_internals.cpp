// Unicorn's hidden x86 state; see unicorn_x86_internals.h.
#include "emu/x86/unicorn_x86_internals.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "devices/x86_interrupt_entry.h"
#include "emu/unicorn/uc_engine.h"
#include "emu/x86/unicorn_x86_registers.h"
#include "emu/x86/x86_boot.h"
#include "synic/guest_memory.h"

namespace softsynic::emu::x86 {
namespace {

// QEMU's CPUX86State: error_code, exception_is_int, exception_next_eip,
// dr[8], four breakpoint pointers, then old_exception.
constexpr std::size_t kErrorCodeBeforeDr0 = 16;
constexpr std::size_t kOldExceptionAfterDr0 = 8 * 8 + 4 * 8;
constexpr std::uint64_t kMarker0 = 0x5AF7'51C0'DE0D'4000;
constexpr std::uint64_t kMarker1 = 0x5AF7'51C0'DE0D'4001;
constexpr std::uint64_t kMarker14 = 0x5AF7'51C0'DE0D'4014;
constexpr std::uint64_t kMarker15 = 0x5AF7'51C0'DE0D'4015;
// QEMU's CPUX86State starts with regs[16] (RAX first), then eip, eflags,
// cc_dst, cc_src, cc_src2, cc_op, df, hflags, hflags2, segs[6] (ES, CS, SS,
// DS, FS, GS), ldt, tr, gdt, idt; a segment cache is {u32 selector, u64
// base, u32 limit, u32 flags}, the flags being the descriptor's second
// dword (attributes in place, as X86SegmentCache keeps them).
constexpr std::size_t kRegR14 = 14 * 8;
constexpr std::size_t kEip = 16 * 8;
constexpr std::size_t kHflags = kEip + 8 + 8 + 3 * 8 + 4 + 4;
constexpr std::size_t kSegments = kHflags + 8;
constexpr std::size_t kSegmentCacheSize = 24;
enum QemuSegment : std::size_t { kSegCs = 1, kSegSs = 2, kSegGdt = 8 };
constexpr std::size_t segment_at(QemuSegment seg) { return kSegments + kSegmentCacheSize * seg; }
// QEMU's hflags bits (target/i386/cpu.h).
constexpr std::uint32_t kHfCpl = 3;
constexpr std::uint32_t kHfCs32 = 1u << 4;
constexpr std::uint32_t kHfSs32 = 1u << 5;
constexpr std::uint32_t kHfAddSeg = 1u << 6;
constexpr std::uint32_t kHfLma = 1u << 14;
constexpr std::uint32_t kHfCs64 = 1u << 15;
constexpr std::uint64_t kSyscallLength = 2;
constexpr std::uint8_t kPageFault = 14;
constexpr std::uint8_t kDoubleFault = 8;

template <typename T>
T load(const std::uint8_t* blob, std::size_t offset) {
  T v;
  std::memcpy(&v, blob + offset, sizeof v);
  return v;
}

template <typename T>
void store(std::uint8_t* blob, std::size_t offset, T v) {
  std::memcpy(blob + offset, &v, sizeof v);
}

X86SegmentCache load_segment(const std::uint8_t* state, QemuSegment seg) {
  const std::size_t at = segment_at(seg);
  return {static_cast<std::uint16_t>(load<std::uint32_t>(state, at)), load<std::uint64_t>(state, at + 8),
          load<std::uint32_t>(state, at + 16), load<std::uint32_t>(state, at + 20)};
}

void store_segment(std::uint8_t* state, QemuSegment seg, const X86SegmentCache& c) {
  const std::size_t at = segment_at(seg);
  store<std::uint32_t>(state, at, c.selector);
  store<std::uint64_t>(state, at + 8, c.base);
  store<std::uint32_t>(state, at + 16, c.limit);
  store<std::uint32_t>(state, at + 20, c.attributes);
}

std::uint8_t* context_bytes(uc_context* context) { return reinterpret_cast<std::uint8_t*>(context); }

// The CPU state inside a saved context, checked against what the scratch
// engine was given: 64-bit ring 0 on the boot GDT, RIP at the entry.
std::string check_cpu_state(const std::uint8_t* state, std::uint64_t entry) {
  const auto hflags = load<std::uint32_t>(state, kHflags);
  const X86SegmentCache cs = load_segment(state, kSegCs), ss = load_segment(state, kSegSs);
  if (load<std::uint64_t>(state, kEip) != entry) return "RIP is not where expected";
  if ((hflags & kHfCpl) != 0 || (hflags & (kHfLma | kHfCs64)) != (kHfLma | kHfCs64))
    return "hflags is not where expected (read " + std::to_string(hflags) + ")";
  // (Only the selectors: uc_reg_write of a selector leaves the rest as it was.)
  if (cs.selector != kCodeSelector || ss.selector != kDataSelector)
    return "the CS and SS caches are not where expected";
  if (load_segment(state, kSegGdt).base != kGdtGpa) return "the GDTR cache is not where expected";
  return {};
}

struct ScratchRun {
  int faults = 0;
  std::uint32_t vectors[2] = {};
  std::uint32_t first_error = 0;
  std::int32_t first_in_flight = 0;
  bool reset = true;
  std::size_t dr0 = 0;
  uc_context* context = nullptr;
  std::uint64_t retry_at = 0, done_at = 0;
  std::size_t cpu_state = 0;
  std::string cpu_state_failure;
};

void on_scratch_fault(uc_engine* uc, std::uint32_t intno, void* user) {
  auto& run = *static_cast<ScratchRun*>(user);
  if (run.faults < 2) run.vectors[run.faults] = intno;
  if (run.faults++ == 0) {
    uc_context_save(uc, run.context);
    auto* blob = static_cast<std::uint8_t*>(static_cast<void*>(run.context)) + 0;
    // The blob's CPU state follows Unicorn's header; offsets were found in
    // the same kind of blob, so they apply to the whole context object.
    run.first_error = static_cast<std::uint32_t>(load<std::int32_t>(blob, run.dr0 - kErrorCodeBeforeDr0));
    run.first_in_flight = load<std::int32_t>(blob, run.dr0 + kOldExceptionAfterDr0);
    if (run.reset) {
      const std::int32_t none = -1;
      std::memcpy(blob + run.dr0 + kOldExceptionAfterDr0, &none, sizeof none);
      uc_context_restore(uc, run.context);
    }
    uc_reg_write(uc, UC_X86_REG_RIP, &run.retry_at);
    return;
  }
  uc_reg_write(uc, UC_X86_REG_RIP, &run.done_at);
}

// One scratch run: a store to an address the boot tables leave unmapped,
// taken twice. Returns false with `why` when the engine cannot be set up.
bool scratch_run(ScratchRun& run, std::string& why) {
  uc_engine* raw = nullptr;
  if (uc_open(UC_ARCH_X86, UC_MODE_64, &raw) != UC_ERR_OK) {
    why = "uc_open failed";
    return false;
  }
  unicorn::UcHandle uc(raw);
  RamGuestMemory ram({{0, 0x20000}});
  write_boot_tables(ram);
  // 0x10000: mov rax, 0x100000000; mov byte [rax], 1; hlt
  const std::array<std::uint8_t, 14> code = {0x48, 0xB8, 0, 0, 0, 0, 1, 0, 0, 0, 0xC6, 0x00, 0x01, 0xF4};
  constexpr std::uint64_t kCode = 0x10000;
  if (!ram.write(kCode, std::as_bytes(std::span(code)))) {
    why = "scratch RAM";
    return false;
  }
  unicorn::map_guest_ram(uc.get(), ram);
  load_long_mode(uc.get(), kRamBootTables, kCode, 0x18000);
  run.retry_at = kCode + 10;
  run.done_at = kCode + 13;
  std::uint64_t m0 = kMarker0, m1 = kMarker1;
  uc_reg_write(uc.get(), UC_X86_REG_DR0, &m0);
  uc_reg_write(uc.get(), UC_X86_REG_DR1, &m1);
  std::uint64_t m14 = kMarker14, m15 = kMarker15;
  uc_reg_write(uc.get(), UC_X86_REG_R14, &m14);
  uc_reg_write(uc.get(), UC_X86_REG_R15, &m15);
  if (uc_context_alloc(uc.get(), &run.context) != UC_ERR_OK) {
    why = "uc_context_alloc failed";
    return false;
  }
  // Find DR0 by its marker, DR1 right after it.
  uc_context_save(uc.get(), run.context);
  const auto* blob = reinterpret_cast<const std::uint8_t*>(run.context);
  const std::size_t size = uc_context_size(uc.get());
  bool found = false;
  for (std::size_t at = kErrorCodeBeforeDr0; at + kOldExceptionAfterDr0 + 4 <= size; ++at) {
    if (load<std::uint64_t>(blob, at) == kMarker0 && load<std::uint64_t>(blob, at + 8) == kMarker1) {
      run.dr0 = at;
      found = true;
      break;
    }
  }
  if (!found) {
    uc_context_free(run.context);
    why = "debug-register markers not found in the saved context";
    return false;
  }
  // The general registers, by R14's and R15's markers.
  run.cpu_state_failure = "general-register markers not found in the saved context";
  for (std::size_t at = kRegR14; at + 16 <= size; ++at) {
    if (load<std::uint64_t>(blob, at) == kMarker14 && load<std::uint64_t>(blob, at + 8) == kMarker15) {
      run.cpu_state = at - kRegR14;
      run.cpu_state_failure = run.cpu_state + segment_at(kSegGdt) + kSegmentCacheSize <= size
                                  ? check_cpu_state(blob + run.cpu_state, kCode)
                                  : "the saved context is too small";
      break;
    }
  }
  uc_hook h;
  uc_hook_add(uc.get(), &h, UC_HOOK_INTR, reinterpret_cast<void*>(&on_scratch_fault), &run, 1, 0);
  const uc_err err = uc_emu_start(uc.get(), kCode, 0, 0, 1000);
  uc_context_free(run.context);
  run.context = nullptr;
  if (err != UC_ERR_OK) {
    why = std::string("scratch run: ") + uc_strerror(err);
    return false;
  }
  return true;
}

UnicornX86Layout find_layout() {
  UnicornX86Layout layout;
  ScratchRun with_reset, without_reset;
  without_reset.reset = false;
  std::string why;
  if (!scratch_run(with_reset, why) || !scratch_run(without_reset, why)) {
    layout.failure = why;
    return layout;
  }
  if (with_reset.faults != 2 || with_reset.vectors[0] != kPageFault) {
    layout.failure = "the scratch store did not raise #PF";
  } else if (with_reset.first_error != 0x2) {
    layout.failure = "the #PF error code is not where expected (read " + std::to_string(with_reset.first_error) + ")";
  } else if (with_reset.first_in_flight != kPageFault) {
    layout.failure = "the in-flight exception is not where expected";
  } else if (with_reset.vectors[1] != kPageFault) {
    layout.failure = "a second #PF after the reset still arrived as vector " + std::to_string(with_reset.vectors[1]);
  } else if (without_reset.faults != 2 || without_reset.vectors[1] != kDoubleFault) {
    layout.failure = "without the reset a second #PF did not become #DF: the field is not the one the CPU reads";
  } else if (!with_reset.cpu_state_failure.empty()) {
    layout.failure = with_reset.cpu_state_failure;
  } else {
    layout.cpu_state = with_reset.cpu_state;
    layout.ok = true;
    layout.error_code = with_reset.dr0 - kErrorCodeBeforeDr0;
    layout.old_exception = with_reset.dr0 + kOldExceptionAfterDr0;
  }
  return layout;
}

}  // namespace

const UnicornX86Layout& x86_internals() {
  static const UnicornX86Layout layout = find_layout();
  return layout;
}

ExceptionState::ExceptionState(uc_engine* uc) {
  const UnicornX86Layout& layout = x86_internals();
  if (!layout.ok) {
    throw std::runtime_error("this Unicorn library's x86 exception state failed softsynic's self-test (" +
                             layout.failure + "); install Unicorn 2.1.1 (scripts/install-deps)");
  }
  unicorn::check(uc_context_alloc(uc, &context_), "uc_context_alloc");
}

ExceptionState::~ExceptionState() {
  if (context_ != nullptr) uc_context_free(context_);
}

std::uint32_t ExceptionState::take(uc_engine* uc) {
  const UnicornX86Layout& layout = x86_internals();
  uc_context_save(uc, context_);
  auto* blob = reinterpret_cast<std::uint8_t*>(context_);
  const auto error = static_cast<std::uint32_t>(load<std::int32_t>(blob, layout.error_code));
  const std::int32_t none = -1;
  if (load<std::int32_t>(blob, layout.old_exception) != none) {
    std::memcpy(blob + layout.old_exception, &none, sizeof none);
    uc_context_restore(uc, context_);
  }
  return error;
}

PrivilegeState::PrivilegeState(uc_engine* uc, const UnicornX86Layout& layout) : cpu_state_(layout.cpu_state) {
  if (!layout.ok) throw std::runtime_error("Unicorn's x86 CPU state is unknown: " + layout.failure);
  unicorn::check(uc_context_alloc(uc, &context_), "uc_context_alloc");
}

PrivilegeState::~PrivilegeState() {
  if (context_ != nullptr) uc_context_free(context_);
}

// As QEMU's own segment loads update hflags: a 64-bit CS sets CS32, SS32
// and CS64 (flat DS/ES/SS assumed: no ADDSEG), SS's B bit gives SS32, and
// the CPL is set with the CS's RPL (QEMU's loads take it from SS's DPL,
// the same value in both uses).
void PrivilegeState::load_segments(uc_engine* uc, const X86SegmentCache& cs, const X86SegmentCache& ss) {
  uc_context_save(uc, context_);
  std::uint8_t* state = context_bytes(context_) + cpu_state_;
  store_segment(state, kSegCs, cs);
  store_segment(state, kSegSs, ss);
  auto hflags = load<std::uint32_t>(state, kHflags);
  hflags = (hflags & ~(kHfCpl | kHfAddSeg | kHfSs32)) | kHfCs32 | kHfCs64 | (cs.selector & kHfCpl);
  if ((hflags & kHfLma) == 0 || (cs.attributes & seg_attr::kLong) == 0) hflags &= ~kHfCs64;
  if ((ss.attributes & seg_attr::kBig) != 0) hflags |= kHfSs32;
  store<std::uint32_t>(state, kHflags, hflags);
  uc_context_restore(uc, context_);
}

unsigned PrivilegeState::cpl(uc_engine* uc) {
  uc_context_save(uc, context_);
  return load<std::uint32_t>(context_bytes(context_) + cpu_state_, kHflags) & kHfCpl;
}

void continue_after_syscall_hook(UnicornX86Registers& regs, std::uint64_t rip) { regs.set_rip(rip - kSyscallLength); }

void x86_unicorn_syscall(UnicornX86Registers& regs, PrivilegeState& privilege) {
  X86SyscallInput in;
  in.next_rip = regs.rip() + kSyscallLength;  // the hook sees RIP at SYSCALL itself
  in.rflags = regs.rflags();
  in.star = regs.msr(kStarMsr);
  in.lstar = regs.msr(kLstarMsr);
  in.fmask = regs.msr(kFmaskMsr);
  const X86SyscallEntry entry = x86_syscall_entry(in);
  regs.write(UC_X86_REG_RCX, entry.rcx);
  regs.write(UC_X86_REG_R11, entry.r11);
  regs.set_rflags(entry.rflags);
  privilege.load_segments(regs.engine(), entry.cs, entry.ss);
  continue_after_syscall_hook(regs, entry.rip);
}

namespace {

// The user-mode self-test's machine: 128 KiB of RAM, a GDT with ring-3
// segments where STAR puts them and a TSS, one 2 MiB user page, an IDT
// whose #GP gate leads to ring 0.
constexpr std::uint64_t kUserGdt = 0x1000, kUserPml4 = 0x2000, kUserPdpt = 0x3000, kUserPd = 0x4000;
constexpr std::uint64_t kUserTss = 0x5000, kUserIdt = 0x6000, kKernelStack = 0x8000, kRsp0 = 0x9000;
constexpr std::uint64_t kUserStack = 0xF000, kUserCode = 0x10000, kUserRam = 0x20000;
constexpr std::uint16_t kTssSelector = 0x28, kUserCs = 0x23, kUserSs = 0x1B;
constexpr std::uint64_t kStar = (std::uint64_t{0x10} << 48) | (std::uint64_t{kCodeSelector} << 32);
constexpr std::uint64_t kFmaskIf = 1u << 9;
constexpr std::uint8_t kGeneralProtection = 13;
// start (CPL 0): mov ax, 0x28; ltr ax; push 0x1b; push 0xF000; push 0x202;
//   push 0x23; lea rax, [user]; push rax; iretq
// user (0x1F, CPL 3): syscall
// after_syscall (0x21): mov r13d, cs; mov r14d, ss
// user_hlt (0x27): hlt                                  (#GP at CPL 3)
// kentry (0x28, LSTAR): mov esi, 1; mov rax, cr3; mov cr3, rax;
//   mov r8d, cs; mov r9d, ss; pushfq; pop rdx; sysretq
// k_gp (0x3E, IDT 13): mov rax, cr3; mov cr3, rax; mov r15d, cs; mov ebp, ss;
//   mov rbx, rsp
// k_hlt (0x4C): hlt                                     (ends the run)
constexpr std::array<std::uint8_t, 77> kUserModeCode = {
    0x66, 0xb8, 0x28, 0x00, 0x0f, 0x00, 0xd8, 0x6a, 0x1b, 0x68, 0x00, 0xf0, 0x00, 0x00, 0x68, 0x02,
    0x02, 0x00, 0x00, 0x6a, 0x23, 0x48, 0x8d, 0x05, 0x03, 0x00, 0x00, 0x00, 0x50, 0x48, 0xcf, 0x0f,
    0x05, 0x41, 0x8c, 0xcd, 0x41, 0x8c, 0xd6, 0xf4, 0xbe, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x20, 0xd8,
    0x0f, 0x22, 0xd8, 0x41, 0x8c, 0xc8, 0x41, 0x8c, 0xd1, 0x9c, 0x5a, 0x48, 0x0f, 0x07, 0x0f, 0x20,
    0xd8, 0x0f, 0x22, 0xd8, 0x41, 0x8c, 0xcf, 0x8c, 0xd5, 0x48, 0x89, 0xe3, 0xf4};
constexpr std::uint64_t kAfterSyscall = kUserCode + 0x21, kUserHlt = kUserCode + 0x27;
constexpr std::uint64_t kSyscallEntry = kUserCode + 0x28, kGpHandler = kUserCode + 0x3E, kKernelHlt = kUserCode + 0x4C;

struct UserModeRun {
  PrivilegeState* privilege = nullptr;
  UnicornX86Registers* regs = nullptr;
  GuestMemory* ram = nullptr;
  int syscalls = 0, faults = 0;
  unsigned syscall_cpl = 9, fault_cpl = 9;
  std::uint64_t fault_rip = 0;
  std::string failure;
};

void on_user_mode_syscall(uc_engine*, void* user) {
  auto& run = *static_cast<UserModeRun*>(user);
  ++run.syscalls;
  run.syscall_cpl = run.privilege->cpl(run.regs->engine());
  x86_unicorn_syscall(*run.regs, *run.privilege);
}

void on_user_mode_fault(uc_engine* uc, std::uint32_t intno, void* user) {
  auto& run = *static_cast<UserModeRun*>(user);
  run.fault_rip = run.regs->rip();
  run.fault_cpl = run.privilege->cpl(uc);
  if (intno != kGeneralProtection || run.faults++ != 0) {
    run.failure = "unexpected vector " + std::to_string(intno) + " at " + std::to_string(run.fault_rip) + " (CPL " +
                  std::to_string(run.fault_cpl) + ")";
    uc_emu_stop(uc);
    return;
  }
  // As the engine delivers: through the IDT, privilege switch included.
  devices::GuestMemoryLinear linear(*run.ram);
  const auto result = devices::x86_deliver_event(*run.regs, linear, run.regs->descriptor_tables(),
                                                 {kGeneralProtection, devices::X86EventKind::exception, 0});
  if (result.status != devices::X86EntryStatus::delivered) {
    run.failure = "the #GP from ring 3 was not delivered";
    uc_emu_stop(uc);
  }
}

void put(RamGuestMemory& ram, std::uint64_t gpa, std::uint64_t value) {
  std::byte bytes[8];
  std::memcpy(bytes, &value, sizeof value);
  ram.write(gpa, bytes);
}

void write_user_mode_machine(RamGuestMemory& ram) {
  constexpr std::uint64_t kUserData = 0x00CF'F200'0000'FFFF, kUserCode64 = 0x00AF'FA00'0000'FFFF;
  put(ram, kUserGdt + kCodeSelector, kCode64Descriptor);
  put(ram, kUserGdt + kDataSelector, kDataDescriptor);
  put(ram, kUserGdt + (kUserSs & ~3u), kUserData);
  put(ram, kUserGdt + (kUserCs & ~3u), kUserCode64);
  put(ram, kUserGdt + kTssSelector, 0x0000'8900'0000'0067 | (kUserTss << 16));  // available 64-bit TSS
  put(ram, kUserTss + 4, kRsp0);
  constexpr std::uint64_t kUserWritablePresent = 0x7, kLarge = 0x80;
  put(ram, kUserPml4, kUserPdpt | kUserWritablePresent);
  put(ram, kUserPdpt, kUserPd | kUserWritablePresent);
  put(ram, kUserPd, kUserWritablePresent | kLarge);
  // Interrupt gate 13: offset, selector 0x08, present, DPL 0, type 0xE.
  put(ram, kUserIdt + 16 * kGeneralProtection,
      (kGpHandler & 0xFFFF) | (std::uint64_t{kCodeSelector} << 16) | (std::uint64_t{0x8E} << 40) |
          ((kGpHandler >> 16 & 0xFFFF) << 48));
  ram.write(kUserCode, std::as_bytes(std::span(kUserModeCode)));
}

std::string check_user_mode_run(const UserModeRun& run, UnicornX86Registers& regs, RamGuestMemory& ram) {
  auto reg = [&](int id) { return regs.read(id); };
  if (!run.failure.empty()) return run.failure;
  if (run.syscalls != 1) return "SYSCALL did not reach its hook once (IRETQ to ring 3 or LTR faulted)";
  if (run.syscall_cpl != 3) return "IRETQ to a ring-3 frame left CPL " + std::to_string(run.syscall_cpl);
  if (reg(UC_X86_REG_RSI) != 1) return "SYSCALL did not continue at LSTAR";
  if (reg(UC_X86_REG_R8) != kCodeSelector || reg(UC_X86_REG_R9) != kDataSelector)
    return "SYSCALL's CS and SS are not STAR[47:32] and STAR[47:32] + 8";
  if ((reg(UC_X86_REG_RDX) & kFmaskIf) != 0 || (reg(UC_X86_REG_R11) & kFmaskIf) == 0)
    return "SYSCALL did not save RFLAGS in R11 and mask it with FMASK";
  if (reg(UC_X86_REG_RCX) != kAfterSyscall) return "SYSCALL did not save the next RIP in RCX";
  if (reg(UC_X86_REG_R13) != kUserCs || reg(UC_X86_REG_R14) != kUserSs) return "SYSRETQ did not load ring 3's CS and SS";
  if (run.faults != 1 || run.fault_rip != kUserHlt)
    return "HLT in ring 3 after SYSRETQ did not raise #GP (MOV to CR3 in ring 0 faulted, or SYSRETQ left ring 0)";
  if (run.fault_cpl != 3) return "SYSRETQ left CPL " + std::to_string(run.fault_cpl);
  if (reg(UC_X86_REG_R15) != kCodeSelector || reg(UC_X86_REG_RBP) != 0)
    return "the #GP handler did not run with the gate's CS and a null SS";
  constexpr std::uint64_t kFrame = kRsp0 - 6 * 8;
  if (reg(UC_X86_REG_RBX) != kFrame) return "the #GP frame is not on TSS.RSP0";
  std::array<std::byte, 6 * 8> frame{};
  ram.read(kFrame, frame);
  std::uint64_t f[6];
  std::memcpy(f, frame.data(), sizeof f);
  if (f[0] != 0 || f[1] != kUserHlt || f[2] != kUserCs || f[4] != kUserStack || f[5] != kUserSs)
    return "the #GP frame is not error code, RIP, CS, RFLAGS, RSP, SS of ring 3";
  if (run.privilege->cpl(regs.engine()) != 0 || reg(UC_X86_REG_RIP) != kKernelHlt + 1)
    return "the #GP handler did not run to its HLT at CPL 0 (MOV to CR3 faulted)";
  return {};
}

UserModeVerdict run_user_mode_selftest() {
  UserModeVerdict verdict;
  const UnicornX86Layout& layout = x86_internals();
  if (!layout.ok) {
    verdict.failure = layout.failure;
    return verdict;
  }
  if (auto forced = unicorn::forced_selftest_failure(kUserModeSelftestEnv)) {
    verdict.failure = *forced;
    return verdict;
  }
  try {
    unicorn::UcHandle uc = unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
    RamGuestMemory ram({{0, kUserRam}});
    write_user_mode_machine(ram);
    unicorn::map_guest_ram(uc.get(), ram);
    load_long_mode(uc.get(), {kUserGdt, kTssSelector + 16 - 1, kUserPml4}, kUserCode, kKernelStack);
    UnicornX86Registers regs(uc.get());
    PrivilegeState privilege(uc.get(), layout);
    regs.set_privilege(&privilege);
    uc_x86_mmr idtr{};
    idtr.base = kUserIdt;
    idtr.limit = 256 * 16 - 1;
    unicorn::check(uc_reg_write(uc.get(), UC_X86_REG_IDTR, &idtr), "IDTR");
    for (auto [msr, value] : {std::pair{kEferMsr, regs.msr(kEferMsr) | kEferSce}, std::pair{kStarMsr, kStar},
                              std::pair{kLstarMsr, kSyscallEntry}, std::pair{kFmaskMsr, kFmaskIf}}) {
      uc_x86_msr m{msr, value};
      unicorn::check(uc_reg_write(uc.get(), UC_X86_REG_MSR, &m), "MSR");
    }
    UserModeRun run;
    run.privilege = &privilege;
    run.regs = &regs;
    run.ram = &ram;
    uc_hook h;
    unicorn::check(uc_hook_add(uc.get(), &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_user_mode_syscall), &run, 1, 0,
                               UC_X86_INS_SYSCALL),
                   "SYSCALL hook");
    unicorn::check(uc_hook_add(uc.get(), &h, UC_HOOK_INTR, reinterpret_cast<void*>(&on_user_mode_fault), &run, 1, 0),
                   "fault hook");
    const uc_err err = uc_emu_start(uc.get(), kUserCode, 0, 0, 1000);
    if (err != UC_ERR_OK) {
      verdict.failure = std::string("scratch run: ") + uc_strerror(err);
      return verdict;
    }
    verdict.failure = check_user_mode_run(run, regs, ram);
  } catch (const std::exception& e) {
    verdict.failure = e.what();
  }
  verdict.ok = verdict.failure.empty();
  return verdict;
}

}  // namespace

const UserModeVerdict& x86_user_mode() {
  static const UserModeVerdict verdict = run_user_mode_selftest();
  return verdict;
}

// --- Direct registers --------------------------------------------------

namespace {

// How much of uc_struct is searched for the pointer (it sits in the first
// KiB), how far behind each pointer the state may start (the CPU object
// before it holds the CPUState and the TLB descriptors), and how far
// behind RAX the CRs may be (past hflags and ten segment caches).
constexpr std::size_t kEngineStateScan = 16 * 1024;
constexpr std::size_t kCpuWindow = 256 * 1024;
constexpr std::size_t kCrSearch = 4 * 1024;
constexpr std::size_t kOwnPage = 4096;
constexpr std::uint64_t kGprMarker = 0x5AF7'51C0'DE0D'6000;  // + the register's number
// Page-aligned and below 4 GiB: Unicorn hands CR3's low half to QEMU.
constexpr std::array<std::uint64_t, 2> kCr3Markers = {0x7A5C'3000, 0x6B4D'5000};
constexpr std::array<int, 16> kGprIds = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
constexpr std::size_t kRdx = 2, kRbx = 3, kR15 = 15;

std::uint64_t address_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

std::uint64_t reg(uc_engine* uc, int id) {
  std::uint64_t v = 0;
  uc_reg_read(uc, id, &v);
  return v;
}

void set_reg(uc_engine* uc, int id, std::uint64_t v) { uc_reg_write(uc, id, &v); }

struct LiveFound {
  std::size_t cpu_pointer = 0;
  std::size_t regs = 0;
};

bool holds_gpr_markers(const std::uint64_t* words, std::uint64_t base) {
  for (std::size_t i = 0; i < kGprIds.size(); ++i) {
    if (words[i] != base + i) return false;
  }
  return true;
}

void write_gpr_markers(uc_engine* uc, std::uint64_t base) {
  for (std::size_t i = 0; i < kGprIds.size(); ++i) set_reg(uc, kGprIds[i], base + i);
}

// Every pointer in uc_struct behind which the 16 markers sit in order,
// nearest first (some pointers lead to memory that merely lies before the
// state, at a distance that differs between engines).
std::vector<LiveFound> find_gpr_markers(uc_engine* uc, std::uint64_t base) {
  std::vector<std::uint64_t> state(kEngineStateScan / 8), window(kCpuWindow / 8);
  const std::size_t words = unicorn::read_own_memory(address_of(uc), state.data(), kEngineStateScan) / 8;
  std::vector<LiveFound> found;
  for (std::size_t k = 0; k < words; ++k) {
    const std::uint64_t p = state[k];
    if (p < 0x10000 || p >= (std::uint64_t{1} << 47) || p % 8 != 0) continue;
    const std::size_t got = unicorn::read_own_memory(p, window.data(), kCpuWindow) / 8;
    for (std::size_t w = 0; w + kGprIds.size() <= got; ++w) {
      if (window[w] == base && holds_gpr_markers(&window[w], base)) found.push_back({k * 8, w * 8});
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const LiveFound& a, const LiveFound& b) { return a.regs < b.regs; });
  return found;
}

// The state a candidate leads to in `uc`, when it holds the markers there.
std::uint64_t* follow(uc_engine* uc, const LiveFound& at, std::uint64_t base) {
  std::uint64_t cpu = 0;
  if (unicorn::read_own_memory(address_of(uc) + at.cpu_pointer, &cpu, sizeof cpu) != sizeof cpu) return nullptr;
  std::array<std::uint64_t, kGprIds.size()> words{};
  if (unicorn::read_own_memory(cpu + at.regs, words.data(), sizeof words) != sizeof words || !holds_gpr_markers(words.data(), base))
    return nullptr;
  return reinterpret_cast<std::uint64_t*>(static_cast<std::uintptr_t>(cpu + at.regs));
}

// CR3's slot by two markers written through uc_reg_write; CR0 is three
// slots before it.
std::string find_crs(uc_engine* uc, const std::uint64_t* live, std::size_t& cr0) {
  std::array<std::uint64_t, kCrSearch / 8> window{};
  std::size_t slot = 0;
  for (std::uint64_t marker : kCr3Markers) {
    set_reg(uc, UC_X86_REG_CR3, marker);
    const std::size_t got = unicorn::read_own_memory(address_of(live), window.data(), kCrSearch) / 8;
    std::size_t hits = 0, at = 0;
    for (std::size_t w = kLiveRip + 1; w < got; ++w) {
      if (window[w] == marker) {
        ++hits;
        at = w;
      }
    }
    if (hits != 1 || (slot != 0 && at != slot)) return "CR3's marker is not at one place in the found state";
    slot = at;
  }
  cr0 = (slot - 3) * 8;
  if (live[slot - 3] != reg(uc, UC_X86_REG_CR0) || live[slot + 1] != reg(uc, UC_X86_REG_CR4) ||
      (live[slot - 3] & 1) == 0)
    return "CR0 and CR4 are not beside CR3 in the found state";
  return {};
}

struct OutProbe {
  std::uint64_t* live = nullptr;
  std::uint64_t seen_rax = 0;
  std::uint32_t value = 0;
  int calls = 0;
};

constexpr std::uint64_t kProbeRax = 0x42, kProbeRdx = 0x5AF7'0D1E'C7ED'0000;

void on_probe_out(uc_engine*, std::uint32_t, int, std::uint32_t value, void* user) {
  auto& probe = *static_cast<OutProbe*>(user);
  ++probe.calls;
  probe.value = value;
  probe.seen_rax = probe.live[0];
  probe.live[kRdx] = kProbeRdx;
}

// Inside a hook: RAX stored before the run is what OUT writes and what the
// hook reads; RDX stored in the hook is what the next instruction copies.
std::string prove_in_hook(uc_engine* uc, std::uint64_t* live) {
  // 0x1000: out 0x80, al; mov rcx, rdx
  const std::array<std::uint8_t, 5> code = {0xE6, 0x80, 0x48, 0x89, 0xD1};
  constexpr std::uint64_t kProbeCode = 0x1000;
  if (uc_mem_map(uc, kProbeCode, kOwnPage, UC_PROT_ALL) != UC_ERR_OK ||
      uc_mem_write(uc, kProbeCode, code.data(), code.size()) != UC_ERR_OK)
    return "scratch code";
  OutProbe probe;
  probe.live = live;
  uc_hook h;
  if (uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_probe_out), &probe, 1, 0, UC_X86_INS_OUT) !=
      UC_ERR_OK)
    return "OUT hook";
  live[0] = kProbeRax;
  live[kRdx] = 0;
  const uc_err err = uc_emu_start(uc, kProbeCode, kProbeCode + code.size(), 0, 0);
  if (err != UC_ERR_OK) return std::string("scratch run: ") + uc_strerror(err);
  if (probe.calls != 1 || probe.value != kProbeRax || probe.seen_rax != kProbeRax)
    return "a RAX stored before the run is not what OUT wrote and its hook read";
  if (reg(uc, UC_X86_REG_RCX) != kProbeRdx) return "a RDX stored in a hook is not what the guest used next";
  return {};
}

std::string prove_live_state(uc_engine* uc, std::uint64_t* live, std::size_t& cr0) {
  for (std::uint64_t value : {0x0123'4567'89AB'CDEFull, 0xFEDC'BA98'7654'3210ull}) {
    set_reg(uc, UC_X86_REG_RAX, value);
    if (live[0] != value) return "a RAX written through uc_reg_write is not in the found state";
    live[kRbx] = ~value;
    live[kR15] = value ^ 0x5555;
    if (reg(uc, UC_X86_REG_RBX) != ~value || reg(uc, UC_X86_REG_R15) != (value ^ 0x5555))
      return "RBX and R15 stored into the found state do not read back through uc_reg_read";
    set_reg(uc, UC_X86_REG_RIP, value >> 16);
    if (live[kLiveRip] != value >> 16) return "RIP does not follow the general registers";
  }
  if (std::string why = find_crs(uc, live, cr0); !why.empty()) return why;
  for (std::uint16_t selector : {0x33, 0x08}) {
    set_reg(uc, UC_X86_REG_CS, selector);
    if (load<std::uint32_t>(reinterpret_cast<const std::uint8_t*>(live), segment_at(kSegCs)) != selector)
      return "CS's selector is not in its segment cache in the found state";
  }
  return prove_in_hook(uc, live);
}

X86LiveStateLayout find_live_state() {
  X86LiveStateLayout layout;
  if (auto forced = unicorn::forced_selftest_failure(kDirectRegsSelftestEnv)) {
    layout.failure = *forced;
    return layout;
  }
  try {
    // Found on one engine, the pointer and offset must lead to a second
    // engine's state too; the proofs run on the second.
    unicorn::UcHandle first = unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
    unicorn::UcHandle second = unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
    constexpr std::uint64_t kSecondMarker = kGprMarker + 0x100;
    write_gpr_markers(first.get(), kGprMarker);
    write_gpr_markers(second.get(), kSecondMarker);
    std::uint64_t* live = nullptr;
    for (const LiveFound& candidate : find_gpr_markers(first.get(), kGprMarker)) {
      live = follow(second.get(), candidate, kSecondMarker);
      if (live != nullptr) {
        layout.cpu_pointer = candidate.cpu_pointer;
        layout.regs = candidate.regs;
        break;
      }
    }
    layout.failure = live == nullptr ? "the general-register markers are not behind a pointer in Unicorn's engine state"
                                     : prove_live_state(second.get(), live, layout.cr0);
    layout.cs = segment_at(kSegCs);
  } catch (const std::exception& e) {
    layout.failure = e.what();
  }
  layout.ok = layout.failure.empty();
  return layout;
}

}  // namespace

const X86LiveStateLayout& x86_live_state() {
  static const X86LiveStateLayout layout = find_live_state();
  return layout;
}

std::uint64_t* x86_live_registers(uc_engine* uc) {
  const X86LiveStateLayout& layout = x86_live_state();
  if (!layout.ok || uc == nullptr) return nullptr;
  // (Reading a register first makes Unicorn create its CPU object.)
  std::uint64_t saved = 0;
  if (uc_reg_read(uc, UC_X86_REG_RAX, &saved) != UC_ERR_OK) return nullptr;
  std::uint64_t cpu = 0;
  if (unicorn::read_own_memory(address_of(uc) + layout.cpu_pointer, &cpu, sizeof cpu) != sizeof cpu) return nullptr;
  const std::uint64_t at = cpu + layout.regs;
  const std::uint64_t marker = kGprMarker ^ at;
  set_reg(uc, UC_X86_REG_RAX, marker);
  std::uint64_t seen = 0;
  const bool ok = unicorn::read_own_memory(at, &seen, sizeof seen) == sizeof seen && seen == marker;
  set_reg(uc, UC_X86_REG_RAX, saved);
  return ok ? reinterpret_cast<std::uint64_t*>(static_cast<std::uintptr_t>(at)) : nullptr;
}

}  // namespace softsynic::emu::x86
