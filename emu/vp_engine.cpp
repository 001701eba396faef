// Names and layouts shared by every engine and the runner.
#include "emu/vp_engine.h"

#include <cstdio>

namespace softsynic::emu {

std::string describe(const UnhandledAccess& what) {
  const char* kind = "access";
  switch (what.kind) {
    case UnhandledAccess::Kind::msr_read: kind = "MSR read"; break;
    case UnhandledAccess::Kind::msr_write: kind = "MSR write"; break;
    case UnhandledAccess::Kind::port_read: kind = "port read"; break;
    case UnhandledAccess::Kind::port_write: kind = "port write"; break;
    case UnhandledAccess::Kind::hypercall: kind = "hypercall"; break;
    default: break;
  }
  char number[24];
  std::snprintf(number, sizeof number, "%#llx", static_cast<unsigned long long>(what.number));
  return std::string("unhandled ") + kind + " " + number;
}

std::string_view arch_name(Arch arch) {
  switch (arch) {
    case Arch::x86_64:
      return "x86_64";
    case Arch::aarch64:
      return "aarch64";
    default:
      return "unknown";
  }
}

std::optional<Arch> arch_from_name(std::string_view name) {
  if (name == "x86_64" || name == "x86-64") return Arch::x86_64;
  if (name == "aarch64" || name == "arm64") return Arch::aarch64;
  return std::nullopt;
}

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::halted:
      return "halted";
    case StopReason::exit_requested:
      return "exit_requested";
    case StopReason::slice_budget:
      return "slice_budget";
    case StopReason::guest_fault:
      return "guest_fault";
    case StopReason::triple_fault:
      return "triple_fault";
    case StopReason::breakpoint:
      return "breakpoint";
    case StopReason::step:
      return "step";
    default:
      return "unknown";
  }
}

MemoryLayout memory_layout(Arch arch) {
  switch (arch) {
    case Arch::aarch64:
      // RAM where the common "virt" boards put it; the image 512 KiB in.
      return {0x4000'0000, 0x4008'0000, 0x8'0000};
    case Arch::x86_64:
    default:
      // The first MiB holds the runner's GDT and page tables.
      return {0, 0x10'0000, 0x10'0000};
  }
}

std::string RegisterSnapshot::to_string() const {
  std::string out;
  char buf[64];
  for (const auto& [name, value] : registers) {
    std::snprintf(buf, sizeof buf, "%s%s=%#llx", out.empty() ? "" : " ", name.c_str(),
                  static_cast<unsigned long long>(value));
    out += buf;
  }
  return out;
}

}  // namespace softsynic::emu
