// VMBus channels: the echo device over ring buffers in guest memory built
// from a GPADL, guest-to-host signals on the offer's connection id,
// host-to-guest event flags (relid) on SINT 2, ring wrap, a full inbound
// ring with pending_send_size, and corrupt rings.
#include <doctest/doctest.h>

#include "tests/vmbus/vmbus_harness.h"

using namespace softsynic;
using namespace softsynic::vmbus;
using softsynic::vmbus::test::Harness;

namespace {

constexpr std::uint64_t kPfn = test::kPool >> 12;

std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::byte> b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::byte>((seed * 131 + i * 7 + (i >> 8)) & 0xFF);
  return b;
}

// The echo pads the payload to 8 bytes; the first `size` bytes must match.
bool echoed(const Harness::Ring::Packet& p, const std::vector<std::byte>& sent, std::uint64_t trans_id) {
  return p.d.type == static_cast<std::uint16_t>(PacketType::data_in_band) && p.d.transaction_id == trans_id &&
         p.payload.size() == (sent.size() + 7) / 8 * 8 && std::equal(sent.begin(), sent.end(), p.payload.begin());
}

struct Open {
  Harness h;
  Harness::Ring out;
  Harness::Ring in;
  // out_pages / in_pages include each ring's control page.
  explicit Open(std::uint32_t out_pages = 9, std::uint32_t in_pages = 9)
      : out(h.outbound_ring(kPfn, out_pages)), in(h.inbound_ring(kPfn, out_pages, in_pages)) {
    h.connect_and_offer();
    REQUIRE(h.create_gpadl(1, kPfn, out_pages + in_pages)->creation_status == kStatusSuccess);
    REQUIRE(h.open(1, out_pages)->status == kStatusSuccess);
  }
};

}  // namespace

TEST_CASE("channel: packets of every size from 1 to 4000 bytes come back byte for byte") {
  Open o;
  std::uint64_t bytes = 0;
  for (std::uint32_t size = 1; size <= 4000; ++size) {
    const auto sent = pattern(size, size);
    bool signal = false;
    REQUIRE(o.out.write(sent, size, &signal));
    CHECK(signal);  // the host drains each packet, so the ring was empty
    CHECK(o.h.signal_channel() == HvStatus::success);
    auto p = o.in.read();
    REQUIRE(p);
    CHECK(echoed(*p, sent, size));
    CHECK_FALSE(o.in.read());
    bytes += size;
  }
  CHECK(o.h.echo->echoed_packets() == 4000);
  CHECK(o.h.server->status().packets_in == 4000);
  CHECK(o.h.server->status().packets_out == 4000);
  CHECK(o.h.server->status().protocol_errors == 0);
  CHECK(bytes == 4000ull * 4001 / 2);
}

TEST_CASE("channel: the host raises the relid's event flag on SINT 2 when the inbound ring becomes non-empty") {
  Open o;
  const unsigned before = o.h.interrupts[0];
  REQUIRE(o.out.write(pattern(10, 1), 1));
  o.h.signal_channel();
  CHECK(o.h.take_channel_flag());
  CHECK(o.h.interrupts[0] == before + 1);
  // Not empty any more: the next echo raises nothing new.
  REQUIRE(o.out.write(pattern(10, 2), 2));
  o.h.signal_channel();
  CHECK_FALSE(o.h.take_channel_flag());
  REQUIRE(o.in.read());
  REQUIRE(o.in.read());
  // The guest masks interrupts on its inbound ring: no flag either.
  o.in.set(kRingInterruptMaskOffset, 1);
  REQUIRE(o.out.write(pattern(10, 3), 3));
  o.h.signal_channel();
  CHECK_FALSE(o.h.take_channel_flag());
  CHECK(o.in.read());
}

TEST_CASE("channel: indexes wrap around a one-page ring many times") {
  Open o(2, 2);  // 4096 data bytes each way
  std::uint32_t wraps = 0, last_write = 0;
  for (std::uint32_t i = 1; i <= 600; ++i) {
    const auto sent = pattern(1 + (i * 37) % 900, i);
    REQUIRE(o.out.write(sent, i));
    o.h.signal_channel();
    auto p = o.in.read();
    REQUIRE(p);
    REQUIRE(echoed(*p, sent, i));
    const std::uint32_t w = o.in.get(kRingWriteIndexOffset);
    if (w < last_write) ++wraps;
    last_write = w;
  }
  CHECK(wraps > 50);
  CHECK(o.h.server->status().protocol_errors == 0);
}

TEST_CASE("channel: a full inbound ring stops the host, which asks for room with pending_send_size and resumes") {
  Open o(9, 2);  // 32 KiB outbound, 4 KiB inbound
  std::vector<std::vector<std::byte>> sent;
  for (std::uint32_t i = 0; i < 12; ++i) {
    sent.push_back(pattern(1000, i));
    REQUIRE(o.out.write(sent.back(), i));
  }
  o.h.signal_channel();
  // Three 1024-byte packets (16 + 1000 + 8) fit in 4096 bytes; a fourth
  // would fill the ring, which the rules forbid.
  CHECK(o.h.echo->echoed_packets() == 3);
  CHECK(o.in.get(kRingPendingSendSizeOffset) == 1024);
  CHECK(o.out.get(kRingReadIndexOffset) == 3 * 1024);
  std::uint32_t next = 0;
  while (next < 12) {
    auto p = o.in.read();
    REQUIRE(p);
    CHECK(echoed(*p, sent[next], next));
    ++next;
    // The guest's reader rule: signal once the free room passes pending_send_size.
    const std::uint32_t pending = o.in.get(kRingPendingSendSizeOffset);
    if (pending != 0 && o.in.free_space() > pending) o.h.signal_channel();
  }
  CHECK_FALSE(o.in.read());
  CHECK(o.in.get(kRingPendingSendSizeOffset) == 0);
  CHECK(o.h.echo->echoed_packets() == 12);
}

TEST_CASE("channel: the host signals a guest that waits for room in its outbound ring") {
  Open o(2, 9);
  // Fill the outbound ring without signalling, then ask for room.
  std::uint32_t n = 0;
  while (o.out.write(pattern(500, n), n)) ++n;
  o.out.set(kRingPendingSendSizeOffset, 600);
  o.h.take_channel_flag();
  o.h.signal_channel();
  CHECK(o.h.echo->echoed_packets() == n);
  CHECK(o.h.take_channel_flag());
}

TEST_CASE("channel: corrupt rings stop the channel without touching memory outside it") {
  struct Case {
    const char* name;
    std::function<void(Harness::Ring&)> spoil;
  };
  const std::vector<Case> cases = {
      {"write index beyond the ring", [](Harness::Ring& r) { r.set(kRingWriteIndexOffset, 0x100000); }},
      {"unaligned write index", [](Harness::Ring& r) { r.set(kRingWriteIndexOffset, 13); }},
      {"packet longer than the data", [](Harness::Ring& r) {
         PacketDescriptor d{6, 2, 400, 0, 1};
         r.copy_in(0, reinterpret_cast<const std::byte*>(&d), sizeof d);
         r.set(kRingWriteIndexOffset, 64);
       }},
      {"data offset beyond the packet", [](Harness::Ring& r) {
         PacketDescriptor d{6, 9, 4, 0, 1};
         r.copy_in(0, reinterpret_cast<const std::byte*>(&d), sizeof d);
         r.set(kRingWriteIndexOffset, 40);
       }},
      {"descriptor shorter than itself", [](Harness::Ring& r) {
         PacketDescriptor d{6, 2, 1, 0, 1};
         r.copy_in(0, reinterpret_cast<const std::byte*>(&d), sizeof d);
         r.set(kRingWriteIndexOffset, 40);
       }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Open o;
    c.spoil(o.out);
    CHECK(o.h.signal_channel() == HvStatus::success);
    CHECK(o.h.logged("outbound ring is corrupt"));
    CHECK(o.h.echo->echoed_packets() == 0);
    // Stopped: later signals do nothing, closing still works.
    o.h.signal_channel();
    CHECK(o.h.server->status().protocol_errors == 1);
    auto close = test::make<CloseChannel>(ChannelMessageType::close_channel);
    close.child_relid = o.h.relid;
    o.h.post(close);
    CHECK(o.h.server->status().open_channels == 0);
  }
}

TEST_CASE("channel: a signal on a channel that is not open is ignored and logged") {
  Harness h;
  h.connect_and_offer();
  CHECK(h.signal_channel() == HvStatus::success);
  CHECK(h.logged("which is not open; ignored"));
}

TEST_CASE("channel: non-in-band packets are consumed and not echoed") {
  Open o;
  const auto sent = pattern(24, 5);
  REQUIRE(o.out.write(sent, 5));
  // Rewrite the type of the packet just written to a completion packet.
  const std::uint16_t completion = static_cast<std::uint16_t>(PacketType::completion);
  o.out.copy_in(0, reinterpret_cast<const std::byte*>(&completion), 2);
  o.h.signal_channel();
  CHECK_FALSE(o.in.read());
  CHECK(o.h.echo->dropped_packets() == 1);
  CHECK(o.out.get(kRingReadIndexOffset) == o.out.get(kRingWriteIndexOffset));
}
