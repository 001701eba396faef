// VmbusServer: the host side of the VMBus control plane on top of the
// SynIC's public host API (Partition message and event ports,
// async_post_message, guest event ports). It negotiates the protocol
// version, offers one channel per device, builds GPADLs, opens and closes
// channels, rescinds offers and unloads; each open channel moves packets
// between the guest's rings and its VmbusDevice.
//
// Wire: the guest posts control messages (SynIC message type 1) on
// connection 1 (protocols below 5.0) or 4 (from 5.0); the host answers on
// the SINT the guest named (2 below 5.0) of the VP it named in
// INITIATE_CONTACT, with async_post_message so that a full SINT queue makes
// the host wait, never drop. While more than max_waiting_replies of its
// replies are still waiting for the queue, the server refuses further guest
// messages (the guest sees HV_STATUS_INSUFFICIENT_BUFFERS and retries).
// A channel's guest-to-host signal is HvSignalEvent on the connection id
// of its offer, or, when the partition has monitor support
// (Partition::monitor_support()) and the guest gave monitor pages in
// INITIATE_CONTACT, a pending bit in the guest-to-host monitor page: the
// offer then carries monitor id relid - 1 (relids up to 128), registered
// against the channel's connection id. Host-to-guest is the event flag
// numbered by its relid on the negotiated SINT.
//
// Bad guest input (unknown type, short payload, unknown relid or GPADL id,
// no matching version, corrupt ring) is answered as a Hyper-V host does
// (a failure status where the protocol has a reply, else nothing), logged
// with the decoded message name, and never throws out of a port.
//
// Not supported: host-to-guest monitored notification (the parent-to-child
// page is handed to the monitor and never written), server-chosen monitor
// pages, the shared interrupt page of protocols before WIN8 (host-to-guest signals always use
// the per-relid SIEF flag), sub-channels, MODIFYCHANNEL, hvsocket
// (TL_CONNECT), multi-range GPADLs, VTLs other than the configured one.
//
// Host timers (device.h): the emulator asks next_deadline() when the
// earliest channel timer is due and calls fire_due() once reference time
// reaches it (from any thread); each due timer's on_timer is posted to the
// strand of the VP its channel was opened on.
//
// Threading: add_device before start(); everything else is thread-safe.
// Ports run on the posting VP's strand; one (recursive) lock serialises the
// server and device hooks: a monitor signal may run inline inside a
// monitor call the server makes. Destroy the server before the partition; destruction
// unregisters the ports and waits for calls in flight.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/system/error_code.hpp>

#include <optional>

#include "devices/vmbus/device.h"
#include "synic/defs/vtl.h"

namespace softsynic {
class Partition;
class TimeSource;
}

namespace softsynic::vmbus {

struct ServerOptions {
  // One line per decoded control message, channel change and protocol
  // error ("vmbus: ..."). Called with the server lock held, from any
  // thread. Empty: no log.
  std::function<void(const std::string&)> log;
  // Replies allowed to wait for SINT queue room before guest messages are
  // refused with INSUFFICIENT_BUFFERS. At least 1.
  std::uint32_t max_waiting_replies = 16;
  // Channel n signals on connection id base + n.
  std::uint32_t channel_connection_id_base = 0x1000;
  // Offer monitor ids when the partition has monitor support and the guest
  // gave monitor pages; latency of each id in 100 ns units (0: at once).
  bool use_monitor = true;
  std::uint16_t monitor_latency_100ns = 0;
  Vtl vtl = 0;
  // Reference time for channel timers (ChannelTimer); must outlive the
  // server and its devices. nullptr: timers never fire.
  const TimeSource* time = nullptr;
};

struct ServerStatus {
  bool connected = false;
  std::uint32_t version = 0;
  std::uint32_t target_vp = 0;
  std::uint8_t sint = 0;
  std::size_t gpadls = 0;          // complete or under construction
  std::size_t open_channels = 0;
  std::size_t channels = 0;        // offers not yet released
  bool monitor = false;            // offers carry monitor ids (pages given, monitor present)
  std::size_t monitor_ids = 0;     // monitor ids registered
  std::uint64_t protocol_errors = 0;
  std::uint64_t packets_in = 0;    // guest -> host, all channels
  std::uint64_t packets_out = 0;   // host -> guest
  std::uint32_t waiting_replies = 0;
};

// One channel, as VmbusServer::channels() lists it.
struct ChannelInfo {
  std::uint32_t relid = 0;
  std::uint32_t connection_id = 0;
  bool offered = false;
  bool open = false;
  bool rescinded = false;
  bool broken = false;
  std::uint32_t open_vp = 0;  // open: the VP OPENCHANNEL named
  std::uint32_t gpadl = 0;    // open: the ring buffer's GPADL
  // open: write and read indices of each ring, read from guest memory
  // (nullopt when they cannot be read).
  struct Ring {
    std::uint32_t write_index = 0;
    std::uint32_t read_index = 0;
    std::uint32_t data_size = 0;
  };
  std::optional<Ring> outbound;  // guest -> host
  std::optional<Ring> inbound;   // host -> guest
  std::uint64_t packets_in = 0, packets_out = 0;
};

class VmbusServer {
 public:
  explicit VmbusServer(Partition& partition, ServerOptions options = {});
  ~VmbusServer();
  VmbusServer(const VmbusServer&) = delete;
  VmbusServer& operator=(const VmbusServer&) = delete;

  // Before start(). Returns the relid of its channel (1, 2, ...); 0 once
  // started or for a null device (host misuse).
  std::uint32_t add_device(std::shared_ptr<VmbusDevice> device);
  // Registers the message connections and each channel's event
  // connection. Errors from Partition::add_*_port (connection_id_in_use...).
  boost::system::error_code start();
  // Host-side removal: sends RESCIND_CHANNELOFFER (closing the channel if
  // open); the relid is reused only after the guest's RELID_RELEASED.
  // false: unknown relid, already rescinded, or not offered to a guest.
  bool rescind(std::uint32_t relid);

  // Earliest due time of an armed timer of an open channel whose on_timer
  // is not already on its way; nullopt when there is none. May be <= now.
  std::optional<std::uint64_t> next_deadline() const;
  // Posts on_timer of every timer due at ServerOptions::time's now to its
  // channel's VP strand. Any thread.
  void fire_due();

  ServerStatus status() const;
  // Every channel by relid (tools, debuggers). Thread-safe.
  std::vector<ChannelInfo> channels() const;
  std::uint32_t channel_connection_id(std::uint32_t relid) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace softsynic::vmbus
