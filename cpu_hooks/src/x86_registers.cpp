// X86RegisterFile and the x86 register name table.
#include "cpu_hooks/x86_registers.h"

namespace softsynic {

namespace {
constexpr std::string_view kX86RegNames[kX86RegCount] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8",     "r9",
    "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
};

constexpr unsigned index_of(X86Reg reg) { return static_cast<unsigned>(reg); }
}  // namespace

std::string_view x86_reg_name(X86Reg reg) {
  return index_of(reg) < kX86RegCount ? kX86RegNames[index_of(reg)] : std::string_view{};
}

std::optional<X86Reg> x86_reg_from_name(std::string_view name) {
  for (unsigned i = 0; i < kX86RegCount; ++i)
    if (kX86RegNames[i] == name) return X86Reg(i);
  return std::nullopt;
}

std::uint64_t X86RegisterFile::get(X86Reg reg) const {
  return index_of(reg) < kX86RegCount ? gpr[index_of(reg)] : 0;
}

void X86RegisterFile::set(X86Reg reg, std::uint64_t value) {
  if (index_of(reg) >= kX86RegCount) return;
  gpr[index_of(reg)] = value;
  written |= 1u << index_of(reg);
}

Uint128 X86RegisterFile::get_xmm(unsigned n) const { return n < kXmmCount ? xmm[n] : Uint128{}; }

void X86RegisterFile::set_xmm(unsigned n, Uint128 value) {
  if (n >= kXmmCount) return;
  xmm[n] = value;
  xmm_written = static_cast<std::uint16_t>(xmm_written | (1u << n));
}

}  // namespace softsynic
