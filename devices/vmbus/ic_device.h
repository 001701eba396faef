// IcDevice: what every integration component does as a Hyper-V host does
// it. When the guest opens the channel the host sends a negotiate request
// offering framework versions 3.0 and 1.0 and the component's service
// versions; the guest answers in place with one of each (or none). From
// then on the component sends requests of its own message type with the
// agreed versions in the header and reads the guest's answers.
//
// One request is outstanding at a time: an answer must carry the packet
// transaction id of the last request and the same message type. Anything
// else the guest writes (short packets, requests, unknown types, answers
// to nothing, versions the host did not offer) is logged as a protocol
// error ("vmbus: error: <name>: ...") and dropped; the component goes on,
// or stays idle when negotiation failed, until the guest opens the channel
// again.
//
// Log lines: "host -> channel N (<name>) IC ..." for what the host sends,
// "channel N (<name>) -> host IC ..." for the guest's answers (decoded by
// describe_ic_message), "<name>: ..." for the component's own events.
//
// Threading: hooks as VmbusDevice (the server's lock, one strand at a
// time); the snapshots below are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "devices/vmbus/device.h"
#include "devices/vmbus/ic_codec.h"

namespace softsynic::vmbus {

class IcDevice : public VmbusDevice {
 public:
  DeviceIdentity identity() const final;
  PacketDisposition on_packet(ChannelIo& io, const RingPacket& packet) final;
  void on_open(ChannelIo& io) final;
  void on_close() final;
  void on_attach(std::shared_ptr<ChannelTimer> timer) final;
  void on_timer(ChannelIo& io) final;

  // The versions agreed with the guest; nullopt before (or after a failed)
  // negotiation.
  std::optional<IcVersions> negotiated() const;
  // Guest answers refused as protocol errors.
  std::uint64_t guest_errors() const { return guest_errors_.load(std::memory_order_relaxed); }

 protected:
  struct Spec {
    std::string name;
    Guid interface_id;
    Guid instance_id;
    IcMessageType type;                  // the message type of its requests after negotiation
    std::span<const IcVersion> services;  // offered, newest first
  };
  explicit IcDevice(Spec spec);

  // ---- for the component (hooks: strand, server lock held) ----

  // The guest agreed on `versions`; typically arms the timer.
  virtual void on_negotiated(ChannelIo& io, IcVersions versions) = 0;
  // The guest's answer to the last request of the component's type.
  virtual void on_answer(ChannelIo& io, const IcMessage& answer) = 0;
  // The channel timer fired after negotiation.
  virtual void on_due(ChannelIo& io) = 0;
  // The channel closed (negotiation is forgotten; the timer is cancelled).
  virtual void on_channel_closed() {}

  // A request of the component's type with the agreed versions and the
  // next transaction id; `encode(versions, transaction_id)` builds the
  // payload. A request still unanswered is given up. false: not sent (no
  // room in the guest's ring, or the channel is broken), logged.
  template <typename Encode>
  bool send_request(ChannelIo& io, Encode&& encode) {
    const auto tid = static_cast<std::uint8_t>(next_transaction_);
    return send(io, spec_.type, encode(*versions_, tid));
  }
  bool awaiting_answer() const { return pending_.has_value(); }
  // The timer the server gave this channel (nullptr before add_device).
  std::shared_ptr<ChannelTimer> timer() const;
  const std::string& name() const { return spec_.name; }
  void guest_error(ChannelIo& io, const std::string& why);

 private:
  struct Pending {
    std::uint64_t packet_transaction = 0;
    IcMessageType type = IcMessageType::negotiate;
  };
  bool send(ChannelIo& io, IcMessageType type, const std::vector<std::byte>& payload);
  void negotiate_answer(ChannelIo& io, const IcMessage& answer);

  Spec spec_;
  std::optional<IcVersions> versions_;  // strand state
  std::optional<Pending> pending_;
  std::uint64_t next_transaction_ = 1;
  std::atomic<std::uint64_t> guest_errors_{0};
  mutable std::mutex snapshot_mutex_;  // guards the two below
  std::optional<IcVersions> negotiated_snapshot_;
  std::shared_ptr<ChannelTimer> timer_;
};

}  // namespace softsynic::vmbus
