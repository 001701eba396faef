// HeartbeatDevice: periodic heartbeat requests and their answers; see
// heartbeat_device.h.
#include "devices/vmbus/heartbeat_device.h"

#include <algorithm>

#include "devices/vmbus/ic_message_text.h"

namespace softsynic::vmbus {

HeartbeatDevice::HeartbeatDevice(HeartbeatOptions options)
    : IcDevice(Spec{"heartbeat", kHeartbeatInterfaceId, options.instance_id, IcMessageType::heartbeat,
                    kHeartbeatVersions}),
      options_(options) {
  options_.period_100ns = std::max<std::uint64_t>(options_.period_100ns, 1);
}

void HeartbeatDevice::on_negotiated(ChannelIo& io, IcVersions) {
  io.timer().set(io.timer().now() + options_.period_100ns, options_.period_100ns);
}

void HeartbeatDevice::on_due(ChannelIo& io) {
  if (awaiting_answer()) {
    missed_.fetch_add(1, std::memory_order_relaxed);
    io.log("heartbeat: seq " + std::to_string(sent_sequence_) + " unanswered");
  }
  const std::uint64_t seq = next_sequence_;
  if (!send_request(io, [seq](IcVersions v, std::uint8_t tid) { return encode_heartbeat_request(v, tid, seq); }))
    return;  // tried again at the next period
  sent_sequence_ = seq;
  ++next_sequence_;
}

void HeartbeatDevice::on_answer(ChannelIo& io, const IcMessage& answer) {
  const auto seq = decode_heartbeat_sequence(answer);
  if (!seq) {
    guest_error(io, "answer to seq " + std::to_string(sent_sequence_) + " has no sequence number (" +
                        std::to_string(answer.body().size()) + " body bytes)");
    return;
  }
  if (answer.status() != kIcStatusOk || *seq != sent_sequence_ + 1) {
    guest_error(io, "seq " + std::to_string(sent_sequence_) + " answered with " + std::to_string(*seq) +
                        " status " + describe_ic_status(answer.status()) + " (expected " +
                        std::to_string(sent_sequence_ + 1) + " and S_OK)");
    return;
  }
  answered_.fetch_add(1, std::memory_order_relaxed);
  last_answered_.store(sent_sequence_, std::memory_order_relaxed);
  io.log("heartbeat: seq " + std::to_string(sent_sequence_) + " answered");
}

}  // namespace softsynic::vmbus
