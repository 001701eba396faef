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
//
// Host timers: each channel has one ChannelTimer (given to the device by
// on_attach and through ChannelIo::timer()). Once reference time reaches
// its due time, the server calls on_timer on the strand of the VP the
// guest opened the channel on, like any other hook. The emulator drives
// it: VmbusServer::next_deadline() says when, VmbusServer::fire_due()
// hands over what is due. A timer fires only while its channel is open; a
// timer due while the channel is closed fires once the guest opens it.
#pragma once

#include <cstdint>
#include <memory>
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

// A channel's host timer, in reference time (100 ns units, the
// partition's TIME_REF_COUNT). Thread-safe: usable from hooks and from any
// host thread, also after the server is gone (then nothing fires).
class ChannelTimer {
 public:
  virtual ~ChannelTimer() = default;
  // Reference time now (ServerOptions::time; 0 when the server has none,
  // and then no timer fires).
  virtual std::uint64_t now() const = 0;
  // on_timer runs once reference time reaches `due`; replaces an earlier
  // setting. period != 0: again every `period` after that; periods the
  // host let pass while it was late are skipped, never run twice.
  virtual void set(std::uint64_t due, std::uint64_t period = 0) = 0;
  virtual void cancel() = 0;
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
  virtual ChannelTimer& timer() = 0;
  // A line in the server's log ("vmbus: " + line), and a protocol error
  // (logged as "vmbus: error: " + line and counted in
  // ServerStatus::protocol_errors).
  virtual void log(const std::string& line) = 0;
  virtual void error(const std::string& line) = 0;
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
  // The guest opened / closed the channel (close also on rescind and
  // unload). on_open runs after OPENCHANNEL_RESULT is queued for the guest;
  // the device may send at once.
  virtual void on_open(ChannelIo& io) { static_cast<void>(io); }
  virtual void on_close() {}
  // Called by add_device with the channel's timer (the device may keep it).
  virtual void on_attach(std::shared_ptr<ChannelTimer> timer) { static_cast<void>(timer); }
  // The channel's timer is due (see ChannelTimer::set).
  virtual void on_timer(ChannelIo& io) { static_cast<void>(io); }
};

}  // namespace softsynic::vmbus
