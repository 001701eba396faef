// TimeSyncDevice: the time synchronization integration component (class
// 9527e630-d0ae-497b-adce-e80ab0175caf). After negotiation it sends a time
// sample at once and then every `period` of reference time: host ("parent")
// time in 100 ns units since 1601-01-01 UTC and, from service version 4.0,
// the partition reference time the sample was taken at. The first sample
// after the guest opens the channel carries the "sync" flag (the guest
// sets its clock), later ones "sample".
//
// Host time is parent_time_at_zero + reference time, so a run under the
// virtual clock sends the same samples every time;
// wall_clock_parent_time_at_zero() anchors it to the host's wall clock.
//
// Threading: hooks as VmbusDevice; the counters are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "devices/vmbus/ic_device.h"

namespace softsynic::vmbus {

// 2024-01-01T00:00:00Z in 100 ns units since 1601.
inline constexpr std::uint64_t kParentTime2024 = kUnixEpochIn1601Units + 1704067200ull * 10'000'000ull;

struct TimeSyncOptions {
  std::uint64_t period_100ns = 50'000'000;  // 5 s of reference time; 0 is taken as 1
  std::uint64_t parent_time_at_zero = kParentTime2024;
  Guid instance_id = kTimeSyncInstanceId;
};

// The host's wall clock (std::chrono::system_clock) as parent time at
// reference time 0, given the reference time now.
std::uint64_t wall_clock_parent_time_at_zero(std::uint64_t reference_now);

class TimeSyncDevice final : public IcDevice {
 public:
  explicit TimeSyncDevice(TimeSyncOptions options = {});

  std::uint64_t samples_sent() const { return sent_.load(std::memory_order_relaxed); }
  std::uint64_t samples_answered() const { return answered_.load(std::memory_order_relaxed); }

 private:
  void on_negotiated(ChannelIo& io, IcVersions versions) override;
  void on_answer(ChannelIo& io, const IcMessage& answer) override;
  void on_due(ChannelIo& io) override;

  TimeSyncOptions options_;
  bool first_ = true;  // strand state: the next sample is the first since negotiation
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> answered_{0};
};

}  // namespace softsynic::vmbus
