// fuzz_synic_sequence: random sequences of synthetic-register reads and
// writes (SCONTROL, SVERSION, SIEFP, SIMP, EOM, SINT0-15 and unknown
// names), interleaved with host posts (plain and async), guest slot
// handling, EOMs, EOIs, host event signals, raw guest writes into the
// pages and executor runs (TLFS "SynIC MSRs", "Message Buffers", "Event
// Flags", "End of Message (EOM)").
//
// A model built from the observer tracks every host message by a unique id
// in its first 8 payload bytes. Invariants, checked as they happen and at
// every quiescent point:
//  - no message lost or duplicated: each accepted post is queued once,
//    delivered once and in FIFO order per (VTL, VP, SINT); the core's queue
//    length equals the model's; every async post completes exactly once,
//    success only for a queued message, cancelled only for one never queued;
//  - slots consistent: a SINT that can take a message (SCONTROL, SIMP in
//    RAM, unmasked) never has a free slot while messages wait, unless the
//    guest freed it without the EOM the protocol requires;
//  - no interrupt for a masked or polling SINT, and each interrupt carries
//    the SINT's vector and auto-EOI setting;
//  - accepted register writes read back; refused ones change nothing;
//  - a host post is refused only for a bad argument or a full queue.
// Not covered here: timers, ports (fuzz_hypercall), threads (stress tests).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "fuzz/invariant.h"
#include "synic/defs/hypercall.h"
#include "synic/defs/message.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/observer.h"
#include "synic/partition.h"

namespace softsynic::fuzz {
namespace {

constexpr std::uint32_t kVpCount = 2;
constexpr std::uint64_t kRamSize = 0x10000;  // 16 pages
constexpr std::size_t kIdSize = sizeof(std::uint64_t);

using QueueKey = std::tuple<Vtl, std::uint32_t, unsigned>;  // (vtl, vp, sint)

std::uint64_t id_of(std::span<const std::byte> payload) {
  std::uint64_t id = 0;
  check(payload.size() >= kIdSize, "a host message lost its id bytes");
  std::memcpy(&id, payload.data(), kIdSize);
  return id;
}

// The names the SynIC core owns (others answer unknown at any VTL).
bool core_owns(HvRegisterName name) {
  const auto n = static_cast<std::uint32_t>(name);
  return n >= static_cast<std::uint32_t>(HvRegisterName::sint0) && n <= static_cast<std::uint32_t>(HvRegisterName::eom);
}

bool page_in_ram(PageReg p) { return p.gpa() + kHvPageSize <= kRamSize; }

struct Model final : SynicObserver {
  Partition* partition = nullptr;
  std::map<QueueKey, std::deque<std::uint64_t>> queued;
  std::set<std::uint64_t> ever_queued;
  std::set<std::uint64_t> delivered;
  std::uint64_t interrupts_expected = 0;

  bool sint_takes_interrupts(Vtl vtl, std::uint32_t vp, unsigned sint) const {
    const SintReg r = partition->vp(vp).sint(vtl, sint);
    return !r.masked() && !r.polling();
  }

  void on_synic_event(const SynicEvent& e) override {
    switch (e.kind) {
      case SynicEventKind::host_post_queued: {
        const std::uint64_t id = id_of(e.payload);
        check(ever_queued.insert(id).second, "a host message was queued twice");
        queued[{e.vtl, e.vp, e.sint}].push_back(id);
        break;
      }
      case SynicEventKind::message_delivered: {
        SynicVp& vp = partition->vp(e.vp);
        check(vp.scontrol(e.vtl).enabled() && vp.simp(e.vtl).enabled() && !vp.sint(e.vtl, e.sint).masked(),
              "a message was delivered to a SINT that cannot take it");
        const std::uint64_t id = id_of(e.payload);
        auto& q = queued[{e.vtl, e.vp, e.sint}];
        check(!q.empty(), "a message was delivered that was never queued");
        check(q.front() == id, "a message was delivered out of order, or one was lost");
        q.pop_front();
        check(delivered.insert(id).second, "a message was delivered twice");
        break;
      }
      case SynicEventKind::interrupt_requested: {
        const SintReg r = partition->vp(e.vp).sint(e.vtl, e.sint);
        check(!r.masked(), "interrupt for a masked SINT");
        check(!r.polling(), "interrupt for a polling SINT");
        check(r.vector() == e.vector && r.auto_eoi() == e.auto_eoi, "interrupt with another vector or auto-EOI");
        ++interrupts_expected;
        break;
      }
      case SynicEventKind::event_flag_set:
        // The interrupt itself is reported as interrupt_requested.
        if (e.raised) check(sint_takes_interrupts(e.vtl, e.vp, e.sint), "event flag raised a masked or polling SINT");
        break;
      default:
        break;
    }
  }
};

struct CountingSink final : InterruptSink {
  std::uint64_t count = 0;
  void request_interrupt(std::uint32_t, bool) override { ++count; }
};

struct AsyncPost {
  std::uint64_t id;
  int completions = 0;
  boost::system::error_code ec;
};

class Sequence {
 public:
  explicit Sequence(FuzzInput& in)
      : in_(in), ram_(fresh_ram()), vtl_count_(static_cast<Vtl>(1 + in.below(2))), capacity_(1 + in.below(4)) {
    PartitionConfig c;
    c.vp_count = kVpCount;
    c.vtl_count = vtl_count_;
    c.sint_queue_capacity = capacity_;
    partition_.emplace(c, ram_, exec_.executor());
    model_.partition = &*partition_;
    partition_->set_observer(&model_);
    for (std::uint32_t vp = 0; vp < kVpCount; ++vp)
      for (Vtl vtl = 0; vtl < vtl_count_; ++vtl) partition_->vp(vp).set_interrupt_sink(vtl, &sink_);
  }

  void run() {
    for (int step = 0; step < 256 && !in_.empty(); ++step) {
      switch (in_.below(12)) {
        case 0:
        case 1:
          write_register();
          break;
        case 2:
          read_register();
          break;
        case 3:
        case 4:
          host_post(false);
          break;
        case 5:
          host_post(true);
          break;
        case 6:
          guest_consume();
          break;
        case 7:
          eom_or_eoi();
          break;
        case 8:
          signal_event();
          break;
        case 9:
          raw_guest_write();
          break;
        case 10:
          partition_->vp(in_.below(kVpCount)).deliver_pending();
          break;
        default:
          quiesce();
          break;
      }
    }
    quiesce();
    finish();
  }

 private:
  std::uint32_t any_vp() { return in_.u8() < 240 ? in_.below(kVpCount) : in_.below(4); }
  Vtl any_vtl() { return static_cast<Vtl>(in_.u8() < 240 ? in_.below(vtl_count_) : in_.below(4)); }
  std::uint32_t key(std::uint32_t vp, Vtl vtl) const { return vp * kMaxVtlCount + vtl; }

  HvRegisterName any_name() {
    const std::uint8_t pick = in_.u8();
    if (pick < 16) return sint_register(pick);
    switch (pick % 8) {
      case 0:
        return HvRegisterName::scontrol;
      case 1:
        return HvRegisterName::simp;
      case 2:
        return HvRegisterName::siefp;
      case 3:
        return HvRegisterName::eom;
      case 4:
        return HvRegisterName::sversion;
      case 5:
        return stimer_config_register(in_.below(4));
      case 6:
        return HvRegisterName(in_.u32());
      default:
        return sint_register(in_.below(16));
    }
  }

  std::uint64_t any_value(HvRegisterName name) {
    const std::uint8_t shape = in_.u8();
    if (shape >= 224) return in_.u64();  // anything, reserved bits included
    if (name == HvRegisterName::simp || name == HvRegisterName::siefp)
      return PageReg{}.with_enabled(shape & 1).with_gpn(shape & 2 ? in_.below(20) : in_.u32()).raw();
    if (name == HvRegisterName::scontrol) return shape & 1;
    return SintReg{}
        .with_vector(shape & 2 ? in_.u8() : static_cast<std::uint8_t>(0x30 + in_.below(4)))
        .with_masked(shape & 4)
        .with_auto_eoi(shape & 8)
        .with_polling(shape & 16)
        .raw();
  }

  void write_register() {
    const std::uint32_t vp = in_.below(kVpCount);
    const Vtl vtl = any_vtl();
    const HvRegisterName name = any_name();
    const std::uint64_t value = any_value(name);
    SynicVp& v = partition_->vp(vp);
    std::uint64_t before = 0;
    const RegisterAccess readable = v.read_register(vtl, name, before);
    const RegisterAccess r = v.write_register(vtl, name, value);
    if (vtl >= vtl_count_ && core_owns(name)) check(r == RegisterAccess::invalid, "a VTL out of range was not refused");
    check(r == readable || name == HvRegisterName::eom || r == RegisterAccess::invalid,
          "read and write disagree on who owns a register");
    std::uint64_t after = 0;
    if (r == RegisterAccess::ok && name != HvRegisterName::eom) {
      check(v.read_register(vtl, name, after) == RegisterAccess::ok && after == value,
            "an accepted register write does not read back");
      if ((name == HvRegisterName::simp || name == HvRegisterName::siefp) && PageReg(value).enabled())
        mark_all_dirty();  // the page was zeroed, maybe under another VP's SIMP
    } else if (r == RegisterAccess::invalid && readable == RegisterAccess::ok) {
      check(v.read_register(vtl, name, after) == RegisterAccess::ok && after == before,
            "a refused register write changed the register");
    }
    if (r == RegisterAccess::ok && name == HvRegisterName::eom) dirty_.erase(key(vp, vtl));
  }

  void read_register() {
    std::uint64_t value = 0;
    const Vtl vtl = any_vtl();
    const HvRegisterName name = any_name();
    const RegisterAccess r = partition_->vp(in_.below(kVpCount)).read_register(vtl, name, value);
    if (vtl >= vtl_count_ && core_owns(name)) check(r == RegisterAccess::invalid, "a read at a VTL out of range was not refused");
  }

  void host_post(bool async) {
    const Vtl vtl = any_vtl();
    const std::uint32_t vp = any_vp();
    const std::uint8_t sint = static_cast<std::uint8_t>(in_.u8() < 240 ? in_.below(kSintCount) : in_.below(32));
    const std::uint8_t shape = in_.u8();
    const std::uint32_t type = shape < 8 ? 0 : (shape < 32 ? in_.u32() : 1 + in_.below(8));
    std::size_t size = kIdSize + in_.u8() % (kMessagePayloadMax - kIdSize + 1);
    if (shape >= 248) size = kMessagePayloadMax + 1 + in_.below(16);
    std::array<std::byte, kMessagePayloadMax + 16> payload{};
    const std::uint64_t id = next_id_++;
    std::memcpy(payload.data(), &id, kIdSize);
    const auto bytes = std::span<const std::byte>(payload).first(size);
    const bool bad_argument = vtl >= vtl_count_ || vp >= kVpCount || sint >= kSintCount || type == 0 ||
                              size > kMessagePayloadMax;
    const std::size_t queued_before = bad_argument ? 0 : model_.queued[{vtl, vp, sint}].size();

    if (async) {
      posts_.push_back(std::make_unique<AsyncPost>(AsyncPost{id, 0, {}}));
      AsyncPost* p = posts_.back().get();
      partition_->async_post_message(vtl, vp, sint, type, bytes, [p](boost::system::error_code ec) {
        ++p->completions;
        p->ec = ec;
      });
      return;
    }
    const boost::system::error_code ec = partition_->post_message(vtl, vp, sint, type, bytes);
    const bool queued = model_.ever_queued.count(id) != 0;
    if (!ec) {
      check(!bad_argument, "a post with a bad argument was accepted");
      check(queued, "an accepted post was not queued");
      check(queued_before < capacity_, "a post was accepted beyond the queue's capacity");
    } else {
      check(!queued, "a refused post was queued");
      check(bad_argument || ec == make_error_code(Error::queue_full), "a good post was refused for another reason");
      if (ec == make_error_code(Error::queue_full))
        check(queued_before >= capacity_ || waiting(), "queue_full below capacity with no waiter");
    }
  }

  bool waiting() const {
    return std::any_of(posts_.begin(), posts_.end(), [&](const auto& p) { return p->completions == 0; });
  }

  std::uint64_t slot_gpa(std::uint32_t vp, Vtl vtl, unsigned sint) {
    return partition_->vp(vp).simp(vtl).gpa() + sint * kMessageSize;
  }

  // What a guest does with a message: type = 0, then EOM if pending was
  // set (sometimes it "forgets" the EOM).
  void guest_consume() {
    const std::uint32_t vp = in_.below(kVpCount);
    const Vtl vtl = static_cast<Vtl>(in_.below(vtl_count_));
    const unsigned sint = in_.below(kSintCount);
    const std::uint64_t gpa = slot_gpa(vp, vtl, sint);
    HvMessageHeader h{};
    if (!ram_.read(gpa, std::as_writable_bytes(std::span(&h, 1))) || h.message_type == 0) return;
    const std::uint32_t zero = 0;
    ram_.write(gpa, std::as_bytes(std::span(&zero, 1)));
    mark_dirty_sharing(gpa);
    if ((h.message_flags & kMessageFlagPending) && in_.u8() < 224) {
      check(partition_->vp(vp).write_register(vtl, HvRegisterName::eom, 0) == RegisterAccess::ok, "EOM refused");
      dirty_.erase(key(vp, vtl));
    }
  }

  void eom_or_eoi() {
    const std::uint32_t vp = in_.below(kVpCount);
    const Vtl vtl = any_vtl();
    if (in_.flag()) {
      const RegisterAccess r = partition_->vp(vp).write_register(vtl, HvRegisterName::eom, in_.u64());
      check(r == (vtl < vtl_count_ ? RegisterAccess::ok : RegisterAccess::invalid), "EOM answered wrongly");
      if (r == RegisterAccess::ok) dirty_.erase(key(vp, vtl));
    } else {
      partition_->vp(vp).on_eoi(vtl, in_.flag() ? 0x30 + in_.below(4) : in_.u8());
    }
  }

  void signal_event() {
    const Vtl vtl = any_vtl();
    const std::uint32_t vp = any_vp();
    const std::uint8_t sint = static_cast<std::uint8_t>(in_.u8() < 240 ? in_.below(kSintCount) : in_.u8());
    const std::uint16_t flag = in_.u8() < 240 ? static_cast<std::uint16_t>(in_.below(130)) : in_.u16();
    auto port = partition_->new_guest_event_port(vtl, vp, sint, flag);
    const bool bad = vtl >= vtl_count_ || vp >= kVpCount || sint >= kSintCount || flag >= kEventFlagsPerSint;
    check(port.has_value() != bad, "new_guest_event_port judged its target wrongly");
    if (!port) return;
    if (in_.flag()) (*port)->set_target_vp(any_vp());
    const GuestEventTarget t = (*port)->target();
    const boost::system::error_code ec = (*port)->signal();
    if (!ec || ec == make_error_code(Error::flag_already_set)) {
      SynicVp& v = partition_->vp(t.vp);
      check(v.scontrol(t.vtl).enabled() && v.siefp(t.vtl).enabled(), "a flag was set on a SINT that is not ready");
      std::uint64_t word = 0;
      const std::uint64_t gpa = v.siefp(t.vtl).gpa() + t.sint * kEventFlagsSlotSize + (t.flag / 64) * 8;
      check(ram_.read(gpa, std::as_writable_bytes(std::span(&word, 1))), "a flag was set outside RAM");
      check((word >> (t.flag % 64)) & 1, "signal() succeeded but the flag is clear");
    } else {
      check(ec == make_error_code(Error::sint_not_ready), "signal() answered an unexpected error");
    }
  }

  void raw_guest_write() {
    std::array<std::byte, 16> data{};
    in_.bytes(data);
    const std::uint64_t gpa = in_.below(16) * kHvPageSize + in_.u16() % kHvPageSize;
    ram_.write(gpa, std::span(data).first(1 + in_.below(16)));
    mark_all_dirty();
  }

  void mark_all_dirty() {
    for (std::uint32_t vp = 0; vp < kVpCount; ++vp)
      for (Vtl vtl = 0; vtl < vtl_count_; ++vtl) dirty_.insert(key(vp, vtl));
  }
  void mark_dirty_sharing(std::uint64_t gpa) {
    for (std::uint32_t vp = 0; vp < kVpCount; ++vp)
      for (Vtl vtl = 0; vtl < vtl_count_; ++vtl)
        if (partition_->vp(vp).simp(vtl).gpa() == (gpa & ~(kHvPageSize - 1))) dirty_.insert(key(vp, vtl));
  }

  void quiesce() {
    exec_.run_until_idle();
    check(sink_.count == model_.interrupts_expected, "the sink saw interrupts the observer did not report");
    for (std::uint32_t vp = 0; vp < kVpCount; ++vp) {
      SynicVp& v = partition_->vp(vp);
      for (Vtl vtl = 0; vtl < vtl_count_; ++vtl) {
        for (unsigned sint = 0; sint < kSintCount; ++sint) {
          const auto& q = model_.queued[{vtl, vp, sint}];
          check(v.queued_messages(vtl, sint) == q.size(), "the core's queue length differs from the model's");
          const bool ready = v.scontrol(vtl).enabled() && v.simp(vtl).enabled() && page_in_ram(v.simp(vtl)) &&
                             !v.sint(vtl, sint).masked();
          if (!ready || q.empty() || dirty_.count(key(vp, vtl))) continue;
          std::uint32_t type = 0;
          ram_.read(slot_gpa(vp, vtl, sint), std::as_writable_bytes(std::span(&type, 1)));
          check(type != 0, "messages wait while their SINT's slot is free");
        }
      }
    }
    for (const auto& p : posts_)
      if (p->completions != 0 && !p->ec)
        check(model_.ever_queued.count(p->id) != 0, "an async post completed ok but was never queued");
  }

  void finish() {
    partition_.reset();  // completes waiters with cancelled
    exec_.run_until_idle();
    for (const auto& p : posts_) {
      check(p->completions == 1, "an async post did not complete exactly once");
      const bool queued = model_.ever_queued.count(p->id) != 0;
      if (!p->ec)
        check(queued, "an async post completed ok but was never queued");
      else
        check(!queued, "an async post failed but its message was queued");
    }
  }

  // One RAM for the whole run, zeroed per input (cheaper than mapping it).
  static RamGuestMemory& fresh_ram() {
    static RamGuestMemory ram(kRamSize);
    static const std::vector<std::byte> zeros(kRamSize);
    ram.write(0, zeros);
    return ram;
  }

  FuzzInput& in_;
  RamGuestMemory& ram_;
  Vtl vtl_count_;
  std::uint32_t capacity_;
  DeterministicExecutor exec_;
  Model model_;
  CountingSink sink_;
  std::optional<Partition> partition_;
  std::vector<std::unique_ptr<AsyncPost>> posts_;
  std::set<std::uint32_t> dirty_;  // (vp, vtl) with a slot freed without EOM since its last EOM
  std::uint64_t next_id_ = 1;
};

}  // namespace
}  // namespace softsynic::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  softsynic::fuzz::FuzzInput in(data, size);
  softsynic::fuzz::Sequence(in).run();
  return 0;
}
