// GuestRing: one VMBus ring buffer in guest memory (a run of GPADL pages:
// the 4 KiB control page, then the data pages) and the packet rules of
// defs/ring_buffer.h on top of it. The host reads packets from the guest's
// outbound ring and writes packets into its inbound ring. Every index and
// descriptor the guest wrote is checked; a bad one makes the ring report
// `corrupt` (the host stops using it) instead of reading outside it.
// Not supported: reading transfer-page or GPA-direct bodies (the bytes are
// passed on as they are).
//
// Threading: not thread-safe; the server calls it under its lock. Guest
// memory accesses go through GuestMemory (thread-safe).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "devices/vmbus/defs/ring_buffer.h"
#include "synic/guest_memory.h"

namespace softsynic::vmbus {

enum class RingStatus {
  ok,
  empty,    // nothing to read
  full,     // not enough room to write; nothing written
  corrupt,  // an index, descriptor or page is not usable
};

struct RingPacket {
  PacketDescriptor descriptor{};
  std::vector<std::byte> bytes;  // the whole packet (descriptor included), length8 * 8 bytes
  std::uint32_t total_size = 0;  // bytes it occupies in the ring, trailer included

  // The payload: from data_offset8 * 8 to the end of the packet.
  std::span<const std::byte> payload() const {
    const std::size_t off = std::size_t{descriptor.data_offset8} * 8;
    return std::span<const std::byte>(bytes).subspan(off);
  }
};

class GuestRing {
 public:
  // pages: guest page frame numbers, control page first; at least two.
  GuestRing(GuestMemory& memory, std::vector<std::uint64_t> pages);

  std::uint32_t data_size() const { return data_size_; }

  // Control-page fields.
  bool read_u32(std::size_t offset, std::uint32_t& value) const;
  bool write_u32(std::size_t offset, std::uint32_t value);

  // Reader side: the next packet without consuming it.
  RingStatus peek(RingPacket& packet) const;
  // Advances the read index past `packet`. `free_before`/`free_after`: the
  // room the writer has around the move (for pending_send_size).
  RingStatus consume(const RingPacket& packet, std::uint32_t& free_before, std::uint32_t& free_after);

  // Writer side: appends one packet (descriptor, payload padded to 8 bytes,
  // trailer). signal_reader: the ring went from empty to non-empty and the
  // reader has not masked interrupts (so the reader must be signalled).
  RingStatus write(const PacketDescriptor& descriptor, std::span<const std::byte> payload, bool& signal_reader);
  // Bytes a packet with this payload occupies in the ring.
  static std::uint32_t packet_size(std::size_t header_bytes, std::size_t payload_bytes);

  // Room the writer has now (0 when the indexes are corrupt).
  std::uint32_t free_bytes() const;

  // The control page's write and read indices; false when unreadable or
  // corrupt (out of range, misaligned).
  bool indexes(std::uint32_t& write_index, std::uint32_t& read_index) const;

 private:
  bool read_data(std::uint32_t offset, std::span<std::byte> out) const;
  bool write_data(std::uint32_t offset, std::span<const std::byte> in);

  GuestMemory& memory_;
  std::vector<std::uint64_t> pages_;
  std::uint32_t data_size_ = 0;
};

}  // namespace softsynic::vmbus
