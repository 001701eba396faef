// VMBus ring buffers and packets: the 4 KiB control page at the start of
// each ring (read/write indexes, interrupt mask, pending send size, feature
// bits) followed by the data area, and the packet descriptor every packet
// starts with. Indexes are byte offsets into the data area; each packet is
// padded to 8 bytes and followed by a u64 holding the writer's index at the
// time of the write (its upper 32 bits). A ring is full when a write would
// make the write index reach the read index.
// Not supported: transfer-page and GPA-direct packet bodies (decoded by type
// only).
#pragma once

#include <cstddef>
#include <cstdint>

namespace softsynic::vmbus {

inline constexpr std::size_t kRingPageSize = 4096;
inline constexpr std::size_t kRingHeaderSize = 4096;

struct RingHeader {
  std::uint32_t write_index;
  std::uint32_t read_index;
  std::uint32_t interrupt_mask;   // reader sets it: "do not signal me"
  std::uint32_t pending_send_size;  // writer waiting for this many free bytes
  std::uint32_t reserved1[12];
  std::uint32_t feature_bits;
};
static_assert(sizeof(RingHeader) == 68);

inline constexpr std::size_t kRingWriteIndexOffset = 0;
inline constexpr std::size_t kRingReadIndexOffset = 4;
inline constexpr std::size_t kRingInterruptMaskOffset = 8;
inline constexpr std::size_t kRingPendingSendSizeOffset = 12;
inline constexpr std::size_t kRingFeatureBitsOffset = 64;
static_assert(offsetof(RingHeader, pending_send_size) == kRingPendingSendSizeOffset);
static_assert(offsetof(RingHeader, feature_bits) == kRingFeatureBitsOffset);

// feature_bits bit 0: the host honours pending_send_size.
inline constexpr std::uint32_t kRingFeaturePendingSendSize = 0x1;

// Open enum: guests may write any type.
enum class PacketType : std::uint16_t {
  invalid = 0,
  data_in_band = 6,
  data_using_transfer_pages = 7,
  data_using_gpa_direct = 9,
  completion = 11,
};

// PacketDescriptor::flags bit 0: the sender asks for a completion packet.
inline constexpr std::uint16_t kPacketFlagCompletionRequested = 0x1;

struct PacketDescriptor {
  std::uint16_t type;
  std::uint16_t data_offset8;  // payload offset from the packet start, in 8-byte units
  std::uint16_t length8;       // whole packet length (without the trailer), in 8-byte units
  std::uint16_t flags;
  std::uint64_t transaction_id;
};
static_assert(sizeof(PacketDescriptor) == 16);

inline constexpr std::size_t kPacketTrailerSize = 8;  // u64 previous-index word

}  // namespace softsynic::vmbus
