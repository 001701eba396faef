// HypercallOutcome: what the emulator does after handing a hypercall
// instruction (x86 VMCALL/VMMCALL, ARM64 HVC) to the hooks (TLFS
// "Hypercall Interface"). Shared by both architectures.
#pragma once

#include <cstdint>

#include "synic/defs/status.h"

namespace softsynic {

enum class HypercallAction {
  // Handled: the result (and any fast output) is in the register file.
  // x86: resume after the instruction (or at the `ret` of the hypercall
  // page when the page's first byte was trapped). ARM64: the PC is already
  // past the HVC; just resume.
  completed,
  // Inject #UD (x86-64): the hypercall interface is switched off.
  invalid_opcode,
  // Not ours (ARM64 HVC with an immediate other than 0 or 1): the emulator
  // handles it as it would without a hypervisor. Nothing was written.
  not_mine,
};

struct HypercallOutcome {
  HypercallAction action = HypercallAction::completed;
  // status and reps_completed describe a Hyper-V hypercall; false for an
  // SMCCC service call (vendor UID query, NOT_SUPPORTED answer).
  bool is_hypercall = true;
  HvStatus status = HvStatus::success;
  std::uint32_t reps_completed = 0;
  // At least one register of the file was written (always true when
  // completed; false for invalid_opcode and not_mine).
  bool registers_written = false;
};

}  // namespace softsynic
