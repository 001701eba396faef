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
//
// This is the only file that knows Unicorn's internal layout.
//
// Threading: x86_internals() and x86_user_mode() are thread-safe
// (computed once); ExceptionState and PrivilegeState are engine-affine.
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
