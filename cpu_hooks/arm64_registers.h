// Arm64Registers: the ARM64 general registers as the CPU hooks see them
// (TLFS "Hypercall Interface" for ARM64, and the SMCCC 1.1/1.2 calling
// convention: arguments and results in X0-X17). An emulator implements the
// interface over its CPU state; Arm64RegisterFile is a plain implementation
// for tests and trace replay.
// Not supported: SP, PC and PSTATE (the hooks never touch them: HVC has
// already advanced the PC when the emulator calls in).
//
// Threading: an implementation is used by one VP's strand at a time.
#pragma once

#include <array>
#include <cstdint>

namespace softsynic {

inline constexpr unsigned kArm64XCount = 31;  // X0..X30

class Arm64Registers {
 public:
  virtual ~Arm64Registers() = default;
  // n < 31; other n read 0 and writes are ignored.
  virtual std::uint64_t get_x(unsigned n) const = 0;
  virtual void set_x(unsigned n, std::uint64_t value) = 0;
};

// Plain register file; records which registers were written.
class Arm64RegisterFile final : public Arm64Registers {
 public:
  std::array<std::uint64_t, kArm64XCount> x{};
  std::uint32_t written = 0;  // bit n: Xn was set

  std::uint64_t get_x(unsigned n) const override { return n < kArm64XCount ? x[n] : 0; }
  void set_x(unsigned n, std::uint64_t value) override {
    if (n >= kArm64XCount) return;
    x[n] = value;
    written |= 1u << n;
  }
  bool was_written(unsigned n) const { return n < kArm64XCount && ((written >> n) & 1u); }
  void clear_written() { written = 0; }
};

}  // namespace softsynic
