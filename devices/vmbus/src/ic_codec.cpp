// IC message encoding and decoding; see ic_codec.h.
#include "devices/vmbus/ic_codec.h"

#include <algorithm>
#include <cstring>

namespace softsynic::vmbus {
namespace {

template <typename T>
std::span<const std::byte> bytes_of(const T& v) {
  return std::as_bytes(std::span<const T, 1>(&v, 1));
}

// T from the front of `p`, when `p` holds all of it.
template <typename T>
std::optional<T> read_whole(std::span<const std::byte> p) {
  if (p.size() < sizeof(T)) return std::nullopt;
  T v{};
  std::memcpy(&v, p.data(), sizeof v);
  return v;
}

bool contains(std::span<const IcVersion> list, IcVersion v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

std::optional<IcMessage> IcMessage::decode(std::span<const std::byte> payload) {
  if (payload.size() < kIcBodyOffset) return std::nullopt;
  IcMessage m;
  std::memcpy(&m.pipe_, payload.data(), sizeof m.pipe_);
  std::memcpy(&m.header_, payload.data() + kIcHeaderOffset, sizeof m.header_);
  m.body_ = payload.subspan(kIcBodyOffset);
  return m;
}

std::vector<std::byte> encode_ic_request(IcMessageType type, IcVersions versions, std::uint8_t transaction_id,
                                         std::span<const std::byte> body) {
  PipeHeader pipe{};
  pipe.message_size = static_cast<std::uint32_t>(sizeof(IcHeader) + body.size());
  IcHeader h{};
  h.framework = versions.framework;
  h.message_type = static_cast<std::uint16_t>(type);
  h.message_version = versions.service;
  h.message_size = static_cast<std::uint16_t>(body.size());
  h.transaction_id = transaction_id;
  h.flags = kIcFlagTransaction | kIcFlagRequest;
  std::vector<std::byte> out;
  out.reserve(kIcBodyOffset + body.size());
  const auto p = bytes_of(pipe);
  const auto hb = bytes_of(h);
  out.insert(out.end(), p.begin(), p.end());
  out.insert(out.end(), hb.begin(), hb.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<std::byte> encode_negotiate_request(std::uint8_t transaction_id, std::span<const IcVersion> frameworks,
                                                std::span<const IcVersion> services) {
  IcNegotiate n{};
  n.framework_count = static_cast<std::uint16_t>(frameworks.size());
  n.service_count = static_cast<std::uint16_t>(services.size());
  std::vector<std::byte> body(bytes_of(n).begin(), bytes_of(n).end());
  for (const auto list : {frameworks, services}) {
    for (const IcVersion v : list) {
      const auto b = bytes_of(v);
      body.insert(body.end(), b.begin(), b.end());
    }
  }
  const IcVersions header{frameworks.empty() ? IcVersion{} : frameworks.front(),
                          services.empty() ? IcVersion{} : services.front()};
  return encode_ic_request(IcMessageType::negotiate, header, transaction_id, body);
}

std::vector<std::byte> encode_heartbeat_request(IcVersions versions, std::uint8_t transaction_id,
                                                std::uint64_t sequence) {
  HeartbeatData d{};
  d.sequence = sequence;
  return encode_ic_request(IcMessageType::heartbeat, versions, transaction_id, bytes_of(d));
}

std::vector<std::byte> encode_shutdown_request(IcVersions versions, std::uint8_t transaction_id, std::uint32_t flags,
                                               std::uint32_t reason_code, std::uint32_t timeout_seconds) {
  ShutdownData d{};
  d.reason_code = reason_code;
  d.timeout_seconds = timeout_seconds;
  d.flags = flags;
  return encode_ic_request(IcMessageType::shutdown, versions, transaction_id, bytes_of(d));
}

std::vector<std::byte> encode_time_sync_request(IcVersions versions, std::uint8_t transaction_id,
                                                std::uint64_t parent_time, std::uint64_t reference_time,
                                                std::uint8_t flags) {
  if (versions.service.ordinal() >= kTimeSyncRefVersion.ordinal()) {
    TimeSyncRefData d{};
    d.parent_time = parent_time;
    d.reference_time = reference_time;
    d.flags = flags;
    return encode_ic_request(IcMessageType::time_sync, versions, transaction_id, bytes_of(d));
  }
  TimeSyncData d{};
  d.parent_time = parent_time;
  d.flags = flags;
  return encode_ic_request(IcMessageType::time_sync, versions, transaction_id, bytes_of(d));
}

std::optional<NegotiateLists> decode_negotiate_lists(const IcMessage& message) {
  const auto n = read_whole<IcNegotiate>(message.body());
  if (!n) return std::nullopt;
  const std::size_t count = std::size_t{n->framework_count} + n->service_count;
  const auto versions = message.body().subspan(sizeof(IcNegotiate));
  if (versions.size() / sizeof(IcVersion) < count) return std::nullopt;
  NegotiateLists lists;
  for (std::size_t i = 0; i < count; ++i) {
    IcVersion v;
    std::memcpy(&v, versions.data() + i * sizeof v, sizeof v);
    (i < n->framework_count ? lists.frameworks : lists.services).push_back(v);
  }
  return lists;
}

NegotiateAnswer decode_negotiate_answer(const IcMessage& answer, std::span<const IcVersion> frameworks,
                                        std::span<const IcVersion> services) {
  NegotiateAnswer a;
  const auto n = read_whole<IcNegotiate>(answer.body());
  if (!n) {
    a.why = "negotiate body is " + std::to_string(answer.body().size()) + " bytes, need " +
            std::to_string(sizeof(IcNegotiate));
    return a;
  }
  if (n->framework_count == 0 && n->service_count == 0) {
    a.outcome = NegotiateOutcome::no_common;
    return a;
  }
  if (n->framework_count != 1 || n->service_count != 1) {
    a.why = "answer names " + std::to_string(n->framework_count) + " framework and " +
            std::to_string(n->service_count) + " service versions (need 1 and 1)";
    return a;
  }
  const auto lists = decode_negotiate_lists(answer);
  if (!lists) {
    a.why = "answer is too short for the versions it names";
    return a;
  }
  a.versions = {lists->frameworks.front(), lists->services.front()};
  if (!contains(frameworks, a.versions.framework) || !contains(services, a.versions.service)) {
    a.outcome = NegotiateOutcome::not_offered;
    a.why = "guest picked framework " + a.versions.framework.to_string() + " service " +
            a.versions.service.to_string() + ", which the host did not offer";
    return a;
  }
  a.outcome = NegotiateOutcome::agreed;
  return a;
}

std::optional<std::uint64_t> decode_heartbeat_sequence(const IcMessage& message) {
  return read_whole<std::uint64_t>(message.body());
}

std::optional<std::uint32_t> decode_shutdown_flags(const IcMessage& message) {
  const auto body = message.body();
  if (body.size() < offsetof(ShutdownData, flags) + sizeof(std::uint32_t)) return std::nullopt;
  return read_whole<std::uint32_t>(body.subspan(offsetof(ShutdownData, flags)));
}

std::optional<TimeSyncSample> decode_time_sync(const IcMessage& message) {
  TimeSyncSample s;
  if (message.header().message_version.ordinal() >= kTimeSyncRefVersion.ordinal()) {
    const auto d = read_whole<TimeSyncRefData>(message.body());
    if (!d) return std::nullopt;
    s.parent_time = d->parent_time;
    s.reference_time = d->reference_time;
    s.flags = d->flags;
    return s;
  }
  const auto d = read_whole<TimeSyncData>(message.body());
  if (!d) return std::nullopt;
  s.parent_time = d->parent_time;
  s.flags = d->flags;
  return s;
}

}  // namespace softsynic::vmbus
