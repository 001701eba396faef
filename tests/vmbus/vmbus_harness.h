// Test harness for the VMBus host: a deterministic two-VP partition over
// 8 MiB of RAM, a VmbusServer with an echo device, and a small guest written
// in C++ that does what a guest driver does: programs the SynIC, posts
// control messages, reads its SIMP slot and writes EOM, builds GPADLs and
// runs its side of the ring buffers (written here independently of the
// host's GuestRing, so the two check each other).
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devices/vmbus/defs/channel_messages.h"
#include "devices/vmbus/defs/ring_buffer.h"
#include "devices/vmbus/defs/versions.h"
#include "devices/vmbus/echo_device.h"
#include "devices/vmbus/server.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/interrupt_sink.h"
#include "synic/monitor/monitor_access.h"
#include "synic/partition.h"
#include "synic/time_source.h"

namespace softsynic::vmbus::test {

inline constexpr std::uint64_t kRam = 8 << 20;
inline constexpr std::uint64_t kSimp = 0x10000;   // + vp * 0x2000
inline constexpr std::uint64_t kSiefp = 0x11000;  // + vp * 0x2000
inline constexpr std::uint64_t kPool = 0x100000;  // guest pages for GPADLs

template <typename T>
std::vector<std::byte> to_bytes(const T& v) {
  std::vector<std::byte> b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

template <typename T>
T make(ChannelMessageType type) {
  T m{};
  m.header.message_type = static_cast<std::uint32_t>(type);
  return m;
}

template <typename T>
T parse(const std::vector<std::byte>& b) {
  T v{};
  std::memcpy(&v, b.data(), std::min(b.size(), sizeof v));
  return v;
}

inline std::uint32_t type_of(const std::vector<std::byte>& b) {
  return b.size() >= 4 ? parse<ChannelMessageHeader>(b).message_type : 0xFFFFFFFF;
}

struct Harness {
  explicit Harness(std::uint32_t queue_capacity = 64, std::uint32_t max_waiting = 16) {
    PartitionConfig pc;
    pc.vp_count = 2;
    pc.sint_queue_capacity = queue_capacity;
    pc.on_error = [this](const std::string& e) { partition_errors.push_back(e); };
    partition = std::make_unique<Partition>(pc, memory, exec.executor());
    for (std::uint32_t vp = 0; vp < 2; ++vp) {
      sinks.push_back(std::make_unique<FunctionInterruptSink>([this, vp](std::uint32_t, bool) { ++interrupts[vp]; }));
      partition->vp(vp).set_interrupt_sink(0, sinks.back().get());
      auto& v = partition->vp(vp);
      v.write_register(0, HvRegisterName::simp, PageReg{}.with_gpn((kSimp + vp * 0x2000) >> 12).with_enabled(true).raw());
      v.write_register(0, HvRegisterName::siefp, PageReg{}.with_gpn((kSiefp + vp * 0x2000) >> 12).with_enabled(true).raw());
      v.write_register(0, sint_register(kVmbusSint), SintReg{}.with_masked(false).with_vector(0x32).raw());
      v.write_register(0, HvRegisterName::scontrol, 1);
    }
    ServerOptions so;
    so.log = [this](const std::string& line) { log.push_back(line); };
    so.max_waiting_replies = max_waiting;
    so.time = &clock;
    server = std::make_unique<VmbusServer>(*partition, so);
    echo = std::make_shared<EchoDevice>();
    relid = server->add_device(echo);
  }
  ~Harness() {
    server.reset();
    exec.run_until_idle();
  }

  DeterministicExecutor exec;
  RamGuestMemory memory{kRam};
  std::vector<std::string> partition_errors;
  std::vector<std::unique_ptr<FunctionInterruptSink>> sinks;
  std::unique_ptr<Partition> partition;
  VirtualClock clock;
  std::unique_ptr<MonitorAccess> monitor;  // attach_monitor(); outlives the server
  std::unique_ptr<VmbusServer> server;
  std::shared_ptr<EchoDevice> echo;
  std::uint32_t relid = 0;
  std::vector<std::string> log;
  unsigned interrupts[2] = {0, 0};

  void run() { exec.run_until_idle(); }

  // Monitor support on the partition (as the reference emulator has it).
  MonitorAccess& attach_monitor() {
    monitor = std::make_unique<MonitorAccess>(*partition, clock);
    return *monitor;
  }

  // ---- control messages ----

  HvStatus post_raw(std::span<const std::byte> payload, std::uint32_t connection = kMessageConnectionIdV5,
                    std::uint32_t vp = 0, std::uint32_t synic_type = kSynicMessageTypeChannel) {
    const HvStatus s = partition->guest_post_message(vp, 0, connection, synic_type, payload);
    run();
    return s;
  }
  template <typename T>
  HvStatus post(const T& m, std::uint32_t connection = kMessageConnectionIdV5, std::uint32_t vp = 0) {
    const auto b = to_bytes(m);
    return post_raw(b, connection, vp);
  }

  // The message in `vp`'s SINT2 slot, freed (EOM when pending), or nothing.
  std::optional<std::vector<std::byte>> take(std::uint32_t vp = 0) {
    run();
    HvMessage m{};
    const std::uint64_t slot = kSimp + vp * 0x2000 + kVmbusSint * kMessageSize;
    memory.read(slot, std::as_writable_bytes(std::span(&m, 1)));
    if (m.header.message_type == 0) return std::nullopt;
    std::vector<std::byte> payload(m.payload.begin(), m.payload.begin() + std::min<std::size_t>(m.header.payload_size, 240));
    const std::uint32_t zero = 0;
    memory.write(slot, std::as_bytes(std::span(&zero, 1)));
    if (m.header.message_flags & kMessageFlagPending) partition->vp(vp).write_register(0, HvRegisterName::eom, 0);
    run();
    return payload;
  }
  // Every message waiting for `vp`, in order.
  std::vector<std::vector<std::byte>> take_all(std::uint32_t vp = 0) {
    std::vector<std::vector<std::byte>> all;
    while (auto m = take(vp)) all.push_back(*m);
    return all;
  }
  // Exactly one reply of type T.
  template <typename T>
  std::optional<T> reply(ChannelMessageType type, std::uint32_t vp = 0) {
    auto all = take_all(vp);
    if (all.size() != 1 || type_of(all[0]) != static_cast<std::uint32_t>(type)) return std::nullopt;
    return parse<T>(all[0]);
  }

  bool logged(const std::string& needle) const {
    for (const auto& l : log)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }

  InitiateContact contact(std::uint32_t version, std::uint32_t target_vp = 0, MonitorPageGpas pages = {}) {
    auto c = make<InitiateContact>(ChannelMessageType::initiate_contact);
    c.version_requested = version;
    c.target_vcpu = target_vp;
    c.interrupt_page_or_sint = version >= kVersionWin10V5 ? kVmbusSint : 0x200000;
    c.monitor_page1 = pages.parent_to_child;
    c.monitor_page2 = pages.child_to_parent;
    return c;
  }
  // INITIATE_CONTACT on the right connection; the VersionResponse.
  std::optional<VersionResponse> connect(std::uint32_t version = kVersionWin10V5_3, std::uint32_t target_vp = 0,
                                         MonitorPageGpas pages = {}) {
    post(contact(version, target_vp, pages), version >= kVersionWin10V5 ? kMessageConnectionIdV5 : kMessageConnectionId);
    return reply<VersionResponse>(ChannelMessageType::version_response, target_vp);
  }
  // Connected and offers received.
  void connect_and_offer() {
    REQUIRE(server->start() == boost::system::error_code{});
    auto r = connect();
    REQUIRE(r);
    REQUIRE(r->version_supported == 1);
    post(make<HeaderOnly>(ChannelMessageType::request_offers));
    REQUIRE(take_all().size() == 2);
  }

  // GPADL_HEADER (+ BODY) messages for `pages` pages from page frame `pfn0`.
  std::vector<std::vector<std::byte>> gpadl_messages(std::uint32_t gpadl, std::uint64_t pfn0, std::uint32_t pages,
                                                     std::uint32_t child_relid) {
    std::vector<std::vector<std::byte>> out;
    auto h = make<GpadlHeader>(ChannelMessageType::gpadl_header);
    h.child_relid = child_relid;
    h.gpadl = gpadl;
    h.range_count = 1;
    h.range_buffer_length = static_cast<std::uint16_t>(sizeof(GpaRange) + 8 * pages);
    GpaRange r{pages * 4096u, 0};
    std::vector<std::byte> first = to_bytes(h);
    const auto rb = to_bytes(r);
    first.insert(first.end(), rb.begin(), rb.end());
    std::uint32_t done = 0;
    for (; done < pages && done < kGpadlHeaderMaxPfns; ++done) {
      const auto pb = to_bytes(std::uint64_t{pfn0 + done});
      first.insert(first.end(), pb.begin(), pb.end());
    }
    out.push_back(first);
    for (std::uint32_t n = 1; done < pages; ++n) {
      auto b = make<GpadlBody>(ChannelMessageType::gpadl_body);
      b.message_number = n;
      b.gpadl = gpadl;
      std::vector<std::byte> body = to_bytes(b);
      for (std::size_t i = 0; i < kGpadlBodyMaxPfns && done < pages; ++i, ++done) {
        const auto pb = to_bytes(std::uint64_t{pfn0 + done});
        body.insert(body.end(), pb.begin(), pb.end());
      }
      out.push_back(body);
    }
    return out;
  }
  std::optional<GpadlCreated> create_gpadl(std::uint32_t gpadl, std::uint64_t pfn0, std::uint32_t pages) {
    for (const auto& m : gpadl_messages(gpadl, pfn0, pages, relid)) post_raw(m);
    return reply<GpadlCreated>(ChannelMessageType::gpadl_created);
  }
  std::optional<OpenChannelResult> open(std::uint32_t gpadl, std::uint32_t downstream_page, std::uint32_t open_id = 7,
                                        std::uint32_t child_relid = 0, std::uint32_t target_vp = 0) {
    auto o = make<OpenChannel>(ChannelMessageType::open_channel);
    o.child_relid = child_relid ? child_relid : relid;
    o.open_id = open_id;
    o.ring_buffer_gpadl = gpadl;
    o.downstream_ring_page_offset = downstream_page;
    o.target_vp = target_vp;
    post(o);
    return reply<OpenChannelResult>(ChannelMessageType::open_channel_result, target_vp);
  }

  // ---- guest side of the rings ----

  struct Ring {
    RamGuestMemory* memory;
    std::uint64_t gpa;   // control page
    std::uint32_t size;  // data bytes
    std::uint32_t get(std::size_t off) const {
      std::uint32_t v = 0;
      memory->read(gpa + off, std::as_writable_bytes(std::span(&v, 1)));
      return v;
    }
    void set(std::size_t off, std::uint32_t v) { memory->write(gpa + off, std::as_bytes(std::span(&v, 1))); }
    void copy_out(std::uint32_t at, std::byte* dst, std::size_t n) const {
      for (std::size_t i = 0; i < n; ++i) memory->read(gpa + 4096 + (at + i) % size, std::span(dst + i, 1));
    }
    void copy_in(std::uint32_t at, const std::byte* src, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) memory->write(gpa + 4096 + (at + i) % size, std::span(src + i, 1));
    }
    std::uint32_t free_space() const {
      const std::uint32_t w = get(kRingWriteIndexOffset), r = get(kRingReadIndexOffset);
      return w >= r ? size - (w - r) : r - w;
    }
    // Guest writer: false when full. True + *was_empty for the signal rule.
    bool write(std::span<const std::byte> payload, std::uint64_t trans_id, bool* should_signal = nullptr,
               PacketType type = PacketType::data_in_band) {
      const std::uint32_t body = static_cast<std::uint32_t>((16 + payload.size() + 7) / 8 * 8);
      const std::uint32_t total = body + 8;
      if (free_space() <= total) return false;
      const std::uint32_t w = get(kRingWriteIndexOffset);
      std::vector<std::byte> pkt(total, std::byte{0});
      PacketDescriptor d{static_cast<std::uint16_t>(type), 2, static_cast<std::uint16_t>(body / 8),
                         0, trans_id};
      std::memcpy(pkt.data(), &d, sizeof d);
      std::memcpy(pkt.data() + 16, payload.data(), payload.size());
      const std::uint64_t trailer = std::uint64_t{w} << 32;
      std::memcpy(pkt.data() + body, &trailer, 8);
      copy_in(w, pkt.data(), total);
      set(kRingWriteIndexOffset, (w + total) % size);
      if (should_signal) *should_signal = get(kRingInterruptMaskOffset) == 0 && get(kRingReadIndexOffset) == w;
      return true;
    }
    struct Packet {
      PacketDescriptor d;
      std::vector<std::byte> payload;
    };
    // Guest reader: the next packet, consumed.
    std::optional<Packet> read() {
      const std::uint32_t w = get(kRingWriteIndexOffset), r = get(kRingReadIndexOffset);
      if (w == r) return std::nullopt;
      Packet p{};
      copy_out(r, reinterpret_cast<std::byte*>(&p.d), sizeof p.d);
      const std::uint32_t len = p.d.length8 * 8u, off = p.d.data_offset8 * 8u;
      p.payload.resize(len - off);
      copy_out(r + off, p.payload.data(), p.payload.size());
      set(kRingReadIndexOffset, (r + len + 8) % size);
      return p;
    }
  };

  // Rings: outbound = pages [pfn0, pfn0 + out_pages), inbound the rest.
  Ring outbound_ring(std::uint64_t pfn0, std::uint32_t out_pages) {
    return Ring{&memory, pfn0 * 4096, (out_pages - 1) * 4096u};
  }
  Ring inbound_ring(std::uint64_t pfn0, std::uint32_t out_pages, std::uint32_t in_pages) {
    return Ring{&memory, (pfn0 + out_pages) * 4096, (in_pages - 1) * 4096u};
  }
  HvStatus signal_channel(std::uint32_t vp = 0) {
    const HvStatus s = partition->guest_signal_event(vp, 0, server->channel_connection_id(relid), 0);
    run();
    return s;
  }
  // Test-and-clear of the channel's event flag in `vp`'s SIEF slot.
  bool take_channel_flag(std::uint32_t vp = 0) {
    const std::uint64_t word = kSiefp + vp * 0x2000 + kVmbusSint * kEventFlagsSlotSize + (relid / 64) * 8;
    std::uint64_t v = 0;
    memory.read(word, std::as_writable_bytes(std::span(&v, 1)));
    const std::uint64_t bit = 1ull << (relid % 64);
    const bool set = (v & bit) != 0;
    v &= ~bit;
    memory.write(word, std::as_bytes(std::span(&v, 1)));
    return set;
  }
};

}  // namespace softsynic::vmbus::test
