// EchoDevice: a VMBus device that returns every in-band packet to the
// guest unchanged (same transaction id, same padded payload), for driver
// bring-up and tests. Other packet types are dropped and counted.
// Interface GUID kEchoInterfaceId is this project's own.
//
// Threading: hooks as VmbusDevice; the counters are atomics readable from
// any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "devices/vmbus/device.h"

namespace softsynic::vmbus {

// {5f0c9a6e-2b1d-4e57-9a3c-736f66747379}
inline constexpr Guid kEchoInterfaceId =
    Guid::from_parts(0x5f0c9a6e, 0x2b1d, 0x4e57, {0x9a, 0x3c, 0x73, 0x6f, 0x66, 0x74, 0x73, 0x79});
// {5f0c9a6e-2b1d-4e57-9a3c-000000000001}
inline constexpr Guid kEchoInstanceId =
    Guid::from_parts(0x5f0c9a6e, 0x2b1d, 0x4e57, {0x9a, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01});

class EchoDevice final : public VmbusDevice {
 public:
  explicit EchoDevice(Guid instance = kEchoInstanceId) : instance_(instance) {}
  DeviceIdentity identity() const override;
  PacketDisposition on_packet(ChannelIo& io, const RingPacket& packet) override;

  std::uint64_t echoed_packets() const { return echoed_packets_.load(std::memory_order_relaxed); }
  std::uint64_t echoed_bytes() const { return echoed_bytes_.load(std::memory_order_relaxed); }
  std::uint64_t dropped_packets() const { return dropped_packets_.load(std::memory_order_relaxed); }

 private:
  Guid instance_;
  std::atomic<std::uint64_t> echoed_packets_{0};
  std::atomic<std::uint64_t> echoed_bytes_{0};
  std::atomic<std::uint64_t> dropped_packets_{0};
};

}  // namespace softsynic::vmbus
