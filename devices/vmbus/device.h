// The device API of the VMBus host: a device is a small class that names
// its offer (interface and instance GUIDs) and handles the packets the
// guest writes into the channel's outbound ring; it answers through the
// ChannelIo the server hands it. See echo_device.h for the smallest one.
//
// Threading: the server calls every hook with its lock held, on the strand
// of the VP whose hypercall triggered it (or the thread that called a
// server method), so a device needs no locking of its own as long as it
// touches its state only from these hooks. Hooks must not call back into
// the VmbusServer. Exceptions from hooks are caught: the channel stops
// (reported in the log), the guest sees no error.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "devices/vmbus/defs/guid.h"
#include "devices/vmbus/defs/ring_buffer.h"
#include "devices/vmbus/guest_ring.h"

namespace softsynic::vmbus {

enum class SendStatus {
  ok,
  full,    // no room in the guest's inbound ring; nothing written
  broken,  // the ring is unusable or the channel is not open
};

// The host end of one open channel, as a device sees it.
class ChannelIo {
 public:
  virtual ~ChannelIo() = default;
  // Writes one packet into the guest's inbound ring and signals the guest
  // when the ring rules ask for it. The payload is padded to 8 bytes.
  virtual SendStatus send(PacketType type, std::uint64_t transaction_id, std::span<const std::byte> payload,
                          std::uint16_t flags = 0) = 0;
  virtual std::uint32_t relid() const = 0;
};

struct DeviceIdentity {
  std::string name;  // for the log
  Guid interface_id;
  Guid instance_id;
};

enum class PacketDisposition {
  consumed,     // the host advances past the packet
  retry_later,  // leave it in the ring; retried when the guest frees room in the inbound ring
};

class VmbusDevice {
 public:
  virtual ~VmbusDevice() = default;
  virtual DeviceIdentity identity() const = 0;
  // One packet from the guest. retry_later is for a full inbound ring
  // (send() answered full): the server records how much room it needs in
  // pending_send_size and calls again once the guest has made room.
  virtual PacketDisposition on_packet(ChannelIo& io, const RingPacket& packet) = 0;
  // The guest opened / closed the channel (close also on rescind and unload).
  virtual void on_open(ChannelIo& io) { static_cast<void>(io); }
  virtual void on_close() {}
};

}  // namespace softsynic::vmbus
