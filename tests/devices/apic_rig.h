// Helpers for the local APIC tests: a software-enabled APIC with a kick
// counter, and ICR builders.
#pragma once

#include <atomic>
#include <cstdint>

#include "devices/apic/apic_registers.h"
#include "devices/apic/local_apic.h"

namespace softsynic::devices::test {

inline constexpr std::uint32_t kSvrEnabled = 0x1FF;  // vector 0xFF, software enable

// A software-enabled xAPIC (id `id`), counting kicks.
struct EnabledApic {
  explicit EnabledApic(std::uint32_t id = 0) : apic(LocalApicConfig{id, id == 0, true, 48}) {
    apic.set_kick([this] { kicks.fetch_add(1, std::memory_order_relaxed); });
    apic.mmio_write(apic::reg::kSvr, kSvrEnabled);
  }
  // Switches to x2APIC mode through IA32_APIC_BASE.
  void go_x2apic() {
    const auto base = apic.apic_base().with_x2apic(true);
    apic.write_msr(apic::msr::kApicBase, base.raw());
  }
  LocalApic apic;
  std::atomic<int> kicks{0};
};

inline std::uint32_t x2msr(std::uint32_t offset) { return apic::msr::x2apic_msr(offset); }

}  // namespace softsynic::devices::test
