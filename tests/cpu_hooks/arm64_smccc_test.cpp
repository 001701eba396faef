// ARM64 HVC dispatch: SMCCC service calls next to the Hyper-V hypercall.
#include <doctest/doctest.h>

#include <stdexcept>

#include "harness.h"

namespace softsynic::test {
namespace {

TEST_CASE("SMCCC vendor-hypervisor UID query answers the Hyper-V UID") {
  Machine m(HvArch::aarch64);
  Arm64RegisterFile regs;
  regs.set_x(0, smccc::kVendorHypCallUid);
  regs.clear_written();
  const HypercallOutcome out = m.arm64().hvc(0, 0, kHvcImmSmccc, regs);
  CHECK(out.action == HypercallAction::completed);
  CHECK_FALSE(out.is_hypercall);
  CHECK(regs.x[0] == 0x4d32ba58);
  CHECK(regs.x[1] == 0xcd244764);
  CHECK(regs.x[2] == 0x8eef6c75);
  CHECK(regs.x[3] == 0x16597024);
  CHECK(regs.written == 0xF);
}

TEST_CASE("other SMCCC functions on HVC #0 answer NOT_SUPPORTED") {
  const std::uint64_t functions[] = {
      0x80000000,  // SMCCC_VERSION
      0x84000000,  // PSCI_VERSION: an emulator with PSCI answers it before calling in
      0x86000000,  // vendor-hypervisor call count
      0x46000002,  // a yielding vendor-hypervisor function that is not the hypercall
  };
  for (const std::uint64_t fn : functions) {
    INFO(std::hex << fn);
    Machine m(HvArch::aarch64);
    Arm64RegisterFile regs;
    regs.set_x(0, fn);
    regs.set_x(1, 0x5D);
    regs.clear_written();
    const HypercallOutcome out = m.arm64().hvc(0, 0, kHvcImmSmccc, regs);
    CHECK(out.action == HypercallAction::completed);
    CHECK_FALSE(out.is_hypercall);
    CHECK(regs.x[0] == smccc::kNotSupported);
    CHECK(regs.written == 1);
    CHECK(m.event_port->events.empty());
  }
}

TEST_CASE("HVC with another immediate is not the hypervisor's") {
  Machine m(HvArch::aarch64);
  Arm64RegisterFile regs;
  regs.set_x(0, 0x5D);
  regs.clear_written();
  const HypercallOutcome out = m.arm64().hvc(0, 0, 2, regs);
  CHECK(out.action == HypercallAction::not_mine);
  CHECK_FALSE(out.registers_written);
  CHECK(regs.written == 0);
}

TEST_CASE("a hypervisor object refuses a configuration of the other architecture") {
  Machine m(HvArch::aarch64);
  HvConfig x86;
  HvConfig arm;
  arm.arch = HvArch::aarch64;
  CHECK_THROWS_AS(Arm64Hypervisor(m.partition, x86, m.clock), std::invalid_argument);
  CHECK_THROWS_AS(X86Hypervisor(m.partition, arm, m.clock), std::invalid_argument);
}

TEST_CASE("x86 register names round-trip") {
  for (unsigned i = 0; i < kX86RegCount; ++i) CHECK(x86_reg_from_name(x86_reg_name(X86Reg(i))) == X86Reg(i));
  CHECK(x86_reg_name(X86Reg::r8) == "r8");
  CHECK_FALSE(x86_reg_from_name("eax").has_value());
}

}  // namespace
}  // namespace softsynic::test
