// VpCore: SynIC registers per VTL and the message delivery rules.
// TLFS: "SynIC MSRs", "Message Buffers", "Event Flags", "End of Message".
// Not supported: STIMER registers (answered unknown), intercept and proxy
// SINT bits (stored, no behaviour).
#include "synic/src/vp_core.h"

#include <atomic>
#include <bit>
#include <cstring>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/post.hpp>

#include "synic/src/partition_state.h"

namespace softsynic::detail {
namespace {

static_assert(std::endian::native == std::endian::little, "guest pages are little-endian and copied byte-wise");

constexpr std::uint64_t kPageSize = 4096;
constexpr std::uint64_t kPendingBit = std::uint64_t{kMessageFlagPending} << (8 * kMessageFlagsOffset);
constexpr unsigned kMinUnmaskedVector = 16;  // vectors 0-15 are exceptions / reserved
constexpr std::size_t kTypeSize = sizeof(HvMessageHeader::message_type);

std::optional<unsigned> sint_index(HvRegisterName name) {
  // Unsigned wrap makes names below sint0 large.
  const std::uint32_t n = static_cast<std::uint32_t>(name) - static_cast<std::uint32_t>(HvRegisterName::sint0);
  if (n < kSintCount) return n;
  return std::nullopt;
}

bool owned_register(HvRegisterName name) {
  switch (name) {
    case HvRegisterName::scontrol:
    case HvRegisterName::sversion:
    case HvRegisterName::siefp:
    case HvRegisterName::simp:
    case HvRegisterName::eom:
      return true;
    default:
      return sint_index(name).has_value();
  }
}

bool valid_sint_value(std::uint64_t value) {
  const SintReg reg(value);
  if ((value & ~SintReg::kDefinedBits) != 0) return false;
  return reg.masked() || reg.vector() >= kMinUnmaskedVector;
}

std::atomic_ref<std::uint32_t> type_of(std::byte* slot) {
  return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(slot));
}

std::atomic_ref<std::uint64_t> word_at(std::byte* p) {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(p));
}

std::string where(std::uint32_t vp, Vtl vtl) {
  return "VP " + std::to_string(vp) + " VTL " + std::to_string(vtl);
}

}  // namespace

VpCore::VtlState::~VtlState() {
  for (auto& q : queues) delete q.load(std::memory_order_acquire);
}

VpCore::VpCore(PartitionState& state, std::uint32_t index, boost::asio::any_io_executor executor)
    : state_(state), observer_(state.observer), index_(index), strand_(boost::asio::make_strand(std::move(executor))) {
  for (Vtl v = 0; v < state.config.vtl_count; ++v) {
    auto vtl = std::make_unique<VtlState>();
    for (auto& s : vtl->sints) s.store(SintReg::kReset, std::memory_order_relaxed);
    vtls_.push_back(std::move(vtl));
  }
}

SintQueue* VpCore::queue(Vtl vtl, unsigned sint) const {
  return vtls_[vtl]->queues[sint].load(std::memory_order_acquire);
}

SintQueue& VpCore::make_queue(Vtl vtl, unsigned sint) {
  auto& slot = vtls_[vtl]->queues[sint];
  if (SintQueue* q = slot.load(std::memory_order_acquire)) return *q;
  auto fresh = std::make_unique<SintQueue>(
      state_.config.sint_queue_capacity, boost::asio::any_io_executor(strand_), [this, vtl, sint](const HvMessage& m) {
        // A waiting async post is reported when it enters the queue.
        if (!observed()) return;
        SynicEvent e = event(SynicEventKind::host_post_queued, vtl, sint);
        e.message_type = m.header.message_type;
        e.payload = std::span(m.payload).first(m.header.payload_size);
        state_.notify(e);
      });
  SintQueue* expected = nullptr;
  // Two first posts may race: one queue wins, the other is dropped unused.
  if (slot.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel, std::memory_order_acquire)) {
    vtls_[vtl]->queued_sints.fetch_or(static_cast<std::uint16_t>(1u << sint), std::memory_order_acq_rel);
    return *fresh.release();
  }
  return *expected;
}

VpCore::VtlState* VpCore::vtl_state(Vtl vtl) const {
  return vtl < vtls_.size() ? vtls_[vtl].get() : nullptr;
}

SynicEvent VpCore::event(SynicEventKind kind, Vtl vtl, unsigned sint) const {
  SynicEvent e{};
  e.kind = kind;
  e.vtl = vtl;
  e.vp = index_;
  e.sint = static_cast<std::uint8_t>(sint);
  return e;
}

void VpCore::set_interrupt_sink(Vtl vtl, InterruptSink* sink) {
  if (auto* v = vtl_state(vtl))
    v->sink.store(sink, std::memory_order_release);
  else
    state_.report("set_interrupt_sink: " + where(index_, vtl) + " is out of range");
}

// ---- Registers ----

RegisterAccess VpCore::read_register(Vtl vtl, HvRegisterName name, std::uint64_t& value) const {
  if (!owned_register(name)) return RegisterAccess::unknown;
  const auto* v = vtl_state(vtl);
  if (v == nullptr) return RegisterAccess::invalid;
  switch (name) {
    case HvRegisterName::scontrol:
      value = v->scontrol.load(std::memory_order_acquire);
      break;
    case HvRegisterName::sversion:
      value = kSversionValue;
      break;
    case HvRegisterName::siefp:
      value = v->siefp.load(std::memory_order_acquire);
      break;
    case HvRegisterName::simp:
      value = v->simp.load(std::memory_order_acquire);
      break;
    case HvRegisterName::eom:
      value = 0;
      break;
    default:
      value = v->sints[*sint_index(name)].load(std::memory_order_acquire);
      break;
  }
  return RegisterAccess::ok;
}

RegisterAccess VpCore::write_register(Vtl vtl, HvRegisterName name, std::uint64_t value) {
  // EOM first: the guest writes it after taking each message.
  if (name == HvRegisterName::eom) {
    if (vtl >= vtls_.size()) return RegisterAccess::invalid;
    if (observed()) state_.notify(event(SynicEventKind::eom, vtl));
    deliver_all(vtl);
    return RegisterAccess::ok;
  }
  if (!owned_register(name)) return RegisterAccess::unknown;
  auto* v = vtl_state(vtl);
  if (v == nullptr) return RegisterAccess::invalid;
  auto note = [&] {
    if (!observed()) return;
    SynicEvent e = event(SynicEventKind::register_write, vtl);
    e.reg = static_cast<std::uint32_t>(name);
    e.value = value;
    state_.notify(e);
  };
  switch (name) {
    case HvRegisterName::scontrol:
      if ((value & ~ScontrolReg::kDefinedBits) != 0) return RegisterAccess::invalid;
      v->scontrol.store(value, std::memory_order_release);
      note();
      deliver_all(vtl);
      return RegisterAccess::ok;
    case HvRegisterName::sversion:
      return RegisterAccess::invalid;
    case HvRegisterName::siefp:
      if (write_page(vtl, name, v->siefp, v->siefp_host, value) != RegisterAccess::ok) return RegisterAccess::invalid;
      note();
      return RegisterAccess::ok;
    case HvRegisterName::simp:
      if (write_page(vtl, name, v->simp, v->simp_host, value) != RegisterAccess::ok) return RegisterAccess::invalid;
      v->simp_fault_reported = false;
      note();
      deliver_all(vtl);
      return RegisterAccess::ok;
    default: {
      const unsigned n = *sint_index(name);
      if (!valid_sint_value(value)) return RegisterAccess::invalid;
      v->sints[n].store(value, std::memory_order_release);
      note();
      deliver(vtl, n);
      return RegisterAccess::ok;
    }
  }
}

RegisterAccess VpCore::write_page(Vtl vtl, HvRegisterName name, std::atomic<std::uint64_t>& reg,
                                  std::atomic<std::byte*>& host, std::uint64_t value) {
  if ((value & ~PageReg::kDefinedBits) != 0) return RegisterAccess::invalid;
  const PageReg old(reg.load(std::memory_order_acquire));
  const PageReg now(value);
  // No overlay page exists: a newly enabled (or moved) page starts zeroed,
  // before the register points at it so no signal lands in stale bytes.
  if (now.enabled() && (!old.enabled() || old.gpn() != now.gpn())) {
    static constexpr std::array<std::byte, kPageSize> kZeroPage{};
    if (!state_.memory.write(now.gpa(), kZeroPage))
      state_.report(std::string(register_name(name)) + " of " + where(index_, vtl) +
                    " points outside guest RAM; delivery waits until it is moved");
  }
  // The host pointer first: a reader that sees the new register sees it.
  host.store(now.enabled() ? state_.memory.stable_host_range(now.gpa(), kPageSize) : nullptr,
             std::memory_order_release);
  reg.store(value, std::memory_order_release);
  return RegisterAccess::ok;
}

void VpCore::on_eoi(Vtl vtl, std::uint32_t vector) {
  const auto* v = vtl_state(vtl);
  if (v == nullptr) return;
  for (unsigned n = 0; n < kSintCount; ++n) {
    const SintReg reg(v->sints[n].load(std::memory_order_acquire));
    if (reg.vector() == vector && !reg.auto_eoi()) deliver(vtl, n);
  }
}

// ---- Snapshots ----

ScontrolReg VpCore::scontrol(Vtl vtl) const {
  const auto* v = vtl_state(vtl);
  return v ? ScontrolReg(v->scontrol.load(std::memory_order_acquire)) : ScontrolReg{};
}
PageReg VpCore::simp(Vtl vtl) const {
  const auto* v = vtl_state(vtl);
  return v ? PageReg(v->simp.load(std::memory_order_acquire)) : PageReg{};
}
PageReg VpCore::siefp(Vtl vtl) const {
  const auto* v = vtl_state(vtl);
  return v ? PageReg(v->siefp.load(std::memory_order_acquire)) : PageReg{};
}
SintReg VpCore::sint(Vtl vtl, unsigned n) const {
  const auto* v = vtl_state(vtl);
  return v && n < kSintCount ? SintReg(v->sints[n].load(std::memory_order_acquire)) : SintReg{};
}
bool VpCore::assert_sint(Vtl vtl, unsigned n) {
  if (vtl_state(vtl) == nullptr || n >= kSintCount) return false;
  const SintReg reg = sint(vtl, n);
  if (reg.masked() || reg.polling()) return false;
  raise(vtl, n, reg);
  return true;
}

std::size_t VpCore::queued_messages(Vtl vtl, unsigned sint) const {
  const auto* v = vtl_state(vtl);
  if (v == nullptr || sint >= kSintCount) return 0;
  const SintQueue* q = v->queues[sint].load(std::memory_order_acquire);
  return q != nullptr ? q->size() : 0;
}

// ---- Host to guest messages ----

Error VpCore::post(Vtl vtl, unsigned sint, const HvMessage& message) {
  const Error e = push(vtl, sint, message);
  if (e == Error::ok) mark_pending(vtl, sint);
  return e;
}

Error VpCore::push(Vtl vtl, unsigned sint, const HvMessage& message) {
  return make_queue(vtl, sint).try_push(message) ? Error::ok : Error::queue_full;
}

void VpCore::kick(Vtl vtl, unsigned sint, bool now) {
  if (now)
    deliver(vtl, sint);
  else
    mark_pending(vtl, sint);
}

bool VpCore::post_direct(Vtl vtl, unsigned sint, std::uint32_t message_type, std::span<const std::byte> payload) {
  auto& v = *vtls_[vtl];
  // Anything queued (or a post on its way in) goes first: FIFO per SINT.
  // Events would need host_post_queued before the delivery: queue instead.
  if (const SintQueue* q = v.queues[sint].load(std::memory_order_acquire); q != nullptr && q->size() != 0) return false;
  if (observed()) return false;
  const ScontrolReg scontrol(v.scontrol.load(std::memory_order_acquire));
  const PageReg simp(v.simp.load(std::memory_order_acquire));
  const SintReg reg(v.sints[sint].load(std::memory_order_acquire));
  std::byte* const page = v.simp_host.load(std::memory_order_acquire);
  if (!scontrol.enabled() || !simp.enabled() || reg.masked() || page == nullptr) return false;
  std::byte* const slot = page + sint * kMessageSize;
  if (type_of(slot).load(std::memory_order_acquire) != 0) return false;
  // The same bytes a queued host message would get: flags 0, origination
  // id 0, payload zero-padded; the type last.
  HvMessageHeader header{};
  header.payload_size = static_cast<std::uint8_t>(payload.size());
  std::memcpy(slot + kTypeSize, reinterpret_cast<const std::byte*>(&header) + kTypeSize, sizeof header - kTypeSize);
  std::byte* const body = slot + sizeof header;
  if (!payload.empty()) std::memcpy(body, payload.data(), payload.size());
  std::memset(body + payload.size(), 0, kMessagePayloadMax - payload.size());
  type_of(slot).store(message_type, std::memory_order_release);
  if (!reg.polling()) raise(vtl, sint, reg);
  return true;
}

bool VpCore::post_or_wait(Vtl vtl, unsigned sint, const HvMessage& message, SintQueue::Handler handler) {
  if (!make_queue(vtl, sint).push_or_wait(message, std::move(handler))) return false;
  mark_pending(vtl, sint);
  return true;
}

void VpCore::cancel_waiters() {
  for (auto& v : vtls_)
    for (auto& q : v->queues)
      if (SintQueue* queue = q.load(std::memory_order_acquire)) queue->cancel_waiters();
}

std::size_t VpCore::withdraw_messages(Vtl vtl, unsigned sint, const std::function<bool(const HvMessage&)>& match) {
  if (vtl_state(vtl) == nullptr || sint >= kSintCount) return 0;
  SintQueue* q = queue(vtl, sint);
  return q != nullptr ? q->withdraw(match) : 0;
}

void VpCore::mark_pending(Vtl vtl, unsigned sint) {
  pending_.fetch_or(std::uint64_t{1} << (vtl * kSintCount + sint), std::memory_order_seq_cst);
  // One drain task covers every post made before it clears the flag.
  if (drain_scheduled_.exchange(true, std::memory_order_seq_cst)) return;
  boost::asio::post(strand_, [weak = state_.weak_from_this(), vp = index_] {
    if (auto state = weak.lock()) state->vps[vp]->deliver_pending();
  });
}

void VpCore::deliver_pending() {
  drain_scheduled_.store(false, std::memory_order_seq_cst);
  const std::uint64_t mask = pending_.exchange(0, std::memory_order_seq_cst);
  for (Vtl vtl = 0; vtl < vtls_.size(); ++vtl) {
    // SINTs with a new post or still holding messages, in SINT order; a
    // SINT never posted to has no queue and is skipped without a look.
    const auto posted = static_cast<std::uint16_t>(mask >> (vtl * kSintCount));
    for (unsigned live = vtls_[vtl]->queued_sints.load(std::memory_order_acquire); live != 0; live &= live - 1) {
      const auto n = static_cast<unsigned>(std::countr_zero(live));
      const SintQueue* q = queue(vtl, n);
      if (((posted >> n) & 1) != 0 || q->size() != 0) deliver(vtl, n);
    }
  }
}

void VpCore::deliver_all(Vtl vtl) {
  // In SINT order; a SINT never posted to has no queue and nothing to do.
  for (unsigned live = vtls_[vtl]->queued_sints.load(std::memory_order_acquire); live != 0; live &= live - 1)
    deliver(vtl, static_cast<unsigned>(std::countr_zero(live)));
}

void VpCore::deliver(Vtl vtl, unsigned sint) {
  auto& v = *vtls_[vtl];
  SintQueue* const q = v.queues[sint].load(std::memory_order_acquire);
  if (q == nullptr) return;  // nothing ever posted to this SINT
  auto& queue = *q;
  GuestMemory& memory = state_.memory;
  // Sinks and observers may post from here: those posts queue.
  struct Nest {
    bool& flag;
    bool was;
    ~Nest() { flag = was; }
  } nest{delivering_, delivering_};
  delivering_ = true;
  while (queue.size() != 0) {
    const ScontrolReg scontrol(v.scontrol.load(std::memory_order_acquire));
    const PageReg simp(v.simp.load(std::memory_order_acquire));
    const SintReg reg(v.sints[sint].load(std::memory_order_acquire));
    // Not deliverable now: the message waits; the register write that
    // enables or unmasks retries.
    if (!scontrol.enabled() || !simp.enabled() || reg.masked()) return;

    const std::uint64_t slot = simp.gpa() + sint * kMessageSize;
    std::byte* const page = v.simp_host.load(std::memory_order_acquire);
    std::byte* const host = page != nullptr ? page + sint * kMessageSize : nullptr;
    std::uint32_t type = 0;
    if (host != nullptr) {
      type = type_of(host).load(std::memory_order_acquire);
    } else {
      std::array<std::byte, kTypeSize> type_bytes{};
      if (!memory.read(slot, type_bytes)) {
        if (!v.simp_fault_reported)
          state_.report("SIMP of " + where(index_, vtl) + " is not guest RAM; messages stay queued");
        v.simp_fault_reported = true;
        return;
      }
      std::memcpy(&type, type_bytes.data(), kTypeSize);
    }
    if (type != 0) {
      // Busy: ask the guest for an EOM once it frees the slot.
      const auto old = host != nullptr ? std::optional(word_at(host).fetch_or(kPendingBit, std::memory_order_acq_rel))
                                       : memory.fetch_or_u64(slot, kPendingBit);
      if (old && (*old & kPendingBit) == 0 && observed())
        state_.notify(event(SynicEventKind::message_pending_set, vtl, sint));
      return;
    }

    const HvMessage* message = queue.front();
    if (message == nullptr) return;  // a post is still on its way in
    // The type goes last: a guest that sees it non-zero sees the rest.
    const auto bytes = std::as_bytes(std::span(message, 1));
    if (host != nullptr) {
      std::memcpy(host + kTypeSize, bytes.data() + kTypeSize, bytes.size() - kTypeSize);
      type_of(host).store(message->header.message_type, std::memory_order_release);
    } else if (!memory.write(slot + kTypeSize, bytes.subspan(kTypeSize)) || !memory.write(slot, bytes.first(kTypeSize))) {
      state_.report("SIMP slot write failed on " + where(index_, vtl) + "; message stays queued");
      return;
    }
    if (observed()) {
      SynicEvent delivered = event(SynicEventKind::message_delivered, vtl, sint);
      delivered.message_type = message->header.message_type;
      delivered.payload = std::span(message->payload).first(message->header.payload_size);
      state_.notify(delivered);
    }
    queue.pop_front();
    if (!reg.polling()) raise(vtl, sint, reg);
  }
}

void VpCore::raise_reported(Vtl vtl, unsigned sint, SintReg reg, InterruptSink* sink) {
  if (sink == nullptr) {
    state_.report("no interrupt sink for " + where(index_, vtl) + "; SINT " + std::to_string(sint) +
                  " interrupt dropped");
    return;
  }
  if (observed()) {
    SynicEvent e = event(SynicEventKind::interrupt_requested, vtl, sint);
    e.vector = reg.vector();
    e.auto_eoi = reg.auto_eoi();
    state_.notify(e);
  }
  sink->request_interrupt(reg.vector(), reg.auto_eoi());
}

// ---- Event flags ----

Error VpCore::signal_event(Vtl vtl, unsigned sint, std::uint16_t flag, bool& raised) {
  raised = false;
  const auto& v = *vtls_[vtl];
  const ScontrolReg scontrol(v.scontrol.load(std::memory_order_acquire));
  const PageReg siefp(v.siefp.load(std::memory_order_acquire));
  const SintReg reg(v.sints[sint].load(std::memory_order_acquire));
  if (!scontrol.enabled() || !siefp.enabled()) return Error::sint_not_ready;

  const std::uint64_t offset = sint * kEventFlagsSlotSize + (flag / 64u) * sizeof(std::uint64_t);
  const std::uint64_t bit = std::uint64_t{1} << (flag % 64u);
  // A SIEFP write racing this call: the flag lands in the old or the new
  // page, as if the call came before or after it.
  std::byte* const page = v.siefp_host.load(std::memory_order_acquire);
  const auto old = page != nullptr ? std::optional(word_at(page + offset).fetch_or(bit, std::memory_order_acq_rel))
                                   : state_.memory.fetch_or_u64(siefp.gpa() + offset, bit);
  if (!old) return Error::sint_not_ready;

  const bool already_set = (*old & bit) != 0;
  raised = !already_set && !reg.masked() && !reg.polling();
  if (observed()) {
    SynicEvent e = event(SynicEventKind::event_flag_set, vtl, sint);
    e.flag = flag;
    e.raised = raised;
    state_.notify(e);
  }
  if (already_set) return Error::flag_already_set;
  if (raised) raise(vtl, sint, reg);
  return Error::ok;
}

}  // namespace softsynic::detail
