// Guest input never crashes the hooks: random register contents and MSR
// values always get an architected answer.
#include <doctest/doctest.h>

#include <random>

#include "harness.h"

namespace softsynic::test {
namespace {

// Control values near the implemented calls, with random flags and counts.
std::uint64_t random_control(std::mt19937_64& rng) {
  static const std::uint16_t codes[] = {0x50, 0x51, 0x5C, 0x5D, 0x5E, 0x0000, 0xFFFF};
  std::uint64_t c = rng();
  if (rng() % 4 != 0) c &= HypercallControl::kDefinedBits;  // mostly well-formed
  if (rng() % 2 == 0) c &= ~(std::uint64_t{0x3FF} << 17);   // often no variable header
  return (c & ~std::uint64_t{0xFFFF}) | codes[rng() % std::size(codes)];
}

std::uint64_t random_gpa(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return rng();
    case 1:
      return rng() % kRamSize;
    default:
      return (rng() % kRamSize) & ~std::uint64_t{7};
  }
}

TEST_CASE("random hypercalls through every ABI always complete with a status") {
  std::mt19937_64 rng(20261125);
  for (const Abi* abi : all_abis()) {
    INFO(abi->name());
    Machine m(abi->arch(), abi->features());
    for (int i = 0; i < 3000; ++i) {
      GuestCall call{HypercallControl(random_control(rng)), random_gpa(rng), random_gpa(rng), {}};
      for (int s = 0; s < 16; ++s) call.fast.push_back(rng() % 3 == 0 ? rng() : rng() % 0x100);
      CallResult r;
      REQUIRE_NOTHROW(r = abi->call(m, static_cast<std::uint32_t>(rng() % 2), static_cast<Vtl>(rng() % 2), call));
      REQUIRE(r.outcome.action == HypercallAction::completed);
      REQUIRE(r.result.status() == r.outcome.status);
      m.run();
    }
  }
}

TEST_CASE("random MSR accesses in the hypervisor range never escape as exceptions") {
  std::mt19937_64 rng(7);
  Machine m(HvArch::x86_64);
  for (int i = 0; i < 20000; ++i) {
    const auto msr = static_cast<std::uint32_t>(0x40000000 + rng() % 0x100);
    const std::uint64_t value = rng() % 2 ? rng() : (rng() & 0xFFFF'F0FF'0001'00FF);
    const auto vp = static_cast<std::uint32_t>(rng() % 3);  // 2 is out of range
    std::uint64_t out = 0;
    REQUIRE_NOTHROW(m.x86().wrmsr(vp, static_cast<Vtl>(rng() % 3), msr, value));
    REQUIRE_NOTHROW(m.x86().rdmsr(vp, static_cast<Vtl>(rng() % 3), msr, out));
    m.run();
  }
}

}  // namespace
}  // namespace softsynic::test
