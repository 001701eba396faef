// SynicRig: builds the benchmark partition through the public host API and
// the guest's register writes, as a driver would (TLFS "SynIC MSRs").
#include "bench/rig.h"

#include <cstring>
#include <stdexcept>

#include <benchmark/benchmark.h>

#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"

namespace softsynic::bench {

std::uint64_t CountingEventPort::total() const {
  std::uint64_t n = 0;
  for (const auto& c : per_vp) n += c.counter.value();
  return n;
}

bool MessageRing::push(std::uint32_t type, std::span<const std::byte> payload) {
  if (head_ - tail_ == kSlots) return false;
  HvMessage& m = slots_[head_ % kSlots];
  m.header.message_type = type;
  m.header.payload_size = static_cast<std::uint8_t>(payload.size());
  std::memcpy(m.payload.data(), payload.data(), payload.size());
  ++head_;
  return true;
}

namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("bench rig: ") + what);
}

}  // namespace

SynicRig::SynicRig(RigConfig config)
    : ram_(kRamSize),
      event_port_(std::make_shared<CountingEventPort>()),
      message_port_(std::make_shared<RingMessagePort>()) {
  check(config.vps >= 1 && config.vps <= kMaxVps, "vps out of range");
  check(config.executors >= 1, "no executor");
  for (unsigned i = 0; i < config.executors; ++i) executors_.push_back(std::make_unique<DeterministicExecutor>());
  PartitionConfig pc;
  pc.vp_count = config.vps;
  pc.sint_queue_capacity = config.queue_capacity;
  partition_ = std::make_unique<Partition>(
      std::move(pc), ram_, [this](std::uint32_t vp) { return executor_of(vp).executor(); });

  for (std::uint32_t c = 0; c < kEventPorts; ++c) {
    auto h = partition_->add_event_port(kEventConnection + c, 0, event_port_);
    check(h.has_value(), "add_event_port failed");
    handles_.push_back(std::move(*h));
  }
  auto h = partition_->add_message_port(kMessageConnection, 0, message_port_);
  check(h.has_value(), "add_message_port failed");
  handles_.push_back(std::move(*h));

  for (std::uint32_t vp = 0; vp < config.vps; ++vp) {
    sinks_.push_back(std::make_unique<CountingSink>());
    SynicVp& v = partition_->vp(vp);
    v.set_interrupt_sink(0, sinks_.back().get());
    bool ok = true;
    on_strand(vp, [&] {
      auto w = [&](HvRegisterName n, std::uint64_t value) { ok = ok && v.write_register(0, n, value) == RegisterAccess::ok; };
      w(HvRegisterName::simp, PageReg().with_enabled(true).with_gpn(simp_gpa(vp) >> 12).raw());
      w(HvRegisterName::siefp, PageReg().with_enabled(true).with_gpn(siefp_gpa(vp) >> 12).raw());
      w(sint_register(kSint), SintReg().with_vector(kVector).with_masked(false).raw());
      w(HvRegisterName::scontrol, ScontrolReg().with_enabled(true).raw());
    });
    check(ok, "SynIC register writes refused");
    slots_.push_back(ram_.host_pointer(simp_gpa(vp) + kSint * kMessageSize, kMessageSize));
  }
}

SynicRig::~SynicRig() {
  handles_.clear();
  for (auto& e : executors_) e->run_until_idle();
  partition_.reset();
}

std::uint64_t SynicRig::interrupt_requests() const {
  std::uint64_t n = 0;
  for (const auto& s : sinks_) n += s->requests.value();
  return n;
}

std::byte* SynicRig::message_slot(std::uint32_t vp) { return slots_[vp]; }

std::atomic_ref<std::uint64_t> SynicRig::flag_word(std::uint32_t vp, std::uint16_t flag) {
  std::byte* p = ram_.host_pointer(siefp_gpa(vp) + kSint * kEventFlagsSlotSize + (flag / 64) * 8, 8);
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(p));
}

void SynicRig::free_slot(std::uint32_t vp) {
  auto* type = reinterpret_cast<std::uint32_t*>(message_slot(vp) + kMessageTypeOffset);
  std::atomic_ref<std::uint32_t>(*type).store(0, std::memory_order_release);
}

bool SynicRig::slot_busy(std::uint32_t vp) {
  auto* type = reinterpret_cast<std::uint32_t*>(message_slot(vp) + kMessageTypeOffset);
  return std::atomic_ref<std::uint32_t>(*type).load(std::memory_order_acquire) != 0;
}

std::span<const std::byte> full_payload() {
  static const std::array<std::byte, kMessagePayloadMax> payload = [] {
    std::array<std::byte, kMessagePayloadMax> p{};
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::byte(i);
    return p;
  }();
  return payload;
}

PostMessageInput post_input() {
  PostMessageInput in{};
  in.connection_id = kMessageConnection;
  in.message_type = kMessageType;
  in.payload_size = kMessagePayloadMax;
  std::memcpy(in.payload.data(), full_payload().data(), kMessagePayloadMax);
  return in;
}

void write_post_input(SynicRig& rig, std::uint32_t vp) {
  const PostMessageInput in = post_input();
  rig.ram().write(SynicRig::input_gpa(vp), std::as_bytes(std::span(&in, 1)));
}

bool pop_message(MessageRing& ring) {
  const HvMessage* m = ring.front();
  if (!m) return false;
  benchmark::DoNotOptimize(m->header.message_type);
  ring.pop();
  return true;
}

}  // namespace softsynic::bench
