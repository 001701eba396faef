// IcDevice: IC negotiation and request/answer matching; see ic_device.h.
#include "devices/vmbus/ic_device.h"

#include <utility>

#include "devices/vmbus/ic_message_text.h"

namespace softsynic::vmbus {

IcDevice::IcDevice(Spec spec) : spec_(std::move(spec)) {}

DeviceIdentity IcDevice::identity() const { return {spec_.name, spec_.interface_id, spec_.instance_id}; }

std::optional<IcVersions> IcDevice::negotiated() const {
  std::lock_guard lock(snapshot_mutex_);
  return negotiated_snapshot_;
}

std::shared_ptr<ChannelTimer> IcDevice::timer() const {
  std::lock_guard lock(snapshot_mutex_);
  return timer_;
}

void IcDevice::on_attach(std::shared_ptr<ChannelTimer> timer) {
  std::lock_guard lock(snapshot_mutex_);
  timer_ = std::move(timer);
}

void IcDevice::guest_error(ChannelIo& io, const std::string& why) {
  guest_errors_.fetch_add(1, std::memory_order_relaxed);
  io.error(spec_.name + ": " + why);
}

bool IcDevice::send(ChannelIo& io, IcMessageType type, const std::vector<std::byte>& payload) {
  const std::uint64_t transaction = next_transaction_;
  io.log("host -> channel " + std::to_string(io.relid()) + " (" + spec_.name + ") " + describe_ic_message(payload));
  switch (io.send(PacketType::data_in_band, transaction, payload)) {
    case SendStatus::ok:
      break;
    case SendStatus::full:
      io.log(spec_.name + ": guest ring full; request not sent");
      return false;
    case SendStatus::broken:
    default:
      io.log(spec_.name + ": channel unusable; request not sent");
      return false;
  }
  ++next_transaction_;
  pending_ = Pending{transaction, type};
  return true;
}

void IcDevice::on_open(ChannelIo& io) {
  versions_.reset();
  pending_.reset();
  {
    std::lock_guard lock(snapshot_mutex_);
    negotiated_snapshot_.reset();
  }
  const auto tid = static_cast<std::uint8_t>(next_transaction_);
  send(io, IcMessageType::negotiate, encode_negotiate_request(tid, kIcFrameworkVersions, spec_.services));
}

void IcDevice::on_close() {
  versions_.reset();
  pending_.reset();
  std::shared_ptr<ChannelTimer> t;
  {
    std::lock_guard lock(snapshot_mutex_);
    negotiated_snapshot_.reset();
    t = timer_;
  }
  if (t) t->cancel();
  on_channel_closed();
}

void IcDevice::on_timer(ChannelIo& io) {
  if (versions_) on_due(io);
}

PacketDisposition IcDevice::on_packet(ChannelIo& io, const RingPacket& packet) {
  const std::string from = "channel " + std::to_string(io.relid()) + " (" + spec_.name + ") -> host ";
  if (packet.descriptor.type != static_cast<std::uint16_t>(PacketType::data_in_band)) {
    guest_error(io, "packet type " + std::to_string(packet.descriptor.type) + " is not an in-band IC message; dropped");
    return PacketDisposition::consumed;
  }
  const auto payload = packet.payload();
  io.log(from + describe_ic_message(payload));
  const auto m = IcMessage::decode(payload);
  if (!m) {
    guest_error(io, "IC message of " + std::to_string(payload.size()) + " bytes is shorter than its headers (" +
                        std::to_string(kIcBodyOffset) + "); dropped");
    return PacketDisposition::consumed;
  }
  const std::string type_name(ic_message_name(m->header().message_type));
  if (!m->is_response()) {
    guest_error(io, type_name + " (" + std::to_string(m->header().message_type) +
                        ") is not a response; the host takes no requests here; dropped");
    return PacketDisposition::consumed;
  }
  if (!pending_ || packet.descriptor.transaction_id != pending_->packet_transaction) {
    guest_error(io, type_name + " answer to transaction " + std::to_string(packet.descriptor.transaction_id) +
                        ", which is not an outstanding request; dropped");
    return PacketDisposition::consumed;
  }
  const Pending asked = *std::exchange(pending_, std::nullopt);
  if (m->type() != asked.type) {
    guest_error(io, type_name + " (" + std::to_string(m->header().message_type) + ") answer to a " +
                        std::string(ic_message_name(static_cast<std::uint16_t>(asked.type))) + " request; dropped");
    return PacketDisposition::consumed;
  }
  switch (asked.type) {
    case IcMessageType::negotiate:
      negotiate_answer(io, *m);
      break;
    default:
      on_answer(io, *m);
      break;
  }
  return PacketDisposition::consumed;
}

void IcDevice::negotiate_answer(ChannelIo& io, const IcMessage& answer) {
  const NegotiateAnswer a = decode_negotiate_answer(answer, kIcFrameworkVersions, spec_.services);
  switch (a.outcome) {
    case NegotiateOutcome::agreed:
      break;
    case NegotiateOutcome::no_common:
      io.log(spec_.name + ": the guest knows none of the offered versions; idle until the channel reopens");
      return;
    case NegotiateOutcome::malformed:
    case NegotiateOutcome::not_offered:
    default:
      guest_error(io, "negotiation failed: " + a.why + "; idle until the channel reopens");
      return;
  }
  versions_ = a.versions;
  {
    std::lock_guard lock(snapshot_mutex_);
    negotiated_snapshot_ = a.versions;
  }
  io.log(spec_.name + ": negotiated framework " + a.versions.framework.to_string() + ", service " +
         a.versions.service.to_string());
  on_negotiated(io, a.versions);
}

}  // namespace softsynic::vmbus
