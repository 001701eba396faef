// PSCI 0.2 over HVC #0: function decoding, return codes, CPU_ON and
// AFFINITY_INFO against a recording platform, and the dispatch from
// Arm64Hypervisor's SMCCC path.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "cpu_hooks/psci.h"
#include "harness.h"

namespace softsynic::test {
namespace {

using psci::AffinityState;

// Two VPs: 0 on, 1 off. Records what it was asked to do.
class RecordingPlatform final : public PsciPlatform {
 public:
  AffinityState vp_state(std::uint32_t vp) const override { return states.at(vp); }
  std::int32_t power_on(std::uint32_t vp, std::uint64_t entry, std::uint64_t context_id) override {
    ons.push_back({vp, entry, context_id});
    states.at(vp) = AffinityState::on_pending;
    return answer;
  }
  void system_off() override { ++offs; }
  void system_reset() override { ++resets; }

  struct On {
    std::uint32_t vp;
    std::uint64_t entry;
    std::uint64_t context_id;
  };
  std::vector<AffinityState> states{AffinityState::on, AffinityState::off};
  std::vector<On> ons;
  std::int32_t answer = psci::ret::kSuccess;
  int offs = 0;
  int resets = 0;
};

constexpr std::uint64_t mpidr(std::uint32_t vp) { return (std::uint64_t{1} << 31) | vp; }

struct Rig {
  RecordingPlatform platform;
  PsciService service{platform, {mpidr(0), mpidr(1)}};
  std::int64_t call(std::uint64_t x0, std::uint64_t x1 = 0, std::uint64_t x2 = 0, std::uint64_t x3 = 0) {
    Arm64RegisterFile regs;
    regs.set_x(0, x0);
    regs.set_x(1, x1);
    regs.set_x(2, x2);
    regs.set_x(3, x3);
    regs.clear_written();
    service.call(0, regs);
    CHECK(regs.written == 1);  // X0 only
    return static_cast<std::int64_t>(regs.x[0]);
  }
};

}  // namespace

TEST_CASE("psci: the version, migrate and unknown functions answer as PSCI 0.2 says") {
  Rig r;
  struct Row {
    std::uint64_t function;
    std::int64_t result;
  };
  const Row rows[] = {
      {psci::fn::kVersion, 0x2},
      {psci::fn::kMigrateInfoType, 2},
      {psci::fn::kCpuOff, -1},
      {psci::fn::kCpuSuspend32, -1},
      {0x8400'000A, -1},                 // PSCI_FEATURES: 1.0, not offered
      {0xC400'0005, -1},                 // MIGRATE
      {0xFFFF'FFFF'8400'0000, 0x2},      // only W0 is the function id
  };
  for (const Row& row : rows) {
    CAPTURE(row.function);
    CHECK(r.call(row.function) == row.result);
  }
}

TEST_CASE("psci: CPU_ON starts an off VP at the entry with its context id") {
  Rig r;
  CHECK(r.call(psci::fn::kCpuOn64, mpidr(1), 0x4008'0000, 0xC0FFEE'0000'0001) == psci::ret::kSuccess);
  REQUIRE(r.platform.ons.size() == 1);
  CHECK(r.platform.ons[0].vp == 1);
  CHECK(r.platform.ons[0].entry == 0x4008'0000);
  CHECK(r.platform.ons[0].context_id == 0xC0FFEE'0000'0001);
  CHECK(r.call(psci::fn::kCpuOn64, mpidr(1), 0x4008'0000, 0) == psci::ret::kOnPending);
  r.platform.states[1] = AffinityState::on;
  CHECK(r.call(psci::fn::kCpuOn64, mpidr(1), 0x4008'0000, 0) == psci::ret::kAlreadyOn);
  CHECK(r.call(psci::fn::kCpuOn64, mpidr(0), 0x4008'0000, 0) == psci::ret::kAlreadyOn);
  CHECK(r.call(psci::fn::kCpuOn64, mpidr(2), 0x4008'0000, 0) == psci::ret::kInvalidParameters);
  CHECK(r.platform.ons.size() == 1);
}

TEST_CASE("psci: CPU_ON passes the platform's refusal and takes 32-bit arguments in its SMC32 form") {
  Rig r;
  r.platform.answer = psci::ret::kInvalidAddress;
  CHECK(r.call(psci::fn::kCpuOn32, 0xFFFF'FFFF'0000'0000 | mpidr(1), 0xFFFF'FFFF'0000'1000, 0x1'0000'0002) ==
        psci::ret::kInvalidAddress);
  REQUIRE(r.platform.ons.size() == 1);
  CHECK(r.platform.ons[0].entry == 0x1000);
  CHECK(r.platform.ons[0].context_id == 2);
}

TEST_CASE("psci: AFFINITY_INFO reports a VP's state at level 0") {
  Rig r;
  CHECK(r.call(psci::fn::kAffinityInfo64, mpidr(0), 0) == 0);  // ON
  CHECK(r.call(psci::fn::kAffinityInfo64, mpidr(1), 0) == 1);  // OFF
  r.platform.states[1] = AffinityState::on_pending;
  CHECK(r.call(psci::fn::kAffinityInfo32, mpidr(1), 0) == 2);
  CHECK(r.call(psci::fn::kAffinityInfo64, mpidr(1), 1) == psci::ret::kInvalidParameters);
  CHECK(r.call(psci::fn::kAffinityInfo64, mpidr(9), 0) == psci::ret::kInvalidParameters);
}

TEST_CASE("psci: SYSTEM_OFF and SYSTEM_RESET reach the platform") {
  Rig r;
  r.call(psci::fn::kSystemOff);
  CHECK(r.platform.offs == 1);
  r.call(psci::fn::kSystemReset);
  CHECK(r.platform.resets == 1);
}

TEST_CASE("psci: owner and call-type decoding picks PSCI's function ids only") {
  CHECK(psci::owner(0xC400'0003) == psci::kOwnerStandardSecure);
  CHECK(psci::owner(0x4600'0001) == psci::kOwnerVendorHypervisor);
  CHECK(PsciService::is_psci(psci::fn::kVersion));
  CHECK(PsciService::is_psci(psci::fn::kCpuOn64));
  CHECK_FALSE(PsciService::is_psci(0x0400'0000));  // yielding: not PSCI
  CHECK_FALSE(PsciService::is_psci(0x8600'FF01));  // vendor hypervisor
  CHECK_FALSE(PsciService::is_psci(0x8000'0000));  // Arm architecture service
}

TEST_CASE("psci: Arm64Hypervisor hands PSCI calls on HVC #0 to the attached service") {
  Machine m(HvArch::aarch64);
  RecordingPlatform platform;
  PsciService service(platform, {mpidr(0), mpidr(1)});
  Arm64RegisterFile regs;
  regs.set_x(0, psci::fn::kVersion);
  m.arm64().hvc(0, 0, kHvcImmSmccc, regs);
  CHECK(regs.x[0] == smccc::kNotSupported);  // no service yet
  m.arm64().set_psci(&service);
  regs.set_x(0, psci::fn::kVersion);
  const HypercallOutcome out = m.arm64().hvc(0, 0, kHvcImmSmccc, regs);
  CHECK(out.action == HypercallAction::completed);
  CHECK_FALSE(out.is_hypercall);
  CHECK(out.registers_written);
  CHECK(regs.x[0] == psci::kVersion02);
  regs.set_x(0, psci::fn::kCpuOn64);
  regs.set_x(1, mpidr(1));
  regs.set_x(2, 0x4000'0000);
  regs.set_x(3, 7);
  m.arm64().hvc(0, 0, kHvcImmSmccc, regs);
  CHECK(regs.x[0] == 0);
  CHECK(platform.ons.size() == 1);
  regs.set_x(0, smccc::kVendorHypCallUid);  // the vendor service still answers
  m.arm64().hvc(0, 0, kHvcImmSmccc, regs);
  CHECK(regs.x[0] == smccc::kHyperVUid[0]);
}

}  // namespace softsynic::test
