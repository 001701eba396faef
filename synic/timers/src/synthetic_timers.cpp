// SyntheticTimers / StimerVp: expiry hand-over for the synthetic timers
// (TLFS "Synthetic Timers", "Direct Synthetic Timers"). See
// synic/timers/synthetic_timers.h for the rules and threading.
#include "synic/timers/synthetic_timers.h"

#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>

#include <boost/asio/post.hpp>

#include "synic/defs/message.h"
#include "synic/partition.h"
#include "synic/timers/stimer_registers.h"

namespace softsynic {

namespace {
constexpr std::uint64_t kNoDeadline = std::numeric_limits<std::uint64_t>::max();
// Bounds one timer's work per call, whatever the guest programmed (a 100 ns
// period after a long pause); what is left stays due for the next call.
constexpr unsigned kMaxHandoversPerCall = 1u << 17;
constexpr auto kTimerExpired = static_cast<std::uint32_t>(HvMessageType::timer_expired);

enum class Handover { queued, waiting_for_room, dropped };
}  // namespace

struct StimerVp::State : std::enable_shared_from_this<StimerVp::State> {
  struct Timer {
    Stimer rules;
    bool waiting_for_room = false;  // an expiry is parked in async_post_message
    // Bumped by every accepted CONFIG or COUNT write: a completion of a
    // parked expiry from before it is stale.
    std::uint64_t generation = 0;
  };

  State(Partition& p, const TimeSource& t, std::uint32_t i, bool direct)
      : partition(p), time(t), index(i), direct_mode_offered(direct), vtl_count(p.vtl_count()) {}

  SynicVp::Strand& strand() { return partition.vp(index).strand(); }
  Timer* timer(Vtl vtl, unsigned n) { return vtl < vtl_count && n < kStimersPerVp ? &timers[vtl][n] : nullptr; }

  void fire(Vtl vtl, unsigned n, std::uint64_t now) {
    Timer& t = timers[vtl][n];
    for (unsigned i = 0; i < kMaxHandoversPerCall && !t.waiting_for_room; ++i) {
      const std::optional<std::uint64_t> due = t.rules.due();
      if (!due || *due > now) return;
      const StimerConfigReg config = t.rules.config();
      if (config.direct_mode()) {
        if (InterruptSink* sink = sinks[vtl].load(std::memory_order_acquire))
          sink->request_interrupt(config.apic_vector(), false);
        t.rules.consume(now, true);
        continue;
      }
      const Handover h = post_expiry(vtl, n, config.sint(), *due, now);
      t.rules.consume(now, config.lazy() || h == Handover::dropped);
      t.waiting_for_room = h == Handover::waiting_for_room;
    }
  }

  Handover post_expiry(Vtl vtl, unsigned n, std::uint8_t sint, std::uint64_t expiration, std::uint64_t now) {
    const TimerMessagePayload payload{n, 0, expiration, now};
    const auto bytes = std::as_bytes(std::span(&payload, 1));
    const boost::system::error_code ec = partition.post_message(vtl, index, sint, kTimerExpired, bytes);
    if (!ec) return Handover::queued;
    if (ec != Error::queue_full) return Handover::dropped;
    // Wait for room in the same FIFO; come back on the strand to resume
    // this timer. A weak reference: the timers may be gone by then.
    std::weak_ptr<State> weak = weak_from_this();
    const std::uint64_t generation = timers[vtl][n].generation;
    partition.async_post_message(vtl, index, sint, kTimerExpired, bytes,
                                 [weak, vtl, n, generation](boost::system::error_code result) {
                                   if (result == Error::cancelled) return;
                                   if (auto self = weak.lock()) {
                                     boost::asio::post(self->strand(), [weak, vtl, n, generation] {
                                       if (auto s = weak.lock()) s->room_found(vtl, n, generation);
                                     });
                                   }
                                 });
    return Handover::waiting_for_room;
  }

  // A CONFIG or COUNT write was accepted: the timer's expiries that have
  // not reached the slot (queued, or parked waiting for room) are dropped,
  // as KVM does and guests expect (a stopped timer must not fire later).
  // They all went to the SINT of the configuration before the write.
  void drop_undelivered(Vtl vtl, unsigned n, StimerConfigReg before) {
    Timer& t = timers[vtl][n];
    ++t.generation;
    t.waiting_for_room = false;
    if (before.direct_mode()) return;  // nothing queued: an interrupt request is the controller's
    partition.vp(index).withdraw_messages(vtl, before.sint(), [n](const HvMessage& m) {
      if (m.header.message_type != kTimerExpired) return false;
      std::uint32_t timer_index = 0;
      std::memcpy(&timer_index, m.payload.data(), sizeof timer_index);
      return timer_index == n;
    });
  }

  void room_found(Vtl vtl, unsigned n, std::uint64_t generation) {
    if (timers[vtl][n].generation != generation) return;  // reconfigured meanwhile
    timers[vtl][n].waiting_for_room = false;
    fire(vtl, n, time.now());
    update_deadline();
  }

  void fire_all(std::uint64_t now) {
    for (Vtl vtl = 0; vtl < vtl_count; ++vtl)
      for (unsigned n = 0; n < kStimersPerVp; ++n) fire(vtl, n, now);
    update_deadline();
  }

  void update_deadline() {
    std::uint64_t earliest = kNoDeadline;
    for (Vtl vtl = 0; vtl < vtl_count; ++vtl)
      for (const Timer& t : timers[vtl])
        if (auto due = t.rules.due(); due && !t.waiting_for_room && *due < earliest) earliest = *due;
    deadline.store(earliest, std::memory_order_release);
  }

  Partition& partition;
  const TimeSource& time;
  const std::uint32_t index;
  const bool direct_mode_offered;
  const Vtl vtl_count;
  std::array<std::array<Timer, kStimersPerVp>, kMaxVtlCount> timers{};
  std::array<std::atomic<InterruptSink*>, kMaxVtlCount> sinks{};
  std::atomic<std::uint64_t> deadline{kNoDeadline};
};

// ---- StimerVp ----

StimerVp::StimerVp(std::shared_ptr<State> state) : state_(std::move(state)) {}
StimerVp::~StimerVp() = default;

std::uint32_t StimerVp::index() const { return state_->index; }
SynicVp::Strand& StimerVp::strand() { return state_->strand(); }

void StimerVp::set_interrupt_sink(Vtl vtl, InterruptSink* sink) {
  if (vtl < state_->vtl_count) state_->sinks[vtl].store(sink, std::memory_order_release);
}

RegisterAccess StimerVp::read_register(Vtl vtl, HvRegisterName name, std::uint64_t& value) {
  const std::optional<StimerRegister> reg = decode_stimer_register(name);
  if (!reg) return RegisterAccess::unknown;
  const State::Timer* t = state_->timer(vtl, reg->timer);
  if (!t) return RegisterAccess::invalid;
  value = reg->count ? t->rules.count() : t->rules.config().raw();
  return RegisterAccess::ok;
}

RegisterAccess StimerVp::write_register(Vtl vtl, HvRegisterName name, std::uint64_t value) {
  const std::optional<StimerRegister> reg = decode_stimer_register(name);
  if (!reg) return RegisterAccess::unknown;
  State::Timer* t = state_->timer(vtl, reg->timer);
  if (!t) return RegisterAccess::invalid;
  const std::uint64_t now = state_->time.now();
  const StimerConfigReg before = t->rules.config();
  if (reg->count) {
    t->rules.write_count(value, now);
  } else if (t->rules.write_config(value, now, state_->direct_mode_offered) != RegisterAccess::ok) {
    return RegisterAccess::invalid;
  }
  state_->drop_undelivered(vtl, reg->timer, before);
  // A one-shot time already past is due at once.
  state_->fire(vtl, reg->timer, now);
  state_->update_deadline();
  return RegisterAccess::ok;
}

void StimerVp::fire_due() { state_->fire_all(state_->time.now()); }

std::optional<std::uint64_t> StimerVp::next_deadline() const {
  const std::uint64_t d = state_->deadline.load(std::memory_order_acquire);
  if (d == kNoDeadline) return std::nullopt;
  return d;
}

StimerConfigReg StimerVp::config(Vtl vtl, unsigned n) const { return state_->timers.at(vtl).at(n).rules.config(); }
std::uint64_t StimerVp::count(Vtl vtl, unsigned n) const { return state_->timers.at(vtl).at(n).rules.count(); }

// ---- SyntheticTimers ----

SyntheticTimers::SyntheticTimers(Partition& partition, const TimeSource& time, SyntheticTimersConfig config)
    : config_(config) {
  for (std::uint32_t i = 0; i < partition.vp_count(); ++i)
    vps_.push_back(std::unique_ptr<StimerVp>(
        new StimerVp(std::make_shared<StimerVp::State>(partition, time, i, config.direct_mode))));
}

SyntheticTimers::~SyntheticTimers() = default;

std::uint32_t SyntheticTimers::vp_count() const { return static_cast<std::uint32_t>(vps_.size()); }

StimerVp& SyntheticTimers::vp(std::uint32_t index) {
  if (index >= vps_.size()) throw std::out_of_range("SyntheticTimers::vp: index out of range");
  return *vps_[index];
}

RegisterAccess SyntheticTimers::read_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t& value) {
  if (vp >= vps_.size()) return decode_stimer_register(name) ? RegisterAccess::invalid : RegisterAccess::unknown;
  return vps_[vp]->read_register(vtl, name, value);
}

RegisterAccess SyntheticTimers::write_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t value) {
  if (vp >= vps_.size()) return decode_stimer_register(name) ? RegisterAccess::invalid : RegisterAccess::unknown;
  return vps_[vp]->write_register(vtl, name, value);
}

std::optional<std::uint64_t> SyntheticTimers::next_deadline() const {
  std::optional<std::uint64_t> earliest;
  for (const auto& vp : vps_)
    if (auto d = vp->next_deadline(); d && (!earliest || *d < *earliest)) earliest = d;
  return earliest;
}

}  // namespace softsynic
