// TimeSyncDevice: periodic time samples; see timesync_device.h.
#include "devices/vmbus/timesync_device.h"

#include <algorithm>
#include <chrono>

#include "devices/vmbus/ic_message_text.h"

namespace softsynic::vmbus {

std::uint64_t wall_clock_parent_time_at_zero(std::uint64_t reference_now) {
  const auto since_unix = std::chrono::duration_cast<std::chrono::duration<std::int64_t, std::ratio<1, 10'000'000>>>(
      std::chrono::system_clock::now().time_since_epoch());
  const std::uint64_t now = kUnixEpochIn1601Units + static_cast<std::uint64_t>(std::max<std::int64_t>(since_unix.count(), 0));
  return now - std::min(now, reference_now);
}

TimeSyncDevice::TimeSyncDevice(TimeSyncOptions options)
    : IcDevice(Spec{"timesync", kTimeSyncInterfaceId, options.instance_id, IcMessageType::time_sync,
                    kTimeSyncVersions}),
      options_(options) {
  options_.period_100ns = std::max<std::uint64_t>(options_.period_100ns, 1);
}

void TimeSyncDevice::on_negotiated(ChannelIo& io, IcVersions) {
  first_ = true;
  io.timer().set(io.timer().now(), options_.period_100ns);
}

void TimeSyncDevice::on_due(ChannelIo& io) {
  const std::uint64_t reference = io.timer().now();
  const std::uint64_t parent = options_.parent_time_at_zero + reference;
  const std::uint8_t flags = first_ ? kTimeSyncFlagSync : kTimeSyncFlagSample;
  if (!send_request(io, [&](IcVersions v, std::uint8_t tid) {
        return encode_time_sync_request(v, tid, parent, reference, flags);
      }))
    return;
  first_ = false;
  sent_.fetch_add(1, std::memory_order_relaxed);
}

void TimeSyncDevice::on_answer(ChannelIo& io, const IcMessage& answer) {
  if (answer.status() != kIcStatusOk) {
    guest_error(io, "sample answered with status " + describe_ic_status(answer.status()));
    return;
  }
  answered_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace softsynic::vmbus
