// fuzz_vmbus_control: random guest sessions against the VMBus host
// (devices/vmbus) on a deterministic two-VP partition with monitor
// support: control messages built from fuzzed fields (so the fuzzer gets
// past version negotiation into GPADLs and channels) and raw ones of any
// type and length, on the right, wrong and unknown connections; packets
// and raw bytes written into the rings, corrupt ring indexes, signals by
// HvSignalEvent and by monitor bit, the guest taking (or not taking) its
// SINT 2 slot, host-side rescinds.
//
// Invariants, after every step:
//  - the host never refuses a control message with INSUFFICIENT_BUFFERS
//    unless max_waiting_replies of its replies were already waiting;
//  - open channels <= offered channels <= devices; monitor ids registered
//    only while connected with monitor pages;
//  - after an UNLOAD the host is disconnected with no GPADL, open channel
//    or monitor id left.
// Sanitizers (ASan, UBSan, LeakSanitizer) catch the rest: no crash, no
// access outside guest RAM, no leak when the session is torn down.
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "devices/vmbus/defs/channel_messages.h"
#include "devices/vmbus/defs/ring_buffer.h"
#include "devices/vmbus/defs/versions.h"
#include "devices/vmbus/echo_device.h"
#include "devices/vmbus/server.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/invariant.h"
#include "synic/defs/message.h"
#include "synic/defs/monitor_page.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/interrupt_sink.h"
#include "synic/monitor/monitor_access.h"
#include "synic/partition.h"
#include "synic/time_source.h"

namespace softsynic::fuzz {
namespace {

using namespace softsynic::vmbus;

constexpr std::uint32_t kVpCount = 2;
constexpr std::uint64_t kRamSize = 0x80000;      // 128 pages
constexpr std::uint64_t kSimp = 0x10000;         // + vp * 0x2000
constexpr std::uint64_t kSiefp = 0x11000;        // + vp * 0x2000
constexpr std::uint64_t kMonitorPages = 0x20000; // two pages
constexpr std::uint64_t kPoolPfn = 0x30;         // GPADL pages come from here
constexpr std::uint32_t kPoolPages = 0x40;
constexpr std::uint32_t kMaxWaiting = 4;
constexpr std::uint32_t kVersions[] = {kVersionWin10V5_3, kVersionWin10V5, kVersionWin10, kVersionWin8,
                                       kVersionWin7, kVersionWs2008, make_version(6, 0), 0};

template <typename T>
T make(ChannelMessageType type) {
  T m{};
  m.header.message_type = static_cast<std::uint32_t>(type);
  return m;
}

template <typename T>
std::span<const std::byte> bytes_of(const T& v) {
  return std::as_bytes(std::span<const T, 1>(&v, 1));
}

class Session {
 public:
  explicit Session(FuzzInput& in) : in_(in) {
    PartitionConfig pc;
    pc.vp_count = kVpCount;
    pc.sint_queue_capacity = 2 + in_.below(6);  // small: backpressure happens
    partition_ = std::make_unique<Partition>(pc, memory_, exec_.executor());
    monitor_ = std::make_unique<MonitorAccess>(*partition_, clock_);
    for (std::uint32_t vp = 0; vp < kVpCount; ++vp) {
      sinks_[vp] = std::make_unique<FunctionInterruptSink>([](std::uint32_t, bool) {});
      auto& v = partition_->vp(vp);
      v.set_interrupt_sink(0, sinks_[vp].get());
      v.write_register(0, HvRegisterName::simp, PageReg{}.with_gpn((kSimp + vp * 0x2000) >> 12).with_enabled(true).raw());
      v.write_register(0, HvRegisterName::siefp, PageReg{}.with_gpn((kSiefp + vp * 0x2000) >> 12).with_enabled(true).raw());
      v.write_register(0, sint_register(kVmbusSint), SintReg{}.with_masked(false).with_vector(0x32).raw());
      v.write_register(0, HvRegisterName::scontrol, 1);
    }
    ServerOptions so;
    so.max_waiting_replies = kMaxWaiting;
    so.use_monitor = in_.below(4) != 0;
    server_ = std::make_unique<VmbusServer>(*partition_, so);
    for (int i = 0; i < 2; ++i) server_->add_device(std::make_shared<EchoDevice>());
    check(!server_->start(), "the server starts on a fresh partition");
  }

  ~Session() {
    // Teardown order an embedder uses: server, monitor, then the partition.
    server_.reset();
    exec_.run_until_idle();
    monitor_.reset();
  }

  void run() {
    for (int steps = 0; steps < 400 && !in_.empty(); ++steps) {
      step();
      exec_.run_until_idle();
      invariants();
    }
  }

 private:
  std::uint32_t vp() { return in_.below(kVpCount); }
  std::uint32_t relid() { return in_.below(4); }  // 0 and 3 are not channels

  // Connection, then VP, read from the input in that order.
  void post(std::span<const std::byte> payload, std::uint32_t synic_type = kSynicMessageTypeChannel) {
    const std::uint32_t connection = control_connection();
    post_on(payload, connection, synic_type);
  }
  void post_on(std::span<const std::byte> payload, std::uint32_t connection,
               std::uint32_t synic_type = kSynicMessageTypeChannel) {
    const std::uint32_t from_vp = vp();
    const std::uint32_t waiting = server_->status().waiting_replies;
    const HvStatus s = partition_->guest_post_message(from_vp, 0, connection, synic_type, payload);
    if (s == HvStatus::insufficient_buffers && (connection == kMessageConnectionId || connection == kMessageConnectionIdV5))
      check(waiting >= kMaxWaiting, "a control message was refused while the host had room for replies");
    last_was_unload_ = s == HvStatus::success && payload.size() >= sizeof(HeaderOnly) &&
                       synic_type == kSynicMessageTypeChannel &&
                       (connection == kMessageConnectionId || connection == kMessageConnectionIdV5) &&
                       std::to_integer<std::uint8_t>(payload[0]) == static_cast<std::uint8_t>(ChannelMessageType::unload) &&
                       std::to_integer<std::uint8_t>(payload[1]) == 0 && std::to_integer<std::uint8_t>(payload[2]) == 0 &&
                       std::to_integer<std::uint8_t>(payload[3]) == 0;
  }
  std::uint32_t control_connection() {
    switch (in_.below(4)) {
      case 0: return kMessageConnectionId;
      case 1: return kMessageConnectionIdV5;
      case 2: return 0x1001;  // a channel's event connection: wrong kind
      default: return in_.u32();
    }
  }

  void step() {
    switch (in_.below(14)) {
      case 0: {  // INITIATE_CONTACT
        auto c = make<InitiateContact>(ChannelMessageType::initiate_contact);
        c.version_requested = kVersions[in_.below(std::size(kVersions))];
        if (in_.below(8) == 0) c.version_requested = in_.u32();
        c.target_vcpu = in_.below(3);
        c.interrupt_page_or_sint = in_.below(4) == 0 ? in_.u64() : kVmbusSint;
        switch (in_.below(3)) {
          case 0: break;
          case 1: c.monitor_page1 = kMonitorPages; c.monitor_page2 = kMonitorPages + 0x1000; break;
          default: c.monitor_page1 = in_.u64(); c.monitor_page2 = in_.u64(); break;
        }
        const bool v5 = c.version_requested >= kVersionWin10V5;
        const std::uint32_t connection =
            in_.below(4) == 0 ? control_connection() : (v5 ? kMessageConnectionIdV5 : kMessageConnectionId);
        post_on(bytes_of(c), connection);
        break;
      }
      case 1:
        post(bytes_of(make<HeaderOnly>(ChannelMessageType::request_offers)));
        break;
      case 2: {  // GPADL_HEADER over pool pages, fields bent on request
        const std::uint32_t pages = 2 + in_.below(24);
        const std::uint32_t first = in_.below(kPoolPages);
        std::vector<std::byte> m(sizeof(GpadlHeader) + sizeof(GpaRange) + 8 * std::min(pages, 26u));
        auto h = make<GpadlHeader>(ChannelMessageType::gpadl_header);
        h.child_relid = relid();
        h.gpadl = in_.below(4);
        h.range_count = in_.below(8) == 0 ? in_.u16() : 1;
        h.range_buffer_length = static_cast<std::uint16_t>(in_.below(8) == 0 ? in_.u16() : 8 + 8 * pages);
        GpaRange r{pages * 4096u, in_.below(8) == 0 ? in_.u32() : 0};
        std::memcpy(m.data(), &h, sizeof h);
        std::memcpy(m.data() + sizeof h, &r, sizeof r);
        for (std::uint32_t i = 0; i < std::min(pages, 26u); ++i) {
          const std::uint64_t pfn = kPoolPfn + (first + i) % kPoolPages;
          std::memcpy(m.data() + sizeof h + sizeof r + 8 * i, &pfn, 8);
        }
        post(m);
        break;
      }
      case 3: {  // GPADL_BODY
        auto b = make<GpadlBody>(ChannelMessageType::gpadl_body);
        b.message_number = in_.u8();
        b.gpadl = in_.below(4);
        const std::uint32_t n = in_.below(29);
        std::vector<std::byte> m(sizeof b + 8 * n);
        std::memcpy(m.data(), &b, sizeof b);
        for (std::uint32_t i = 0; i < n; ++i) {
          const std::uint64_t pfn = kPoolPfn + in_.below(kPoolPages);
          std::memcpy(m.data() + sizeof b + 8 * i, &pfn, 8);
        }
        post(m);
        break;
      }
      case 4: {  // OPENCHANNEL
        auto o = make<OpenChannel>(ChannelMessageType::open_channel);
        o.child_relid = relid();
        o.open_id = in_.u8();
        o.ring_buffer_gpadl = in_.below(4);
        o.target_vp = in_.below(3);
        o.downstream_ring_page_offset = in_.below(28);
        post(bytes_of(o));
        break;
      }
      case 5: {  // CLOSECHANNEL, GPADL_TEARDOWN, RELID_RELEASED, UNLOAD
        const std::uint32_t which = in_.below(4);
        if (which == 0) {
          auto m = make<CloseChannel>(ChannelMessageType::close_channel);
          m.child_relid = relid();
          post(bytes_of(m));
        } else if (which == 1) {
          auto m = make<GpadlTeardown>(ChannelMessageType::gpadl_teardown);
          m.child_relid = relid();
          m.gpadl = in_.below(4);
          post(bytes_of(m));
        } else if (which == 2) {
          auto m = make<RelidReleased>(ChannelMessageType::relid_released);
          m.child_relid = relid();
          post(bytes_of(m));
        } else {
          post(bytes_of(make<HeaderOnly>(ChannelMessageType::unload)));
        }
        break;
      }
      case 6: {  // raw message: any type, any length, any SynIC message type
        std::vector<std::byte> m(in_.below(241));
        in_.bytes(m);
        if (m.size() >= 4 && in_.flag()) m[0] = static_cast<std::byte>(in_.below(30));
        const std::uint32_t synic_type = in_.below(4) == 0 ? in_.u32() : kSynicMessageTypeChannel;
        post(m, synic_type);
        break;
      }
      case 7: {  // a well-formed in-band packet at the outbound ring's write index
        const std::uint64_t ring = (kPoolPfn + in_.below(kPoolPages)) * 4096;
        std::uint32_t w = 0;
        memory_.read(ring + kRingWriteIndexOffset, std::as_writable_bytes(std::span(&w, 1)));
        const std::uint32_t size = 1 + in_.below(200);
        const std::uint32_t total = 16 + (size + 7) / 8 * 8 + 8;
        std::vector<std::byte> pkt(total);
        PacketDescriptor d{static_cast<std::uint16_t>(PacketType::data_in_band), 2,
                           static_cast<std::uint16_t>((total - 8) / 8), 0, in_.u64()};
        if (in_.below(4) == 0) d.type = in_.u16();
        std::memcpy(pkt.data(), &d, sizeof d);
        in_.bytes(std::span(pkt).subspan(16, size));
        static_cast<void>(memory_.write(ring + 4096 + w % 4096, std::span(pkt).first(std::min<std::size_t>(total, 4096 - w % 4096))));
        const std::uint32_t next = w + total;
        memory_.write(ring + kRingWriteIndexOffset, std::as_bytes(std::span(&next, 1)));
        break;
      }
      case 8: {  // raw bytes into a pool page (ring control fields, data)
        const std::uint64_t gpa = (kPoolPfn + in_.below(kPoolPages)) * 4096 + in_.below(8) * 8;
        const std::uint64_t v = in_.u64();
        memory_.write(gpa, std::as_bytes(std::span(&v, 1)));
        break;
      }
      case 9: {  // HvSignalEvent on a channel's connection (or a stray one)
        const std::uint32_t from = vp();
        const std::uint32_t connection = in_.below(4) == 0 ? in_.u32() : 0x1000 + relid();
        const auto flag = static_cast<std::uint16_t>(in_.below(4));
        static_cast<void>(partition_->guest_signal_event(from, 0, connection, flag));
        break;
      }
      case 10: {  // a monitor bit, reported
        const std::uint32_t id = in_.below(4);
        const std::uint64_t word = kMonitorPages + 0x1000 + kMonitorTriggerGroupOffset;
        static_cast<void>(memory_.fetch_or_u64(word, 1ull << id));
        monitor_->on_monitor_page_write(0, word, 8);
        break;
      }
      case 11: {  // the guest takes its SINT 2 message (EOM when pending), or leaves it
        const std::uint32_t v = vp();
        const std::uint64_t slot = kSimp + v * 0x2000 + kVmbusSint * kMessageSize;
        HvMessageHeader h{};
        memory_.read(slot, std::as_writable_bytes(std::span(&h, 1)));
        if (h.message_type == 0) break;
        const std::uint32_t zero = 0;
        memory_.write(slot, std::as_bytes(std::span(&zero, 1)));
        if (h.message_flags & kMessageFlagPending) partition_->vp(v).write_register(0, HvRegisterName::eom, 0);
        break;
      }
      case 12:
        server_->rescind(relid());
        break;
      default:  // guest reads its inbound ring: moves the read index to the write index
      {
        const std::uint64_t ring = (kPoolPfn + in_.below(kPoolPages)) * 4096;
        std::uint32_t w = 0;
        memory_.read(ring + kRingWriteIndexOffset, std::as_writable_bytes(std::span(&w, 1)));
        memory_.write(ring + kRingReadIndexOffset, std::as_bytes(std::span(&w, 1)));
        break;
      }
    }
  }

  void invariants() {
    const ServerStatus s = server_->status();
    check(s.open_channels <= s.channels && s.channels <= 2, "more open channels than offers, or offers than devices");
    check(s.monitor_ids == 0 || (s.connected && s.monitor), "monitor ids registered without a connection using them");
    if (last_was_unload_) {
      check(!s.connected && s.gpadls == 0 && s.open_channels == 0 && s.monitor_ids == 0,
            "UNLOAD left a connection, GPADL, open channel or monitor id behind");
      last_was_unload_ = false;
    }
  }

  FuzzInput& in_;
  DeterministicExecutor exec_;
  RamGuestMemory memory_{kRamSize};
  VirtualClock clock_;
  std::unique_ptr<Partition> partition_;
  std::unique_ptr<MonitorAccess> monitor_;
  std::array<std::unique_ptr<FunctionInterruptSink>, kVpCount> sinks_;
  std::unique_ptr<VmbusServer> server_;
  bool last_was_unload_ = false;
};

}  // namespace
}  // namespace softsynic::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  softsynic::fuzz::FuzzInput in(data, size);
  softsynic::fuzz::Session(in).run();
  return 0;
}
