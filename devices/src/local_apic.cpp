// LocalApic behaviour (Intel SDM vol. 3 "Advanced Programmable Interrupt
// Controller (APIC)", "Extended xAPIC (x2APIC)"; TLFS "Synthetic APIC
// MSRs"). See devices/apic/local_apic.h for what is modelled.
#include "devices/apic/local_apic.h"

#include "devices/apic/apic_bus.h"
#include "synic/time_source.h"

namespace softsynic::devices {

using namespace apic;

namespace {

// The LVT entry at an MMIO offset and the bits software may write in it.
struct LvtSlot {
  std::uint32_t offset;
  LvtIndex index;
  std::uint32_t writable;
};

constexpr std::uint32_t kLvtDeliveryWritable = 0x107FF;  // vector, delivery mode, mask
constexpr std::array<LvtSlot, kLvtCount> kLvtSlots{{
    {reg::kLvtCmci, LvtIndex::cmci, kLvtDeliveryWritable},
    {reg::kLvtTimer, LvtIndex::timer, 0x700FF},  // vector, mask, timer mode
    {reg::kLvtThermal, LvtIndex::thermal, kLvtDeliveryWritable},
    {reg::kLvtPerf, LvtIndex::perf, kLvtDeliveryWritable},
    {reg::kLvtLint0, LvtIndex::lint0, 0x1A7FF},  // + polarity, trigger
    {reg::kLvtLint1, LvtIndex::lint1, 0x1A7FF},
    {reg::kLvtError, LvtIndex::error, 0x100FF},  // vector, mask
}};

const LvtSlot* lvt_slot(std::uint32_t offset) {
  for (const LvtSlot& s : kLvtSlots)
    if (s.offset == offset) return &s;
  return nullptr;
}

constexpr std::uint32_t kTimerDivideWritable = 0xB;
constexpr std::uint32_t kXapicLdrWritable = 0xFF000000;
constexpr std::uint32_t kXapicDfrFixed = 0x0FFFFFFF;

constexpr std::uint8_t priority_class(std::uint8_t v) { return v & 0xF0; }

bool in_range(std::uint32_t offset, std::uint32_t first) { return offset >= first && offset < first + 0x80; }

}  // namespace

LocalApic::LocalApic(LocalApicConfig config) : config_(config), id_(config.apic_id) {
  base_ = ApicBaseReg().with_base(kDefaultBase).with_enabled(true).with_bsp(config.bsp);
  reset_registers();
}

LocalApic::~LocalApic() = default;

void LocalApic::set_kick(std::function<void()> kick) { kick_ = std::move(kick); }

void LocalApic::set_time_source(const TimeSource* time, std::uint64_t timer_hz) {
  time_ = time;
  timer_ = ApicTimer(timer_hz);
}

namespace {
// LVT timer mode (bits 17-18): 0 one-shot, 1 periodic, 2 TSC-deadline.
bool periodic_mode(LvtReg lvt) { return ((lvt.raw() >> 17) & 3) == 1; }
}  // namespace

void LocalApic::fire_timer(std::uint64_t now) {
  if (time_ == nullptr || !timer_.expire(now)) return;
  const LvtReg lvt = lvt_[static_cast<unsigned>(LvtIndex::timer)];
  if (!lvt.masked()) request_interrupt(lvt.vector(), false);
}

void LocalApic::kick() {
  if (kick_) kick_();
}

// Power-up state of everything but IA32_APIC_BASE.
void LocalApic::reset_registers() {
  irr_.clear_all();
  auto_eoi_.clear_all();
  level_.clear_all();
  isr_ = {};
  tmr_ = {};
  tpr_ = 0;
  svr_ = SvrReg();
  lvt_.fill(LvtReg());
  icr_ = IcrReg();
  esr_ = 0;
  esr_pending_.store(0, std::memory_order_relaxed);
  timer_initial_ = 0;
  timer_divide_ = 0;
  id_.store(config_.apic_id, std::memory_order_relaxed);
  ldr_.store(0, std::memory_order_relaxed);
  dfr_.store(0xFFFFFFFF, std::memory_order_relaxed);
  x2apic_.store(false, std::memory_order_relaxed);
  update_enabled();
}

void LocalApic::update_enabled() {
  enabled_.store(base_.enabled() && svr_.software_enabled(), std::memory_order_release);
}

bool LocalApic::accepting() const { return enabled_.load(std::memory_order_acquire); }

// ---- thread-safe ----

void LocalApic::drop(std::uint32_t esr_bit) {
  if (esr_bit != 0) esr_pending_.fetch_or(esr_bit, std::memory_order_relaxed);
  dropped_.fetch_add(1, std::memory_order_relaxed);
}

void LocalApic::post(std::uint8_t vector, bool auto_eoi, bool level) {
  if (vector < kFirstValidVector) return drop(esr::kReceiveIllegalVector);
  if (!accepting()) return drop(0);
  // The flags first: whoever takes the IRR bit (acquire) sees them.
  if (auto_eoi) auto_eoi_.set(vector); else auto_eoi_.test_and_clear(vector);
  if (level) level_.set(vector); else level_.test_and_clear(vector);
  irr_.set(vector);
  kick();
}

void LocalApic::request_interrupt(std::uint32_t vector, bool auto_eoi) {
  if (vector > 0xFF) return drop(esr::kReceiveIllegalVector);
  post(static_cast<std::uint8_t>(vector), auto_eoi, false);
}

void LocalApic::deliver_fixed(std::uint8_t vector, bool level_triggered) { post(vector, false, level_triggered); }

void LocalApic::deliver_init() {
  init_pending_.store(true, std::memory_order_release);
  kick();
}

void LocalApic::deliver_startup(std::uint8_t vector) {
  sipi_pending_.store(vector, std::memory_order_release);
  kick();
}

StartupEvents LocalApic::take_startup_events() {
  StartupEvents e;
  e.init = init_pending_.exchange(false, std::memory_order_acq_rel);
  if (std::int32_t v = sipi_pending_.exchange(-1, std::memory_order_acq_rel); v >= 0)
    e.sipi_vector = static_cast<std::uint8_t>(v);
  return e;
}

std::uint32_t LocalApic::apic_id() const {
  std::uint32_t id = id_.load(std::memory_order_relaxed);
  return x2apic_.load(std::memory_order_relaxed) ? id : (id & 0xFF);
}

bool LocalApic::matches_destination(std::uint32_t destination, bool logical) const {
  const bool x2 = x2apic_.load(std::memory_order_relaxed);
  const std::uint32_t broadcast = x2 ? 0xFFFFFFFF : 0xFF;
  if (!x2) destination &= 0xFF;
  if (destination == broadcast) return true;
  if (!logical) return destination == apic_id();
  const std::uint32_t ldr = ldr_.load(std::memory_order_relaxed);
  if (x2) return (destination >> 16) == (ldr >> 16) && (destination & ldr & 0xFFFF) != 0;
  const std::uint32_t logical_id = ldr >> 24;
  if ((dfr_.load(std::memory_order_relaxed) >> 28) == 0xF) return (destination & logical_id) != 0;  // flat
  return (destination >> 4) == (logical_id >> 4) && (destination & logical_id & 0xF) != 0;        // cluster
}

std::uint64_t LocalApic::dropped_requests() const { return dropped_.load(std::memory_order_relaxed); }

// ---- strand-affine: the CPU side ----

VectorSet LocalApic::irr() const { return irr_.snapshot(); }

std::uint8_t LocalApic::ppr() const {
  const std::uint8_t isrv = isr_.highest().value_or(0);
  return priority_class(tpr_) >= priority_class(isrv) ? tpr_ : priority_class(isrv);
}

std::optional<std::uint8_t> LocalApic::pending_vector() const {
  if (!accepting()) return std::nullopt;
  const auto v = irr_.highest();
  if (!v || priority_class(*v) <= priority_class(ppr())) return std::nullopt;
  return v;
}

std::optional<std::uint8_t> LocalApic::accept() {
  const auto v = pending_vector();
  if (!v || !irr_.test_and_clear(*v)) return std::nullopt;
  if (level_.test(*v)) tmr_.set(*v); else tmr_.clear(*v);
  if (!auto_eoi_.test(*v)) isr_.set(*v);
  return v;
}

void LocalApic::eoi() {
  const auto v = isr_.highest();
  if (!v) return;
  isr_.clear(*v);
  // A level-triggered vector's EOI goes to the I/O APICs (their remote IRR).
  // Directed EOI is not offered (version bit 24 clear), so SVR bit 12 does
  // not suppress the broadcast.
  if (tmr_.test(*v) && bus_ != nullptr) bus_->broadcast_eoi(*v);
  if (on_eoi_) on_eoi_(*v);
}

// ---- registers ----

LvtReg LocalApic::lvt(LvtIndex index) const { return lvt_[static_cast<unsigned>(index) % kLvtCount]; }

std::optional<std::uint32_t> LocalApic::read_register(std::uint32_t offset) const {
  const bool x2 = x2apic_mode();
  if (in_range(offset, reg::kIsr0)) return isr_.word32((offset - reg::kIsr0) >> 4);
  if (in_range(offset, reg::kTmr0)) return tmr_.word32((offset - reg::kTmr0) >> 4);
  if (in_range(offset, reg::kIrr0)) return irr_.snapshot().word32((offset - reg::kIrr0) >> 4);
  if (const LvtSlot* s = lvt_slot(offset)) return lvt_[static_cast<unsigned>(s->index)].raw();
  switch (offset) {
    case reg::kId: return x2 ? apic_id() : apic_id() << 24;
    case reg::kVersion: return kVersionValue | ((kLvtCount - 1) << 16);
    case reg::kTpr: return tpr_;
    case reg::kPpr: return ppr();
    case reg::kLdr: return ldr_.load(std::memory_order_relaxed);
    case reg::kSvr: return svr_.raw();
    case reg::kEsr: return esr_;
    case reg::kIcrLow: return icr_.low();
    case reg::kTimerInitialCount: return timer_initial_;
    case reg::kTimerCurrentCount: return time_ != nullptr ? timer_.current_count(time_->now()) : 0;
    case reg::kTimerDivide: return timer_divide_;
    default: break;
  }
  if (x2) return std::nullopt;  // the rest exist in xAPIC mode only
  switch (offset) {
    case reg::kApr:
    case reg::kRrd:
    case reg::kEoi: return 0;
    case reg::kDfr: return dfr_.load(std::memory_order_relaxed);
    case reg::kIcrHigh: return icr_.high();
    default: return std::nullopt;
  }
}

// Writes already validated (x2APIC) or masked (xAPIC) by the caller.
void LocalApic::write_register(std::uint32_t offset, std::uint32_t value) {
  if (const LvtSlot* s = lvt_slot(offset)) {
    LvtReg r(value & s->writable);
    // A software-disabled APIC keeps every LVT entry masked.
    if (!svr_.software_enabled()) r = r.with_masked(true);
    lvt_[static_cast<unsigned>(s->index)] = r;
    if (s->index == LvtIndex::timer) timer_.set_periodic(periodic_mode(r));
    return;
  }
  switch (offset) {
    case reg::kTpr: tpr_ = static_cast<std::uint8_t>(value); break;
    case reg::kEoi: eoi(); break;
    case reg::kSvr:
      svr_ = SvrReg(value & SvrReg::kDefinedBits);
      if (!svr_.software_enabled())
        for (auto& l : lvt_) l = l.with_masked(true);
      update_enabled();
      break;
    case reg::kEsr: esr_ = esr_pending_.exchange(0, std::memory_order_relaxed); break;
    case reg::kTimerInitialCount:
      timer_initial_ = value;
      if (time_ != nullptr) {
        timer_.start(time_->now(), value, timer_divide_, periodic_mode(lvt_[static_cast<unsigned>(LvtIndex::timer)]));
      }
      break;
    case reg::kTimerDivide:
      timer_divide_ = value & kTimerDivideWritable;
      if (time_ != nullptr) timer_.set_divide(time_->now(), timer_divide_);
      break;
    default: break;
  }
}

void LocalApic::send_ipi(IcrReg icr) {
  const auto mode = icr.delivery_mode();
  const bool fixed = mode == DeliveryMode::fixed || mode == DeliveryMode::lowest_priority;
  if (fixed && icr.vector() < kFirstValidVector) {
    esr_pending_.fetch_or(esr::kSendIllegalVector, std::memory_order_relaxed);
    return;
  }
  if (bus_ != nullptr) {
    bus_->send(*this, icr);
    return;
  }
  // No bus: only this APIC can be reached.
  const bool self = icr.shorthand() == DestinationShorthand::self ||
                    icr.shorthand() == DestinationShorthand::all_including_self ||
                    (icr.shorthand() == DestinationShorthand::none &&
                     matches_destination(x2apic_mode() ? icr.x2apic_destination() : icr.xapic_destination(),
                                         icr.logical()));
  if (self) ApicBus::deliver(*this, icr);
}

// ---- xAPIC MMIO ----

bool LocalApic::mmio_claims(std::uint64_t gpa) const {
  return base_.enabled() && !base_.x2apic() && gpa >= base_.base() && gpa - base_.base() < reg::kPageSize;
}

std::uint32_t LocalApic::mmio_read(std::uint32_t offset) {
  const std::uint32_t sub = offset & 0xF;
  if (sub >= 4 || offset >= reg::kPageSize) return 0;
  return read_register(offset & ~0xFu).value_or(0) >> (8 * sub);
}

void LocalApic::mmio_write(std::uint32_t offset, std::uint32_t value) {
  if ((offset & 0xF) != 0 || offset >= reg::kPageSize || x2apic_mode()) return;
  if (in_range(offset, reg::kIsr0) || in_range(offset, reg::kTmr0) || in_range(offset, reg::kIrr0)) return;
  switch (offset) {
    case reg::kVersion:
    case reg::kApr:
    case reg::kPpr:
    case reg::kRrd:
    case reg::kTimerCurrentCount: return;  // read-only
    case reg::kId: id_.store(value >> 24, std::memory_order_relaxed); return;
    case reg::kLdr: ldr_.store(value & kXapicLdrWritable, std::memory_order_relaxed); return;
    case reg::kDfr: dfr_.store(value | kXapicDfrFixed, std::memory_order_relaxed); return;
    case reg::kIcrHigh: icr_ = IcrReg((std::uint64_t{value & 0xFF000000} << 32) | icr_.low()); return;
    case reg::kIcrLow:
      icr_ = IcrReg((std::uint64_t{icr_.high()} << 32) | (value & IcrReg::kLowWritable));
      send_ipi(icr_);
      return;
    case reg::kTpr: value &= 0xFF; break;
    case reg::kEoi:
    case reg::kSvr:
    case reg::kEsr:
    case reg::kTimerInitialCount:
    case reg::kTimerDivide: break;
    default:
      if (lvt_slot(offset) == nullptr) {
        esr_pending_.fetch_or(esr::kIllegalRegister, std::memory_order_relaxed);
        return;
      }
      break;
  }
  write_register(offset, value);
}

// ---- MSRs ----

MsrResult LocalApic::read_x2apic(std::uint32_t offset, std::uint64_t& value) {
  if (offset == reg::kIcrLow) {
    value = icr_.raw();
    return MsrResult::ok;
  }
  const auto r = read_register(offset);
  if (!r || offset == reg::kEoi) return MsrResult::gp;  // reserved or write-only
  value = *r;
  return MsrResult::ok;
}

MsrResult LocalApic::write_x2apic(std::uint32_t offset, std::uint64_t value) {
  if (offset == reg::kIcrLow) {
    if ((value & IcrReg::kX2apicReserved) != 0) return MsrResult::gp;
    icr_ = IcrReg(value);
    send_ipi(icr_);
    return MsrResult::ok;
  }
  if ((value >> 32) != 0) return MsrResult::gp;
  const auto v = static_cast<std::uint32_t>(value);
  std::uint32_t writable = 0;
  if (const LvtSlot* s = lvt_slot(offset)) {
    writable = s->writable;
  } else {
    switch (offset) {
      case reg::kEoi:
      case reg::kEsr: writable = 0; break;  // only 0 may be written
      case reg::kTpr: writable = 0xFF; break;
      case reg::kSvr: writable = SvrReg::kDefinedBits; break;
      case reg::kTimerInitialCount: writable = 0xFFFFFFFF; break;
      case reg::kTimerDivide: writable = kTimerDivideWritable; break;
      case reg::kSelfIpi:
        if ((v & ~0xFFu) != 0) return MsrResult::gp;
        send_ipi(IcrReg().with_vector(static_cast<std::uint8_t>(v)).with_shorthand(DestinationShorthand::self));
        return MsrResult::ok;
      default: return MsrResult::gp;  // read-only or reserved
    }
  }
  if ((v & ~writable) != 0) return MsrResult::gp;
  write_register(offset, v);
  return MsrResult::ok;
}

MsrResult LocalApic::write_apic_base(std::uint64_t value) {
  ApicBaseReg next(value);
  if ((value & ApicBaseReg::reserved_mask(config_.phys_addr_bits)) != 0) return MsrResult::gp;
  if (next.x2apic() && !config_.x2apic_supported) return MsrResult::gp;
  const bool was_on = base_.enabled(), was_x2 = base_.enabled() && base_.x2apic();
  const bool on = next.enabled(), x2 = next.x2apic();
  if (!on && x2) return MsrResult::gp;                    // invalid state
  if (was_x2 && on && !x2) return MsrResult::gp;          // x2APIC -> xAPIC
  if (!was_on && x2) return MsrResult::gp;                // disabled -> x2APIC
  next = next.with_bsp(base_.bsp());                      // BSP is read-only
  base_ = next;
  if (!on) {
    reset_registers();
    return MsrResult::ok;
  }
  if (x2 && !was_x2) {
    const std::uint32_t id = config_.apic_id;
    id_.store(id, std::memory_order_relaxed);
    ldr_.store(((id >> 4) << 16) | (1u << (id & 0xF)), std::memory_order_relaxed);
    x2apic_.store(true, std::memory_order_relaxed);
  }
  update_enabled();
  return MsrResult::ok;
}

MsrResult LocalApic::read_msr(std::uint32_t msr, std::uint64_t& value) {
  if (msr == msr::kApicBase) {
    value = base_.raw();
    return MsrResult::ok;
  }
  if (msr >= msr::kX2apicFirst && msr <= msr::kX2apicLast)
    return x2apic_mode() ? read_x2apic(msr::mmio_offset(msr), value) : MsrResult::gp;
  switch (msr) {
    case msr::kHvEoi: return MsrResult::gp;  // write-only
    case msr::kHvIcr:
      if (!base_.enabled()) return MsrResult::gp;
      value = icr_.raw();
      return MsrResult::ok;
    case msr::kHvTpr:
      if (!base_.enabled()) return MsrResult::gp;
      value = tpr_;
      return MsrResult::ok;
    default: return MsrResult::not_mine;
  }
}

MsrResult LocalApic::write_msr(std::uint32_t msr, std::uint64_t value) {
  if (msr == msr::kApicBase) return write_apic_base(value);
  if (msr >= msr::kX2apicFirst && msr <= msr::kX2apicLast)
    return x2apic_mode() ? write_x2apic(msr::mmio_offset(msr), value) : MsrResult::gp;
  const bool hv = msr == msr::kHvEoi || msr == msr::kHvIcr || msr == msr::kHvTpr;
  if (!hv) return MsrResult::not_mine;
  if (!base_.enabled()) return MsrResult::gp;
  if (x2apic_mode()) {
    const std::uint32_t offset = msr == msr::kHvEoi ? reg::kEoi : msr == msr::kHvIcr ? reg::kIcrLow : reg::kTpr;
    return write_x2apic(offset, msr == msr::kHvEoi ? 0 : value);  // the EOI value is ignored
  }
  switch (msr) {
    case msr::kHvEoi: eoi(); return MsrResult::ok;  // the value is ignored
    case msr::kHvTpr:
      if ((value & ~std::uint64_t{0xFF}) != 0) return MsrResult::gp;
      tpr_ = static_cast<std::uint8_t>(value);
      return MsrResult::ok;
    default:  // ICR in xAPIC layout: destination in bits 56-63
      icr_ = IcrReg((value & (std::uint64_t{0xFF} << 56)) | (value & IcrReg::kLowWritable));
      send_ipi(icr_);
      return MsrResult::ok;
  }
}

}  // namespace softsynic::devices
