// ShutdownDevice: the shutdown integration component (class
// 0e0b6031-5213-4934-818b-38d90ced39db). On a host request it sends one
// shutdown request (by default power off, forced) once the guest has
// negotiated and the requested reference time has come, and logs the
// guest's answer ("shutdown: guest answered S_OK ..."). A request the guest
// has not answered when it closes the channel is sent again after the next
// negotiation.
//
// Threading: hooks as VmbusDevice; request_shutdown and the snapshots are
// thread-safe (request_shutdown also before the server starts).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

#include "devices/vmbus/ic_device.h"

namespace softsynic::vmbus {

struct ShutdownOptions {
  std::uint32_t flags = kShutdownFlagForce;  // power off (flags 0 or 1 both mean power off)
  std::uint32_t reason_code = 0;
  std::uint32_t timeout_seconds = 0;
  Guid instance_id = kShutdownInstanceId;
};

class ShutdownDevice final : public IcDevice {
 public:
  explicit ShutdownDevice(ShutdownOptions options = {});

  // Asks the guest to shut down at reference time `at` (0 or a past time:
  // as soon as it has negotiated). A later call replaces the time of a
  // request not yet sent, or asks again after one was sent.
  void request_shutdown(std::uint64_t at = 0);

  bool requested() const;
  bool sent() const { return sent_.load(std::memory_order_relaxed); }
  // The status of the guest's answer (kIcStatusOk: it is shutting down).
  std::optional<std::uint32_t> guest_status() const;

 private:
  void on_negotiated(ChannelIo& io, IcVersions versions) override;
  void on_answer(ChannelIo& io, const IcMessage& answer) override;
  void on_due(ChannelIo& io) override;
  void on_channel_closed() override;

  ShutdownOptions options_;
  mutable std::mutex mutex_;  // guards the two below
  std::optional<std::uint64_t> request_at_;
  std::optional<std::uint32_t> guest_status_;
  std::atomic<bool> sent_{false};
  bool answered_ = false;  // strand state
};

}  // namespace softsynic::vmbus
