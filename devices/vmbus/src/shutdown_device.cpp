// ShutdownDevice: a host-requested shutdown and the guest's answer; see
// shutdown_device.h.
#include "devices/vmbus/shutdown_device.h"

#include "devices/vmbus/ic_message_text.h"

namespace softsynic::vmbus {

ShutdownDevice::ShutdownDevice(ShutdownOptions options)
    : IcDevice(Spec{"shutdown", kShutdownInterfaceId, options.instance_id, IcMessageType::shutdown,
                    kShutdownVersions}),
      options_(options) {}

void ShutdownDevice::request_shutdown(std::uint64_t at) {
  {
    std::lock_guard lock(mutex_);
    request_at_ = at;
    guest_status_.reset();
  }
  sent_.store(false, std::memory_order_relaxed);
  if (auto t = timer()) t->set(at);
}

bool ShutdownDevice::requested() const {
  std::lock_guard lock(mutex_);
  return request_at_.has_value();
}

std::optional<std::uint32_t> ShutdownDevice::guest_status() const {
  std::lock_guard lock(mutex_);
  return guest_status_;
}

void ShutdownDevice::on_negotiated(ChannelIo& io, IcVersions) {
  std::lock_guard lock(mutex_);
  if (request_at_ && !sent_.load(std::memory_order_relaxed)) io.timer().set(*request_at_);
}

void ShutdownDevice::on_due(ChannelIo& io) {
  std::uint64_t at = 0;
  {
    std::lock_guard lock(mutex_);
    if (!request_at_ || sent_.load(std::memory_order_relaxed)) return;
    at = *request_at_;
  }
  if (at > io.timer().now()) {
    io.timer().set(at);
    return;
  }
  const ShutdownOptions& o = options_;
  io.log("shutdown: asking the guest to shut down (flags " + std::to_string(o.flags) + ")");
  if (!send_request(io, [&o](IcVersions v, std::uint8_t tid) {
        return encode_shutdown_request(v, tid, o.flags, o.reason_code, o.timeout_seconds);
      }))
    return;
  answered_ = false;
  sent_.store(true, std::memory_order_relaxed);
}

void ShutdownDevice::on_answer(ChannelIo& io, const IcMessage& answer) {
  answered_ = true;
  {
    std::lock_guard lock(mutex_);
    guest_status_ = answer.status();
  }
  io.log("shutdown: guest answered " + describe_ic_status(answer.status()) +
         (answer.status() == kIcStatusOk ? ": it is shutting down" : ": request refused"));
}

void ShutdownDevice::on_channel_closed() {
  if (sent_.load(std::memory_order_relaxed) && !answered_) sent_.store(false, std::memory_order_relaxed);
}

}  // namespace softsynic::vmbus
