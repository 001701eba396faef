// SynIC message and event-flag page layouts (TLFS "SynIC Message Buffer",
// "SIEF Page") and the HvCallPostMessage input block.
// Not supported: message flags other than message_pending.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace softsynic {

inline constexpr unsigned kSintCount = 16;
inline constexpr std::size_t kMessageSize = 256;
inline constexpr std::size_t kMessageHeaderSize = 16;
inline constexpr std::size_t kMessagePayloadMax = 240;
inline constexpr unsigned kEventFlagsPerSint = 2048;  // 256 bytes of bits
inline constexpr std::size_t kEventFlagsSlotSize = 256;

// Open enum: guests and hosts may use any 32-bit message type.
enum class HvMessageType : std::uint32_t {
  none = 0,
  // Hypervisor-originated types have bit 31 set.
  unmapped_gpa = 0x80000000,
  gpa_intercept = 0x80000001,
  timer_expired = 0x80000010,
  invalid_vp_register_value = 0x80000020,
  unrecoverable_exception = 0x80000021,
  unsupported_feature = 0x80000022,
  event_log_buffer_complete = 0x80000040,
};
inline constexpr std::uint32_t kHvMessageTypeHypervisorBit = 0x80000000;

// Byte 5 of a message header; message_pending is bit 0.
inline constexpr std::uint8_t kMessageFlagPending = 0x01;

struct HvMessageHeader {
  std::uint32_t message_type;
  std::uint8_t payload_size;
  std::uint8_t message_flags;
  std::uint16_t reserved;
  std::uint64_t origination_id;  // port id or sender; 0 when none
};
static_assert(sizeof(HvMessageHeader) == kMessageHeaderSize);
static_assert(offsetof(HvMessageHeader, payload_size) == 4);
static_assert(offsetof(HvMessageHeader, message_flags) == 5);
static_assert(offsetof(HvMessageHeader, origination_id) == 8);

// One SIMP slot. Trivially copyable so it can travel through lock-free
// queues by value.
struct HvMessage {
  HvMessageHeader header;
  std::array<std::byte, kMessagePayloadMax> payload;
};
static_assert(sizeof(HvMessage) == kMessageSize);
static_assert(offsetof(HvMessage, payload) == kMessageHeaderSize);

// Offsets inside a slot, for code that reaches the guest page byte-wise.
inline constexpr std::size_t kMessageTypeOffset = 0;
inline constexpr std::size_t kMessageFlagsOffset = 5;

// HvCallPostMessage input block (256 bytes, 8-byte aligned in guest memory).
struct PostMessageInput {
  std::uint32_t connection_id;
  std::uint32_t reserved;
  std::uint32_t message_type;
  std::uint32_t payload_size;
  std::array<std::byte, kMessagePayloadMax> payload;
};
static_assert(sizeof(PostMessageInput) == kMessageSize);
static_assert(offsetof(PostMessageInput, message_type) == 8);
static_assert(offsetof(PostMessageInput, payload_size) == 12);
static_assert(offsetof(PostMessageInput, payload) == 16);

// TimerExpired payload (24 bytes).
struct TimerMessagePayload {
  std::uint32_t timer_index;
  std::uint32_t reserved;
  std::uint64_t expiration_time;  // 100 ns units of reference time
  std::uint64_t delivery_time;
};
static_assert(sizeof(TimerMessagePayload) == 24);

}  // namespace softsynic
