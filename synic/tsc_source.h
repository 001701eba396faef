// TscSource: how the emulator's guest TSC relates to the partition's
// reference time (TLFS "Partition Reference Time Enlightenment"). The
// reference TSC page and HV_X64_MSR_TSC_FREQUENCY are computed from it;
// the core never reads a TSC or a clock itself. An emulator whose RDTSC is
// derived from reference time (FixedRateTsc) keeps the page exact; one
// whose TSC is the host's offers none (the page is then not advertised).
//
// Threading: both methods are thread-safe. A source whose mapping changes
// (a new rate, a jump) must tell the page's owner
// (X86Hypervisor::tsc_mapping_changed()).
#pragma once

#include <cstdint>

namespace softsynic {

inline constexpr std::uint64_t kReferenceTicksPerSecond = 10'000'000;  // 100 ns units

class TscSource {
 public:
  virtual ~TscSource() = default;
  // Guest TSC ticks per second.
  virtual std::uint64_t tsc_frequency() const = 0;
  // The TSC value the guest reads at reference time `reference_100ns`;
  // linear in it between mapping changes.
  virtual std::uint64_t tsc_at(std::uint64_t reference_100ns) const = 0;
};

// TSC = reference time * hz / 10^7: RDTSC derived from reference time, at
// a fixed rate (deterministic under a VirtualClock).
class FixedRateTsc final : public TscSource {
 public:
  explicit FixedRateTsc(std::uint64_t hz) : hz_(hz) {}
  std::uint64_t tsc_frequency() const override { return hz_; }
  std::uint64_t tsc_at(std::uint64_t reference_100ns) const override {
    return static_cast<std::uint64_t>(static_cast<unsigned __int128>(reference_100ns) * hz_ / kReferenceTicksPerSecond);
  }

 private:
  std::uint64_t hz_;
};

}  // namespace softsynic
