// The synthetic timers as guests reach them: x86-64 RDMSR/WRMSR and ARM64
// HvSetVpRegisters/HvGetVpRegisters through cpu_hooks, with SyntheticTimers
// added as a RegisterOwner.
#include <cstdint>

#include <doctest/doctest.h>

#include "cpu_hooks/arm64_hypervisor.h"
#include "cpu_hooks/register_owner.h"
#include "cpu_hooks/x86_hypervisor.h"
#include "synic/defs/hypercall.h"
#include "timer_rig.h"

using namespace softsynic;
using namespace softsynic::test;

namespace {

HvConfig timer_config(HvArch arch, bool stimers = true) {
  HvConfig c;
  c.arch = arch;
  c.features.stimers = stimers;
  c.features.direct_timers = stimers;
  return c;
}

// A fast SMCCC HvCallSetVpRegisters / HvCallGetVpRegisters of one register
// of the calling VP, as the Linux and FreeBSD drivers make it.
struct Arm64Guest {
  TimerRig& rig;
  Arm64Hypervisor& hv;

  HvStatus set(HvRegisterName name, std::uint64_t value) {
    Arm64RegisterFile regs = call(HvCallCode::set_vp_registers, name);
    regs.x[6] = value;
    return run(regs).status;
  }
  HvStatus get(HvRegisterName name, std::uint64_t& value) {
    Arm64RegisterFile regs = call(HvCallCode::get_vp_registers, name);
    const HypercallOutcome outcome = run(regs);
    value = regs.x[6];
    return outcome.status;
  }

 private:
  static Arm64RegisterFile call(HvCallCode code, HvRegisterName name) {
    Arm64RegisterFile regs;
    regs.x[0] = smccc::kHvHypercall;
    regs.x[1] = HypercallControl().with_code(code).with_fast(true).with_rep_count(1).raw();
    regs.x[2] = kHvPartitionIdSelf;
    regs.x[3] = kHvVpIndexSelf;
    regs.x[4] = static_cast<std::uint32_t>(name);
    return regs;
  }
  HypercallOutcome run(Arm64RegisterFile& regs) {
    return rig.on_strand(0, [&] { return hv.hvc(0, 0, kHvcImmSmccc, regs); });
  }
};

}  // namespace

TEST_CASE("stimer via cpu_hooks x86-64: the STIMER MSRs reach the timers, and an armed timer fires") {
  TimerRig rig;
  X86Hypervisor hv(rig.partition, timer_config(HvArch::x86_64), rig.clock);
  RegisterOwnerRef<SyntheticTimers> owner(rig.timers);
  hv.registers().add_owner(owner);
  rig.enable_synic(0);

  auto wrmsr = [&](std::uint32_t msr, std::uint64_t v) { return rig.on_strand(0, [&] { return hv.wrmsr(0, 0, msr, v); }); };
  std::uint64_t value = 0;
  auto rdmsr = [&](std::uint32_t msr) { return rig.on_strand(0, [&] { return hv.rdmsr(0, 0, msr, value); }); };

  CHECK(wrmsr(msr::kStimer0Count + 2, 2 * kOneMs) == MsrResult::ok);
  CHECK(rdmsr(msr::kStimer0Count + 2) == MsrResult::ok);
  CHECK(value == 2 * kOneMs);
  CHECK(wrmsr(msr::kStimer0Config + 2, std::uint64_t{1} << 40) == MsrResult::gp);

  const auto config = StimerConfigReg().with_enabled(true).with_sint(kTimerSint);
  CHECK(wrmsr(msr::kStimer0Config + 2, config.raw()) == MsrResult::ok);
  rig.advance(2 * kOneMs);
  rig.take_expiry(0, 1, 2 * kOneMs);
}

TEST_CASE("stimer via cpu_hooks x86-64: with the stimers feature off the MSRs raise #GP and reach nothing") {
  TimerRig rig;
  X86Hypervisor hv(rig.partition, timer_config(HvArch::x86_64, false), rig.clock);
  RegisterOwnerRef<SyntheticTimers> owner(rig.timers);
  hv.registers().add_owner(owner);
  CHECK(rig.on_strand(0, [&] { return hv.wrmsr(0, 0, msr::kStimer0Count, 5); }) == MsrResult::gp);
  CHECK(rig.timers.vp(0).count(0, 0) == 0);
}

TEST_CASE("stimer via cpu_hooks arm64: HvSetVpRegisters and HvGetVpRegisters reach the timers") {
  TimerRig rig;
  Arm64Hypervisor hv(rig.partition, timer_config(HvArch::aarch64), rig.clock);
  RegisterOwnerRef<SyntheticTimers> owner(rig.timers);
  hv.registers().add_owner(owner);
  Arm64Guest guest{rig, hv};
  rig.enable_synic(0);

  const auto direct = StimerConfigReg().with_enabled(true).with_periodic(true).with_direct_mode(true).with_apic_vector(0x1B);
  CHECK(guest.set(stimer_count_register(3), kOneMs) == HvStatus::success);
  CHECK(guest.set(stimer_config_register(3), direct.raw()) == HvStatus::success);
  std::uint64_t value = 0;
  CHECK(guest.get(stimer_config_register(3), value) == HvStatus::success);
  CHECK(value == direct.raw());
  CHECK(guest.set(stimer_config_register(3), std::uint64_t{1} << 30) != HvStatus::success);

  rig.advance(2 * kOneMs);
  CHECK(rig.take_interrupts() == std::vector<Interrupt>(2, Interrupt{0, 0x1B}));
}
