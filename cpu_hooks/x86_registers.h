// X86Registers: the x86-64 register file as the CPU hooks see it (TLFS
// "Hypercall Interface": register-based calling conventions, "XMM Fast
// Hypercalls"). An emulator implements the interface over its CPU state;
// X86RegisterFile is a plain implementation for tests and trace replay.
//
// Only what the hypercall ABIs read or write is here: the sixteen general
// registers, RIP, RFLAGS, XMM0-XMM15 and the CPU mode. Not supported:
// segment state and CPL (the emulator raises #UD for CPL > 0 itself).
//
// Threading: an implementation is used by one VP's strand at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <optional>
#include <string_view>

namespace softsynic {

// 128-bit value of an XMM register (or of a 128-bit synthetic register).
struct Uint128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  friend constexpr bool operator==(const Uint128&, const Uint128&) = default;
};

// General registers in x86 encoding order, then RIP and RFLAGS.
enum class X86Reg : std::uint8_t {
  rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi,
  r8, r9, r10, r11, r12, r13, r14, r15,
  rip, rflags,
};
inline constexpr unsigned kX86RegCount = 18;
inline constexpr unsigned kXmmCount = 16;

// Lower-case names ("rax", "r8", "rflags"), as traces spell them.
std::string_view x86_reg_name(X86Reg reg);
std::optional<X86Reg> x86_reg_from_name(std::string_view name);

class X86Registers {
 public:
  virtual ~X86Registers() = default;
  // Full 64-bit values; in 32-bit mode the hooks use the low halves.
  virtual std::uint64_t get(X86Reg reg) const = 0;
  virtual void set(X86Reg reg, std::uint64_t value) = 0;
  // n < 16.
  virtual Uint128 get_xmm(unsigned n) const = 0;
  virtual void set_xmm(unsigned n, Uint128 value) = 0;
  // true: 64-bit mode (RCX/RDX/R8 convention); false: the 32-bit
  // convention (EDX:EAX, EBX:ECX, EDI:ESI).
  virtual bool long_mode() const = 0;
  // Several registers at once: out[i] = get(regs[i]). Emulators whose
  // register reads cost a call each may batch them (the hypercall entry
  // reads three or six this way).
  virtual void get_many(std::span<const X86Reg> regs, std::span<std::uint64_t> out) const {
    for (std::size_t i = 0; i < regs.size() && i < out.size(); ++i) out[i] = get(regs[i]);
  }
};

// Plain register file. Records which registers were written, so tests and
// replay can check "written back" exactly.
class X86RegisterFile final : public X86Registers {
 public:
  std::array<std::uint64_t, kX86RegCount> gpr{};
  std::array<Uint128, kXmmCount> xmm{};
  bool is_long_mode = true;
  std::uint32_t written = 0;      // bit i: X86Reg(i) was set
  std::uint16_t xmm_written = 0;  // bit n: XMMn was set

  std::uint64_t get(X86Reg reg) const override;
  void set(X86Reg reg, std::uint64_t value) override;
  Uint128 get_xmm(unsigned n) const override;
  void set_xmm(unsigned n, Uint128 value) override;
  bool long_mode() const override { return is_long_mode; }

  bool was_written(X86Reg reg) const { return (written >> static_cast<unsigned>(reg)) & 1u; }
  bool xmm_was_written(unsigned n) const { return n < kXmmCount && ((xmm_written >> n) & 1u); }
  void clear_written() { written = 0; xmm_written = 0; }
};

}  // namespace softsynic
