// HeartbeatDevice: the heartbeat integration component (class
// 57164f39-9115-4e78-ab55-382f3bd5422d). After negotiation it sends a
// heartbeat request every `period` of reference time with sequence numbers
// 1, 2, 3, ...; the guest answers each with its sequence number plus one.
// A right answer is counted and logged ("heartbeat: seq N answered"); a
// wrong one is a protocol error; a request still unanswered when the next
// is due is counted as missed ("heartbeat: seq N unanswered").
//
// Threading: hooks as VmbusDevice; the counters are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "devices/vmbus/ic_device.h"

namespace softsynic::vmbus {

struct HeartbeatOptions {
  std::uint64_t period_100ns = 10'000'000;  // 1 s of reference time; 0 is taken as 1
  Guid instance_id = kHeartbeatInstanceId;
};

class HeartbeatDevice final : public IcDevice {
 public:
  explicit HeartbeatDevice(HeartbeatOptions options = {});

  std::uint64_t answered() const { return answered_.load(std::memory_order_relaxed); }
  std::uint64_t missed() const { return missed_.load(std::memory_order_relaxed); }
  // Sequence number of the last request answered correctly; 0 before any.
  std::uint64_t last_answered() const { return last_answered_.load(std::memory_order_relaxed); }

 private:
  void on_negotiated(ChannelIo& io, IcVersions versions) override;
  void on_answer(ChannelIo& io, const IcMessage& answer) override;
  void on_due(ChannelIo& io) override;

  HeartbeatOptions options_;
  std::uint64_t next_sequence_ = 1;  // strand state
  std::uint64_t sent_sequence_ = 0;
  std::atomic<std::uint64_t> answered_{0};
  std::atomic<std::uint64_t> missed_{0};
  std::atomic<std::uint64_t> last_answered_{0};
};

}  // namespace softsynic::vmbus
