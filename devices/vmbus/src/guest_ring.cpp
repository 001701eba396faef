// GuestRing: ring indexes, packet framing and page-wise copies; see
// guest_ring.h.
#include "devices/vmbus/guest_ring.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace softsynic::vmbus {
namespace {

constexpr std::uint32_t kAlign = 8;

std::uint32_t room(std::uint32_t write_index, std::uint32_t read_index, std::uint32_t size) {
  return write_index >= read_index ? size - (write_index - read_index) : read_index - write_index;
}

std::uint32_t filled(std::uint32_t write_index, std::uint32_t read_index, std::uint32_t size) {
  return size - room(write_index, read_index, size);
}

}  // namespace

GuestRing::GuestRing(GuestMemory& memory, std::vector<std::uint64_t> pages)
    : memory_(memory), pages_(std::move(pages)) {
  // Rings above 4 GiB of data are not meaningful (32-bit indexes).
  const std::size_t data_pages = pages_.size() > 1 ? std::min<std::size_t>(pages_.size() - 1, 0xFFFFF) : 0;
  data_size_ = static_cast<std::uint32_t>(data_pages * kRingPageSize);
}

bool GuestRing::read_u32(std::size_t offset, std::uint32_t& value) const {
  if (pages_.empty() || offset + 4 > kRingHeaderSize) return false;
  std::byte b[4];
  if (!memory_.read(pages_[0] * kRingPageSize + offset, b)) return false;
  std::memcpy(&value, b, 4);
  return true;
}

bool GuestRing::write_u32(std::size_t offset, std::uint32_t value) {
  if (pages_.empty() || offset + 4 > kRingHeaderSize) return false;
  std::byte b[4];
  std::memcpy(b, &value, 4);
  return memory_.write(pages_[0] * kRingPageSize + offset, b);
}

bool GuestRing::indexes(std::uint32_t& write_index, std::uint32_t& read_index) const {
  if (data_size_ == 0) return false;
  if (!read_u32(kRingWriteIndexOffset, write_index) || !read_u32(kRingReadIndexOffset, read_index)) return false;
  return write_index < data_size_ && read_index < data_size_ && write_index % kAlign == 0 &&
         read_index % kAlign == 0;
}

bool GuestRing::read_data(std::uint32_t offset, std::span<std::byte> out) const {
  std::size_t done = 0;
  while (done < out.size()) {
    const std::uint32_t at = static_cast<std::uint32_t>((offset + done) % data_size_);
    const std::size_t page = at / kRingPageSize;
    const std::size_t in_page = at % kRingPageSize;
    const std::size_t n = std::min(out.size() - done, kRingPageSize - in_page);
    if (!memory_.read(pages_[1 + page] * kRingPageSize + in_page, out.subspan(done, n))) return false;
    done += n;
  }
  return true;
}

bool GuestRing::write_data(std::uint32_t offset, std::span<const std::byte> in) {
  std::size_t done = 0;
  while (done < in.size()) {
    const std::uint32_t at = static_cast<std::uint32_t>((offset + done) % data_size_);
    const std::size_t page = at / kRingPageSize;
    const std::size_t in_page = at % kRingPageSize;
    const std::size_t n = std::min(in.size() - done, kRingPageSize - in_page);
    if (!memory_.write(pages_[1 + page] * kRingPageSize + in_page, in.subspan(done, n))) return false;
    done += n;
  }
  return true;
}

std::uint32_t GuestRing::free_bytes() const {
  std::uint32_t w = 0, r = 0;
  return indexes(w, r) ? room(w, r, data_size_) : 0;
}

std::uint32_t GuestRing::packet_size(std::size_t header_bytes, std::size_t payload_bytes) {
  const std::size_t body = (header_bytes + payload_bytes + kAlign - 1) / kAlign * kAlign;
  return static_cast<std::uint32_t>(std::min<std::size_t>(body + kPacketTrailerSize, 0xFFFFFFFFu));
}

RingStatus GuestRing::peek(RingPacket& packet) const {
  std::uint32_t w = 0, r = 0;
  if (!indexes(w, r)) return RingStatus::corrupt;
  if (w == r) return RingStatus::empty;
  const std::uint32_t available = filled(w, r, data_size_);
  std::byte raw[sizeof(PacketDescriptor)];
  if (available < sizeof raw + kPacketTrailerSize || !read_data(r, raw)) return RingStatus::corrupt;
  std::memcpy(&packet.descriptor, raw, sizeof raw);
  const std::uint32_t length = std::uint32_t{packet.descriptor.length8} * 8;
  const std::uint32_t offset = std::uint32_t{packet.descriptor.data_offset8} * 8;
  if (length < sizeof(PacketDescriptor) || offset < sizeof(PacketDescriptor) || offset > length ||
      std::uint64_t{length} + kPacketTrailerSize > available)
    return RingStatus::corrupt;
  packet.bytes.resize(length);
  if (!read_data(r, packet.bytes)) return RingStatus::corrupt;
  packet.total_size = length + static_cast<std::uint32_t>(kPacketTrailerSize);
  return RingStatus::ok;
}

RingStatus GuestRing::consume(const RingPacket& packet, std::uint32_t& free_before, std::uint32_t& free_after) {
  std::uint32_t w = 0, r = 0;
  if (!indexes(w, r)) return RingStatus::corrupt;
  if (packet.total_size > filled(w, r, data_size_)) return RingStatus::corrupt;
  free_before = room(w, r, data_size_);
  const std::uint32_t next = static_cast<std::uint32_t>((std::uint64_t{r} + packet.total_size) % data_size_);
  // The guest may reuse the bytes once it sees the new index.
  std::atomic_thread_fence(std::memory_order_release);
  if (!write_u32(kRingReadIndexOffset, next)) return RingStatus::corrupt;
  free_after = room(w, next, data_size_);
  return RingStatus::ok;
}

RingStatus GuestRing::write(const PacketDescriptor& descriptor, std::span<const std::byte> payload,
                            bool& signal_reader) {
  signal_reader = false;
  std::uint32_t w = 0, r = 0;
  if (!indexes(w, r)) return RingStatus::corrupt;
  const std::uint32_t total = packet_size(sizeof descriptor, payload.size());
  if (std::uint64_t{total} >= room(w, r, data_size_)) return RingStatus::full;
  const std::uint32_t body = total - static_cast<std::uint32_t>(kPacketTrailerSize);
  if (body / 8 > 0xFFFF) return RingStatus::corrupt;  // length8 is 16 bits: host misuse
  std::vector<std::byte> bytes(total, std::byte{0});
  PacketDescriptor d = descriptor;
  d.data_offset8 = sizeof(PacketDescriptor) / 8;
  d.length8 = static_cast<std::uint16_t>(body / 8);
  std::memcpy(bytes.data(), &d, sizeof d);
  if (!payload.empty()) std::memcpy(bytes.data() + sizeof d, payload.data(), payload.size());
  const std::uint64_t trailer = std::uint64_t{w} << 32;
  std::memcpy(bytes.data() + body, &trailer, sizeof trailer);
  if (!write_data(w, bytes)) return RingStatus::corrupt;
  // The packet's bytes before the index that publishes them.
  std::atomic_thread_fence(std::memory_order_release);
  const std::uint32_t next = static_cast<std::uint32_t>((std::uint64_t{w} + total) % data_size_);
  if (!write_u32(kRingWriteIndexOffset, next)) return RingStatus::corrupt;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::uint32_t mask = 0, read_now = 0;
  if (!read_u32(kRingInterruptMaskOffset, mask) || !read_u32(kRingReadIndexOffset, read_now))
    return RingStatus::corrupt;
  signal_reader = mask == 0 && read_now == w;
  return RingStatus::ok;
}

}  // namespace softsynic::vmbus
