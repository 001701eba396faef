// GicDistributor behaviour (Arm GICv3/v4 architecture specification, "The
// GIC Distributor register map", "Affinity routing", "Interrupt handling
// state machine"). See devices/arm64/gic_distributor.h.
#include "devices/arm64/gic_distributor.h"

#include <algorithm>
#include <stdexcept>

namespace softsynic::devices {

using namespace gic;

namespace {
constexpr std::uint32_t kSpiWord = kFirstSpi / 32;      // the bit-array word holding the SPIs
constexpr std::uint32_t kIdBitsField = 9;               // 10 INTID bits: nothing above 1023 exists
constexpr std::uint32_t kIcfgrWritable = 0xAAAAAAAA;    // bit 2n+1 of each field; the others RES0
constexpr std::uint32_t kIntidsPerIcfgrWord = 16;

GicdTyperReg make_typer(std::size_t vps) {
  const auto cpus = static_cast<std::uint32_t>(std::min<std::size_t>(vps, 8));
  return GicdTyperReg{}.with_it_lines_number(kIntidLimit / 32 - 1).with_cpu_number(cpus - 1).with_id_bits(kIdBitsField);
}

// Which bit array an offset in 0x0080-0x03FF belongs to, and its word.
struct BitArrayAccess {
  std::uint32_t base;
  std::uint32_t word;
};
std::optional<BitArrayAccess> bit_array_access(std::uint32_t offset) {
  if (offset < gicd::kIgroupr || offset >= gicd::kIcactiver + gicd::kBitArraySize) return std::nullopt;
  const std::uint32_t base = offset & ~(gicd::kBitArraySize - 1);
  return BitArrayAccess{base, (offset - base) / 4};
}
}  // namespace

GicDistributor::GicDistributor(std::vector<std::uint64_t> vp_mpidrs)
    : mpidrs_(std::move(vp_mpidrs)), typer_(make_typer(mpidrs_.size())), lines_(mpidrs_.size(), nullptr) {
  if (mpidrs_.empty()) throw std::invalid_argument("GicDistributor needs at least one VP");
  deliverable_ = std::make_unique<std::atomic<std::uint32_t>[]>(mpidrs_.size());
  for (std::size_t vp = 0; vp < mpidrs_.size(); ++vp) deliverable_[vp].store(0, std::memory_order_relaxed);
  for (Spi& spi : spis_) spi.target = resolve(spi.route);
}

GicDistributor::~GicDistributor() = default;

void GicDistributor::attach(std::uint32_t vp, InterruptLine& line) {
  if (vp >= lines_.size()) throw std::invalid_argument("GicDistributor::attach: VP out of range");
  lines_[vp] = &line;
  line.attach_spi_source(*this, vp);
}

std::optional<std::uint32_t> GicDistributor::spi_index(std::uint32_t intid) {
  if (intid < kFirstSpi || intid >= kIntidLimit) return std::nullopt;
  return intid - kFirstSpi;
}

// IRM = 1 lets the distributor pick any PE: VP 0 is always a valid pick.
std::optional<std::uint32_t> GicDistributor::resolve(IrouterReg route) const {
  if (route.any()) return 0;
  for (std::uint32_t vp = 0; vp < mpidrs_.size(); ++vp)
    if (route.targets(mpidrs_[vp])) return vp;
  return std::nullopt;
}

void GicDistributor::set_route(std::uint32_t index, IrouterReg route) {
  spis_[index].route = route;
  spis_[index].target = resolve(route);
}

std::vector<std::uint32_t> GicDistributor::refresh() {
  std::vector<std::uint32_t> masks(mpidrs_.size(), 0);
  if (ctlr_.enable_grp1()) {
    for (std::uint32_t i = 0; i < kSpiCount; ++i) {
      const Spi& spi = spis_[i];
      if (spi.pending() && spi.enabled && !spi.active && spi.target) masks[*spi.target] |= 1u << i;
    }
  }
  std::vector<std::uint32_t> gained;
  for (std::uint32_t vp = 0; vp < masks.size(); ++vp) {
    const std::uint32_t before = deliverable_[vp].exchange(masks[vp], std::memory_order_acq_rel);
    if ((masks[vp] & ~before) != 0) gained.push_back(vp);
  }
  return gained;
}

void GicDistributor::wake(const std::vector<std::uint32_t>& vps) const {
  for (std::uint32_t vp : vps)
    if (lines_[vp] != nullptr) lines_[vp]->wake();
}

template <typename Change>
void GicDistributor::change_and_wake(Change&& change) {
  std::vector<std::uint32_t> gained;
  {
    std::lock_guard lock(mutex_);
    change();
    gained = refresh();
  }
  wake(gained);
}

// ---- inputs ----

void GicDistributor::set_spi_level(std::uint32_t intid, bool asserted) {
  if (const auto index = spi_index(intid)) change_and_wake([&] { spis_[*index].level = asserted; });
}

void GicDistributor::pulse_spi(std::uint32_t intid) {
  if (const auto index = spi_index(intid)) change_and_wake([&] { spis_[*index].latched = true; });
}

// ---- SpiSource ----

std::optional<IntidPriority> GicDistributor::best_spi(std::uint32_t vp) const {
  if (vp >= mpidrs_.size() || deliverable_[vp].load(std::memory_order_acquire) == 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  const std::uint32_t mask = deliverable_[vp].load(std::memory_order_relaxed);
  std::optional<IntidPriority> best;
  for (std::uint32_t i = 0; i < kSpiCount; ++i)
    if ((mask & (1u << i)) != 0 && (!best || spis_[i].priority < best->priority))
      best = IntidPriority{kFirstSpi + i, spis_[i].priority};
  return best;
}

bool GicDistributor::acknowledge_spi(std::uint32_t vp, std::uint32_t intid) {
  const auto index = spi_index(intid);
  if (!index || vp >= mpidrs_.size()) return false;
  std::lock_guard lock(mutex_);
  if ((deliverable_[vp].load(std::memory_order_relaxed) & (1u << *index)) == 0) return false;
  Spi& spi = spis_[*index];
  spi.active = true;
  spi.latched = false;  // a level input stays asserted: active and pending
  refresh();            // only takes away: nobody to wake
  return true;
}

void GicDistributor::deactivate_spi(std::uint32_t /*vp*/, std::uint32_t intid) {
  if (const auto index = spi_index(intid)) change_and_wake([&] { spis_[*index].active = false; });
}

// ---- snapshots ----

bool GicDistributor::spi_pending(std::uint32_t intid) const {
  const auto index = spi_index(intid);
  std::lock_guard lock(mutex_);
  return index && spis_[*index].pending();
}
bool GicDistributor::spi_active(std::uint32_t intid) const {
  const auto index = spi_index(intid);
  std::lock_guard lock(mutex_);
  return index && spis_[*index].active;
}
bool GicDistributor::spi_enabled(std::uint32_t intid) const {
  const auto index = spi_index(intid);
  std::lock_guard lock(mutex_);
  return index && spis_[*index].enabled;
}
std::optional<std::uint32_t> GicDistributor::spi_target(std::uint32_t intid) const {
  const auto index = spi_index(intid);
  std::lock_guard lock(mutex_);
  if (!index) return std::nullopt;
  return spis_[*index].target;
}
GicdCtlrReg GicDistributor::ctlr() const {
  std::lock_guard lock(mutex_);
  return ctlr_;
}

// ---- registers ----

std::uint32_t GicDistributor::bit_array(std::uint32_t word, bool Spi::*field) const {
  if (word != kSpiWord) return 0;
  std::uint32_t v = 0;
  for (std::uint32_t i = 0; i < kSpiCount; ++i)
    if (spis_[i].*field) v |= 1u << i;
  return v;
}

std::uint32_t GicDistributor::pending_word(std::uint32_t word) const {
  if (word != kSpiWord) return 0;
  std::uint32_t v = 0;
  for (std::uint32_t i = 0; i < kSpiCount; ++i)
    if (spis_[i].pending()) v |= 1u << i;
  return v;
}

std::uint32_t GicDistributor::read32(std::uint32_t offset) const {
  if (const auto a = bit_array_access(offset)) {
    switch (a->base) {
      case gicd::kIgroupr: return a->word == kSpiWord ? 0xFFFFFFFF : 0;  // all group 1
      case gicd::kIsenabler:
      case gicd::kIcenabler: return bit_array(a->word, &Spi::enabled);
      case gicd::kIspendr:
      case gicd::kIcpendr: return pending_word(a->word);
      case gicd::kIsactiver:
      case gicd::kIcactiver: return bit_array(a->word, &Spi::active);
      default: return 0;
    }
  }
  if (offset >= gicd::kIpriorityr && offset < gicd::kIpriorityr + gicd::kIpriorityrSize) {
    std::uint32_t v = 0;
    for (std::uint32_t i = 0; i < 4; ++i)
      if (const auto index = spi_index(offset - gicd::kIpriorityr + i)) v |= std::uint32_t{spis_[*index].priority} << (8 * i);
    return v;
  }
  if (offset >= gicd::kIcfgr && offset < gicd::kIcfgr + gicd::kIcfgrSize) {
    const std::uint32_t first = (offset - gicd::kIcfgr) / 4 * kIntidsPerIcfgrWord;
    std::uint32_t v = 0;
    for (std::uint32_t i = 0; i < kIntidsPerIcfgrWord; ++i)
      if (const auto index = spi_index(first + i)) v |= spis_[*index].config << (2 * i);
    return v;
  }
  switch (offset) {
    case gicd::kCtlr: return ctlr_.raw();
    case gicd::kTyper: return typer_.raw();
    case gicd::kIidr: return kIidrValue;
    case gicd::kPidr2: return kPidr2Gicv3;
    case gicd::kTyper2:
    case gicd::kStatusr:
    default: return 0;
  }
}

void GicDistributor::write32(std::uint32_t offset, std::uint32_t value) {
  if (const auto a = bit_array_access(offset)) {
    if (a->word != kSpiWord) return;
    for (std::uint32_t i = 0; i < kSpiCount; ++i) {
      if ((value & (1u << i)) == 0) continue;
      Spi& spi = spis_[i];
      switch (a->base) {
        case gicd::kIsenabler: spi.enabled = true; break;
        case gicd::kIcenabler: spi.enabled = false; break;
        case gicd::kIspendr: spi.latched = true; break;
        case gicd::kIcpendr: spi.latched = false; break;  // a level input stays pending
        case gicd::kIsactiver: spi.active = true; break;
        case gicd::kIcactiver: spi.active = false; break;
        default: break;  // IGROUPR: RAO/WI
      }
    }
    return;
  }
  if (offset >= gicd::kIpriorityr && offset < gicd::kIpriorityr + gicd::kIpriorityrSize) {
    for (std::uint32_t i = 0; i < 4; ++i)
      if (const auto index = spi_index(offset - gicd::kIpriorityr + i))
        spis_[*index].priority = static_cast<std::uint8_t>(value >> (8 * i)) & kPriorityMask;
    return;
  }
  if (offset >= gicd::kIcfgr && offset < gicd::kIcfgr + gicd::kIcfgrSize) {
    const std::uint32_t first = (offset - gicd::kIcfgr) / 4 * kIntidsPerIcfgrWord;
    for (std::uint32_t i = 0; i < kIntidsPerIcfgrWord; ++i)
      if (const auto index = spi_index(first + i)) spis_[*index].config = (value & kIcfgrWritable) >> (2 * i) & 3;
    return;
  }
  if (offset == gicd::kCtlr) ctlr_ = GicdCtlrReg(value);
  // Everything else is read-only or RAZ/WI here.
}

std::uint64_t GicDistributor::mmio_read(std::uint32_t /*vp*/, std::uint64_t offset, unsigned size) {
  if (offset >= gicd::kFrameSize) return 0;
  const auto off = static_cast<std::uint32_t>(offset);
  std::lock_guard lock(mutex_);
  if (off >= gicd::kIrouter && off < gicd::kIrouterEnd) {
    const auto index = spi_index((off - gicd::kIrouter) / 8);
    const std::uint64_t route = index ? spis_[*index].route.raw() : 0;
    if (size == 8 && (off & 7) == 0) return route;
    if (size == 4 && (off & 3) == 0) return register_lane(route, off & 7, 4);
    return 0;
  }
  const bool byte_ok = off >= gicd::kIpriorityr && off < gicd::kIpriorityr + gicd::kIpriorityrSize;
  if (size == 4 && (off & 3) == 0) return read32(off);
  if (size == 1 && byte_ok) return register_lane(read32(off & ~3u), off & 3, 1);
  return 0;
}

void GicDistributor::mmio_write(std::uint32_t /*vp*/, std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (offset >= gicd::kFrameSize) return;
  const auto off = static_cast<std::uint32_t>(offset);
  change_and_wake([&] {
    if (off >= gicd::kIrouter && off < gicd::kIrouterEnd) {
      const auto index = spi_index((off - gicd::kIrouter) / 8);
      if (!index) return;
      const std::uint64_t old = spis_[*index].route.raw();
      if (size == 8 && (off & 7) == 0) {
        set_route(*index, IrouterReg(value));
      } else if (size == 4 && (off & 3) == 0) {
        const unsigned shift = (off & 4) != 0 ? 32 : 0;
        const std::uint64_t half = std::uint64_t{0xFFFF'FFFF} << shift;
        set_route(*index, IrouterReg((old & ~half) | ((value & 0xFFFF'FFFF) << shift)));
      }
    } else if (size == 4 && (off & 3) == 0) {
      write32(off, static_cast<std::uint32_t>(value));
    } else if (size == 1 && off >= gicd::kIpriorityr && off < gicd::kIpriorityr + gicd::kIpriorityrSize) {
      if (const auto index = spi_index(off - gicd::kIpriorityr))
        spis_[*index].priority = static_cast<std::uint8_t>(value) & kPriorityMask;
    }
  });
}

}  // namespace softsynic::devices
