// InterruptLine behaviour: the GICv3 CPU interface and SGI/PPI
// redistributor state of one VP, with the SPIs a distributor routes here
// (Arm GICv3/v4 architecture specification, "Interrupt prioritization",
// "Interrupt handling state machine"). See devices/arm64/interrupt_line.h
// for what is modelled.
#include "devices/arm64/interrupt_line.h"

#include <algorithm>

namespace softsynic::devices {

using namespace gic;

namespace {
constexpr std::uint32_t bit(std::uint32_t intid) { return 1u << (intid % kLocalIntids); }
constexpr std::uint64_t kSreValue = 0x7;              // SRE, DFB, DIB: system registers only
constexpr std::uint8_t kMinBinaryPoint = 8 - kPriorityBits;  // ICC_BPR1_EL1 minimum
constexpr std::uint32_t kAllGroup1 = 0xFFFFFFFF;
constexpr std::uint32_t kAllEdge = 0xAAAAAAAA;  // ICFGR: bit 2n+1 set = edge; even bits RES0
}  // namespace

InterruptLine::InterruptLine() : icfgr1_(kAllEdge) { bpr1_ = kMinBinaryPoint; }
InterruptLine::~InterruptLine() = default;

void InterruptLine::set_kick(std::function<void()> kick) { kick_ = std::move(kick); }

void InterruptLine::attach_spi_source(SpiSource& source, std::uint32_t vp) {
  spi_source_ = &source;
  spi_vp_ = vp;
}

// ---- thread-safe ----

void InterruptLine::request_interrupt(std::uint32_t vector, bool /*auto_eoi: none on ARM64*/) { set_pending(vector); }

void InterruptLine::set_pending(std::uint32_t intid) {
  if (intid >= kLocalIntids) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  pending_.fetch_or(bit(intid), std::memory_order_acq_rel);
  if (kick_) kick_();
}

void InterruptLine::set_level(std::uint32_t intid, bool asserted) {
  if (intid >= kLocalIntids) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!asserted) {
    level_.fetch_and(~bit(intid), std::memory_order_acq_rel);
    return;
  }
  const std::uint32_t before = level_.fetch_or(bit(intid), std::memory_order_acq_rel);
  if ((before & bit(intid)) == 0) wake();
}

void InterruptLine::wake() {
  if (kick_) kick_();
}

std::uint64_t InterruptLine::dropped_requests() const { return dropped_.load(std::memory_order_relaxed); }

// ---- strand-affine ----

// A level input that is asserted is pending, whatever the latch says.
std::uint32_t InterruptLine::pending_or_level() const {
  return pending_.load(std::memory_order_acquire) | level_.load(std::memory_order_acquire);
}

bool InterruptLine::pending(std::uint32_t intid) const {
  return intid < kLocalIntids && (pending_or_level() & bit(intid)) != 0;
}
bool InterruptLine::level(std::uint32_t intid) const {
  return intid < kLocalIntids && (level_.load(std::memory_order_acquire) & bit(intid)) != 0;
}
bool InterruptLine::active(std::uint32_t intid) const { return intid < kLocalIntids && (active_ & bit(intid)) != 0; }
bool InterruptLine::enabled(std::uint32_t intid) const { return intid < kLocalIntids && (enabled_ & bit(intid)) != 0; }
std::uint8_t InterruptLine::priority(std::uint32_t intid) const {
  return intid < kLocalIntids ? priority_[intid] : kIdlePriority;
}
void InterruptLine::set_priority(std::uint32_t intid, std::uint8_t priority) {
  if (intid < kLocalIntids) priority_[intid] = priority & kPriorityMask;
}

std::uint8_t InterruptLine::running_priority() const {
  std::uint8_t p = kIdlePriority;
  for (unsigned i = 0; i < running_count_; ++i) p = std::min(p, running_[i].priority);
  return p;
}

// The pending, enabled, inactive INTID with the highest priority (lowest
// value; ties go to the lowest INTID, so a local INTID beats an SPI),
// optionally filtered by the group enable, PMR and the running priority.
std::optional<IntidPriority> InterruptLine::best_candidate(bool apply_masks) const {
  const std::uint32_t candidates = pending_or_level() & enabled_ & ~active_;
  std::optional<IntidPriority> best;
  for (std::uint32_t i = 0; i < kLocalIntids; ++i)
    if ((candidates & bit(i)) != 0 && (!best || priority_[i] < best->priority)) best = IntidPriority{i, priority_[i]};
  if (spi_source_ != nullptr) {
    const auto spi = spi_source_->best_spi(spi_vp_);
    if (spi && (!best || spi->priority < best->priority)) best = spi;
  }
  if (best && apply_masks && (!igrpen1_ || best->priority >= pmr_ || best->priority >= running_priority()))
    return std::nullopt;
  return best;
}

bool InterruptLine::irq_asserted() const { return best_candidate(true).has_value(); }

std::uint32_t InterruptLine::highest_pending() const {
  const auto best = best_candidate(false);
  return best ? best->intid : kSpuriousIntid;
}

std::uint32_t InterruptLine::acknowledge() {
  const auto best = best_candidate(true);
  if (!best || running_count_ >= running_.size()) return kSpuriousIntid;
  if (best->intid >= kLocalIntids) {
    // The distributor may have lost it meanwhile (ICPENDR, a deasserted
    // level, a new route): then this read is spurious, as on hardware.
    if (!spi_source_->acknowledge_spi(spi_vp_, best->intid)) return kSpuriousIntid;
  } else {
    pending_.fetch_and(~bit(best->intid), std::memory_order_acq_rel);
    active_ |= bit(best->intid);
  }
  running_[running_count_++] = *best;
  return best->intid;
}

// Removes the most recent acknowledgement of intid from the running list.
bool InterruptLine::drop_priority(std::uint32_t intid) {
  for (unsigned i = running_count_; i-- > 0;) {
    if (running_[i].intid == intid) {
      std::copy(running_.begin() + i + 1, running_.begin() + running_count_, running_.begin() + i);
      --running_count_;
      return true;
    }
  }
  return false;
}

void InterruptLine::end_of_interrupt(std::uint32_t intid) {
  if (intid >= kFirstSpecialIntid || !drop_priority(intid)) return;  // spurious or not acknowledged
  if (!ctlr_.eoi_mode()) deactivate(intid);
}

void InterruptLine::deactivate(std::uint32_t intid) {
  if (intid >= kLocalIntids && intid < kFirstSpecialIntid) {
    if (spi_source_ != nullptr) spi_source_->deactivate_spi(spi_vp_, intid);
    return;
  }
  if (!active(intid)) return;
  active_ &= ~bit(intid);
  if (on_eoi_) on_eoi_(intid);
}

// ---- system registers ----

SysRegResult InterruptLine::read_sysreg(SysRegEncoding r, std::uint64_t& value) {
  if (r == icc::kPmr) value = pmr_;
  else if (r == icc::kIar1) value = acknowledge();
  else if (r == icc::kHppir1) value = highest_pending();
  else if (r == icc::kBpr1) value = bpr1_;
  else if (r == icc::kCtlr) value = ctlr_.raw();
  else if (r == icc::kSre) value = kSreValue;
  else if (r == icc::kIgrpen1) value = igrpen1_ ? 1 : 0;
  else if (r == icc::kIgrpen0) value = 0;
  else if (r == icc::kRpr) value = running_priority();
  else if (icc::is_ap0r(r) || icc::is_ap1r(r)) value = 0;  // not kept: see the header
  else if (r == icc::kEoir1 || r == icc::kDir || r == icc::kSgi1r) return SysRegResult::undefined;  // write-only
  else return SysRegResult::not_mine;
  return SysRegResult::ok;
}

SysRegResult InterruptLine::write_sysreg(SysRegEncoding r, std::uint64_t value) {
  const auto intid = static_cast<std::uint32_t>(value & 0xFFFFFF);
  if (r == icc::kPmr) pmr_ = static_cast<std::uint8_t>(value) & kPriorityMask;
  else if (r == icc::kEoir1) end_of_interrupt(intid);
  else if (r == icc::kDir) deactivate(intid);
  else if (r == icc::kBpr1) bpr1_ = std::max(static_cast<std::uint8_t>(value & 7), kMinBinaryPoint);
  else if (r == icc::kCtlr) ctlr_ = IccCtlrReg(value);
  else if (r == icc::kIgrpen1) igrpen1_ = (value & 1) != 0;
  else if (r == icc::kSre || r == icc::kIgrpen0 || r == icc::kSgi1r || icc::is_ap0r(r) || icc::is_ap1r(r)) {
    // write-ignored: fixed SRE, no group 0, SGIs sent by the machine (it
    // sees every VP), active priorities not kept
  } else if (r == icc::kIar1 || r == icc::kHppir1 || r == icc::kRpr) return SysRegResult::undefined;  // read-only
  else return SysRegResult::not_mine;
  return SysRegResult::ok;
}

// ---- redistributor SGI frame ----

std::uint32_t InterruptLine::gicr_read(std::uint32_t offset) const {
  if (offset >= gicr::kIpriorityr0 && offset < gicr::kIpriorityrEnd) {
    const std::uint32_t first = (offset - gicr::kIpriorityr0) & ~3u;
    std::uint32_t v = 0;
    for (std::uint32_t i = 0; i < 4; ++i) v |= std::uint32_t{priority_[first + i]} << (8 * i);
    return v;
  }
  switch (offset) {
    case gicr::kIgroupr0: return kAllGroup1;
    case gicr::kIsenabler0:
    case gicr::kIcenabler0: return enabled_;
    case gicr::kIspendr0:
    case gicr::kIcpendr0: return pending_or_level();
    case gicr::kIsactiver0:
    case gicr::kIcactiver0: return active_;
    case gicr::kIcfgr0: return kAllEdge;
    case gicr::kIcfgr1: return icfgr1_;
    default: return 0;
  }
}

void InterruptLine::gicr_write(std::uint32_t offset, std::uint32_t value) {
  if (offset >= gicr::kIpriorityr0 && offset < gicr::kIpriorityrEnd) {
    const std::uint32_t first = (offset - gicr::kIpriorityr0) & ~3u;
    for (std::uint32_t i = 0; i < 4; ++i) set_priority(first + i, static_cast<std::uint8_t>(value >> (8 * i)));
    return;
  }
  switch (offset) {
    case gicr::kIsenabler0: enabled_ |= value; break;
    case gicr::kIcenabler0: enabled_ &= ~value; break;
    case gicr::kIspendr0:
      pending_.fetch_or(value, std::memory_order_acq_rel);
      break;
    case gicr::kIcpendr0: pending_.fetch_and(~value, std::memory_order_acq_rel); break;
    case gicr::kIsactiver0: active_ |= value; break;
    case gicr::kIcactiver0:
      // Deactivated behind the CPU interface's back: no priority to drop later.
      for (std::uint32_t i = 0; i < kLocalIntids; ++i)
        if ((value & active_ & bit(i)) != 0) drop_priority(i);
      active_ &= ~value;
      break;
    // Linux writes a PPI's trigger and reads it back to check it took.
    case gicr::kIcfgr1: icfgr1_ = value & kAllEdge; break;
    default: break;  // IGROUPR0, ICFGR0 and unknown offsets: write-ignored
  }
}

}  // namespace softsynic::devices
