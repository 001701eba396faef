// Target descriptions (gdb's qXfer:features:read "target.xml") for the
// two guest architectures, and the register list they imply: the position
// in `registers` is the gdb register number (g/G order, p/P numbers).
// Immutable after first use; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "emu/gdb/target.h"

namespace softsynic::gdb {

struct RegisterInfo {
  std::string name;
  unsigned bits = 64;
  std::string type;     // a gdb predefined type or one the description defines
  std::string feature;  // the feature element the register sits in
};

struct TargetDescription {
  std::vector<RegisterInfo> registers;
  unsigned pc_regno = 0;
  std::string xml;

  // nullopt when `name` is not a register of the description.
  std::optional<unsigned> regno(std::string_view name) const;
};

// x86-64: org.gnu.gdb.i386.core (general registers, rip, eflags, segment
// selectors, the x87 registers gdb requires there), org.gnu.gdb.i386.segments
// (fs_base, gs_base) and org.softsynic.x86.sys (cr0, cr2, cr3, cr4, cr8,
// efer). aarch64: org.gnu.gdb.aarch64.core (x0-x30, sp, pc, cpsr).
const TargetDescription& target_description(TargetArch arch);

}  // namespace softsynic::gdb
