// SpiSource: how a VP's CPU interface sees the shared peripheral interrupts
// the distributor routes to it (Arm GICv3/v4 architecture specification,
// "Interrupt forwarding": the distributor offers each CPU interface its
// highest-priority pending SPI; acknowledgement makes the SPI active,
// deactivation goes back to the distributor).
// Implemented by GicDistributor (devices/arm64/gic_distributor.h); an
// InterruptLine consults it in its priority logic.
//
// Threading: every method is thread-safe; InterruptLine calls them on its
// VP's strand.
#pragma once

#include <cstdint>
#include <optional>

namespace softsynic::devices {

// An INTID with its priority (a candidate, or an acknowledged INTID).
struct IntidPriority {
  std::uint32_t intid = 0;
  std::uint8_t priority = 0;
};

class SpiSource {
 public:
  virtual ~SpiSource() = default;
  // The highest-priority SPI (lowest value, ties to the lowest INTID) that
  // is pending, enabled, inactive, routed to `vp`, with its group enabled.
  virtual std::optional<IntidPriority> best_spi(std::uint32_t vp) const = 0;
  // Makes `intid` active if it is still such a candidate for `vp`; false
  // when another change took it away first.
  virtual bool acknowledge_spi(std::uint32_t vp, std::uint32_t intid) = 0;
  // Deactivates `intid` (ICC_EOIR1_EL1 in EOImode 0, ICC_DIR_EL1); a level
  // input still asserted makes it pending again.
  virtual void deactivate_spi(std::uint32_t vp, std::uint32_t intid) = 0;
};

}  // namespace softsynic::devices
