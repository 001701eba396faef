// EchoDevice: in-band packets go back as they came; see echo_device.h.
#include "devices/vmbus/echo_device.h"

namespace softsynic::vmbus {

DeviceIdentity EchoDevice::identity() const { return {"echo", kEchoInterfaceId, instance_}; }

PacketDisposition EchoDevice::on_packet(ChannelIo& io, const RingPacket& packet) {
  if (packet.descriptor.type != static_cast<std::uint16_t>(PacketType::data_in_band)) {
    dropped_packets_.fetch_add(1, std::memory_order_relaxed);
    return PacketDisposition::consumed;
  }
  switch (io.send(PacketType::data_in_band, packet.descriptor.transaction_id, packet.payload())) {
    case SendStatus::ok:
      echoed_packets_.fetch_add(1, std::memory_order_relaxed);
      echoed_bytes_.fetch_add(packet.payload().size(), std::memory_order_relaxed);
      return PacketDisposition::consumed;
    case SendStatus::full:
      return PacketDisposition::retry_later;
    case SendStatus::broken:
    default:
      dropped_packets_.fetch_add(1, std::memory_order_relaxed);
      return PacketDisposition::consumed;
  }
}

}  // namespace softsynic::vmbus
