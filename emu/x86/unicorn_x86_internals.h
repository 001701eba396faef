// The x86 state that Unicorn 2.1 keeps but does not expose, reached
// through the CPU state inside a saved uc_context:
//  - the error code of the exception being raised (a #PF's P/W/U/I bits:
//    UC_HOOK_INTR passes only the vector);
//  - the "exception in flight" that the CPU's double-fault check reads.
//    Unicorn never delivers an exception itself, so it never clears it: a
//    second, unrelated #GP or #PF would be promoted to #DF, a third to a
//    triple fault;
//  - the CPL (QEMU keeps it in hflags, set from SS's DPL when a segment
//    cache loads) and the CS and SS caches. uc_reg_write of CS or SS only
//    changes the selector, never the CPL, and Unicorn's SYSCALL runs the
//    UC_HOOK_INSN hooks and then adds the instruction's length to RIP,
//    nothing else. So an event or SYSCALL taken in ring 3 would run its
//    ring-0 handler at CPL 3. (SYSRET and IRETQ are QEMU's own: they do
//    enter ring 3.)
// The offsets are found once per process by marker searches (DR0/DR1 sit
// at a fixed distance from the first two in QEMU's CPUX86State, and the
// general registers start the state, followed at fixed distances by RIP,
// hflags and the segment caches) and proved by self-tests on scratch
// engines:
//  - faults: a real #PF of a write to an unmapped page must report error
//    code 0x2 and set the in-flight state; once reset, a second #PF must
//    arrive as #PF; without the reset it must arrive as #DF. When this
//    fails, engines refuse to start with the reason
//    (x86_internals().failure), rather than run guests wrongly;
//  - user mode (x86_user_mode()): ring 3 entered by IRETQ, a SYSCALL to
//    ring 0 through x86_unicorn_syscall (MOV to CR3 must work there, CS and
//    SS must read STAR's selectors), SYSRETQ back to ring 3 (CS 0x23, SS
//    0x1b), and a #GP from ring 3 (HLT) delivered through the IDT as the
//    engine does, landing at CPL 0 with CS from the gate, SS null and the
//    frame on TSS.RSP0. When it fails, or when the environment variable
//    SOFTSYNIC_USER_MODE_SELFTEST=fail forces it to (for tests), engines
//    run, but refuse user mode: the first ring-3 instruction, SYSCALL or
//    event from ring 3 ends the run with a guest fault naming the reason.
//  - direct registers (x86_live_state(), x86_live_registers()): an
//    engine's live CPUX86State, so that the general registers, RIP and
//    CR0/CR3/CR4 are plain loads and stores instead of uc_reg_read and
//    uc_reg_write calls (a trap reads and writes several). On a scratch
//    engine the 16 general registers get markers through uc_reg_write; the
//    pointers among the first 16 KiB of Unicorn's engine state (uc_struct,
//    which holds the CPU object that embeds the state) are followed, each
//    window of up to 256 KiB read with process_vm_readv (a pointer to
//    nothing readable is skipped, never dereferenced), until one holds the
//    markers in order (the nearest such pointer that leads to a second
//    engine's markers too); CR3 is found by a marker the same way, CR0 and
//    CR4 beside it; CS's selector sits in its segment cache, as above.
//    Proved there: values written through uc_reg_write appear in the
//    found memory (RAX, RIP, CR3, CS, twice), values stored into it read
//    back through uc_reg_read (RBX, R15), CR0 and CR4 read what
//    uc_reg_read reads, and inside an OUT hook a stored RDX is what the
//    guest's next instruction uses. Each engine then takes the same pointer
//    and offset, checked by a marker written to RAX through uc_reg_write
//    (and put back). When anything fails, or the environment variable
//    SOFTSYNIC_X86_DIRECT_REGS_SELFTEST=fail forces it to, registers go
//    through uc_reg_read and uc_reg_write as before. Direct for reads
//    only: RIP (Unicorn must also end the translated block when a hook
//    moves the PC), CR0/CR3/CR4 (writes flush TLBs, change modes) and CS's
//    selector (writes load the cache). Not direct: RFLAGS (QEMU computes
//    the arithmetic flags lazily), everything else.
//
// This is the only file that knows Unicorn's internal layout (besides the
// soft TLB's fault address, x86_soft_tlb.cpp).
//
// Threading: x86_internals(), x86_user_mode() and x86_live_state() are
// thread-safe (computed once); x86_live_registers() is engine-affine
// (call it on the engine's thread, before or between runs);
// ExceptionState and PrivilegeState are engine-affine.
#pragma once

#include <unicorn/unicorn.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "emu/x86/x86_privilege.h"

namespace softsynic::emu::x86 {

class UnicornX86Registers;

struct UnicornX86Layout {
  bool ok = false;
  std::string failure;            // why not, when !ok
  std::size_t error_code = 0;     // offset in the context blob
  std::size_t old_exception = 0;  // offset in the context blob
  std::size_t cpu_state = 0;      // offset of RAX, where the CPU state starts
};

// The layout of the installed library, found and self-tested at first use.
const UnicornX86Layout& x86_internals();

// Where an engine's live CPU state is, relative to Unicorn's engine state.
struct X86LiveStateLayout {
  bool ok = false;
  std::string failure;          // why not, when !ok
  std::size_t cpu_pointer = 0;  // offset in uc_struct of a pointer to the CPU object
  std::size_t regs = 0;         // offset of RAX from where that pointer points
  std::size_t cr0 = 0;          // offset of CR0 from RAX (CR1..CR4 follow)
  std::size_t cs = 0;           // offset of CS's selector (32 bits) from RAX
};
inline constexpr const char* kDirectRegsSelftestEnv = "SOFTSYNIC_X86_DIRECT_REGS_SELFTEST";
// Slots of the live state, in 8-byte words from RAX: the general registers
// (X86Reg order: RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15), then RIP.
inline constexpr std::size_t kLiveRip = 16;

// The layout, found and self-tested at first use.
const X86LiveStateLayout& x86_live_state();

// Per engine: its live RAX (slots as above; CR0 at layout.cr0 bytes from
// it), or nullptr when the layout is unknown or this engine fails the RAX
// marker check. Valid for the engine's lifetime; the memory is the
// engine's own, read and written on its thread only (inside hooks and
// between runs).
std::uint64_t* x86_live_registers(uc_engine* uc);

// Per engine: a context buffer for the read-and-reset.
class ExceptionState {
 public:
  // Throws std::runtime_error with the self-test's reason when the layout
  // is unknown.
  explicit ExceptionState(uc_engine* uc);
  ~ExceptionState();
  ExceptionState(const ExceptionState&) = delete;
  ExceptionState& operator=(const ExceptionState&) = delete;

  // From UC_HOOK_INTR (or right after it): the raised exception's error
  // code; clears the in-flight exception so the next fault is judged on
  // its own. Costs a context save and restore (a few KiB copied).
  std::uint32_t take(uc_engine* uc);

 private:
  uc_context* context_ = nullptr;
};

// The user-mode self-test's verdict.
struct UserModeVerdict {
  bool ok = false;
  std::string failure;  // why not, when !ok
};
inline constexpr const char* kUserModeSelftestEnv = "SOFTSYNIC_USER_MODE_SELFTEST";

// Runs the user-mode self-test at first use (needs x86_internals().ok).
const UserModeVerdict& x86_user_mode();

// Per engine: a context buffer for privilege changes.
class PrivilegeState {
 public:
  // Throws std::runtime_error when the layout is unknown.
  PrivilegeState(uc_engine* uc, const UnicornX86Layout& layout);
  ~PrivilegeState();
  PrivilegeState(const PrivilegeState&) = delete;
  PrivilegeState& operator=(const PrivilegeState&) = delete;

  // Loads CS's and SS's hidden parts and makes CS's RPL the CPL, as a far
  // transfer does (SYSCALL, an interrupt entry to an inner ring). CS must
  // be 64-bit code (both uses are). Costs a context save and restore.
  void load_segments(uc_engine* uc, const X86SegmentCache& cs, const X86SegmentCache& ss);
  // The CPL as Unicorn keeps it (what decides privileged instructions).
  unsigned cpl(uc_engine* uc);

 private:
  uc_context* context_ = nullptr;
  std::size_t cpu_state_ = 0;
};

// From a UC_HOOK_INSN SYSCALL hook: makes the CPU continue at `rip`
// (Unicorn adds SYSCALL's length to RIP after the hooks).
void continue_after_syscall_hook(UnicornX86Registers& regs, std::uint64_t rip);

// From a UC_HOOK_INSN SYSCALL hook, once the caller has checked EFER.SCE
// and 64-bit mode: SYSCALL's transition (x86_syscall_entry) to CPL 0.
void x86_unicorn_syscall(UnicornX86Registers& regs, PrivilegeState& privilege);

}  // namespace softsynic::emu::x86
