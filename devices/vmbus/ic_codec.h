// Encoding and decoding of integration-component messages (layouts in
// defs/ic_messages.h): the host's requests as packet payloads, and the
// guest's answers read back field by field. Decoding never reads past the
// bytes it is given; a field the packet is too short for is reported, not
// guessed.
//
// Threading: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "devices/vmbus/defs/ic_messages.h"

namespace softsynic::vmbus {

// The versions a negotiation agreed on; the host writes them into the
// header of every later request.
struct IcVersions {
  IcVersion framework;
  IcVersion service;
  friend constexpr bool operator==(const IcVersions&, const IcVersions&) = default;
};

// One IC message as it came in a packet payload.
class IcMessage {
 public:
  // nullopt: shorter than the pipe and IC headers (28 bytes).
  static std::optional<IcMessage> decode(std::span<const std::byte> payload);

  const PipeHeader& pipe() const { return pipe_; }
  const IcHeader& header() const { return header_; }
  IcMessageType type() const { return static_cast<IcMessageType>(header_.message_type); }
  bool is_response() const { return (header_.flags & kIcFlagResponse) != 0; }
  std::uint32_t status() const { return header_.status; }
  // Every byte after the IC header (message_size is not trusted).
  std::span<const std::byte> body() const { return body_; }

 private:
  PipeHeader pipe_{};
  IcHeader header_{};
  std::span<const std::byte> body_;
};

// ---- host requests (whole packet payloads) ----

// Pipe header, IC header (flags: transaction | request) and body.
std::vector<std::byte> encode_ic_request(IcMessageType type, IcVersions versions, std::uint8_t transaction_id,
                                         std::span<const std::byte> body);
// Offers `frameworks` then `services`; the header carries the first
// (newest) of each.
std::vector<std::byte> encode_negotiate_request(std::uint8_t transaction_id, std::span<const IcVersion> frameworks,
                                                std::span<const IcVersion> services);
std::vector<std::byte> encode_heartbeat_request(IcVersions versions, std::uint8_t transaction_id,
                                                std::uint64_t sequence);
std::vector<std::byte> encode_shutdown_request(IcVersions versions, std::uint8_t transaction_id, std::uint32_t flags,
                                               std::uint32_t reason_code = 0, std::uint32_t timeout_seconds = 0);
// TimeSyncRefData from service 4.0, else TimeSyncData (reference time not
// carried).
std::vector<std::byte> encode_time_sync_request(IcVersions versions, std::uint8_t transaction_id,
                                                std::uint64_t parent_time, std::uint64_t reference_time,
                                                std::uint8_t flags);

// ---- guest answers ----

enum class NegotiateOutcome {
  agreed,      // one framework and one service version, both offered
  no_common,   // counts 0 and 0: the guest knows none of the offered versions
  malformed,   // short, counts other than 1/1 or 0/0, or more versions than the bytes hold
  not_offered, // the guest picked a version the host did not offer
};

struct NegotiateAnswer {
  NegotiateOutcome outcome = NegotiateOutcome::malformed;
  IcVersions versions;  // agreed, not_offered: what the guest picked
  std::string why;      // malformed, not_offered: for the log
};

NegotiateAnswer decode_negotiate_answer(const IcMessage& answer, std::span<const IcVersion> frameworks,
                                        std::span<const IcVersion> services);

// The version lists of a negotiate message (either direction); nullopt
// when the counts promise more than the body holds.
struct NegotiateLists {
  std::vector<IcVersion> frameworks;
  std::vector<IcVersion> services;
};
std::optional<NegotiateLists> decode_negotiate_lists(const IcMessage& message);

// HeartbeatData::sequence; nullopt when the body is shorter than it.
std::optional<std::uint64_t> decode_heartbeat_sequence(const IcMessage& message);

// ShutdownData::flags (the only field a guest's answer is read for).
std::optional<std::uint32_t> decode_shutdown_flags(const IcMessage& message);

// The sample, in the layout the header's message version names.
struct TimeSyncSample {
  std::uint64_t parent_time = 0;
  std::optional<std::uint64_t> reference_time;  // service 4.0 and later
  std::uint8_t flags = 0;
};
std::optional<TimeSyncSample> decode_time_sync(const IcMessage& message);

}  // namespace softsynic::vmbus
