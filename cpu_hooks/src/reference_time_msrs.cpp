// ReferenceTimeMsrs: REFERENCE_TSC and its page, TSC_FREQUENCY,
// APIC_FREQUENCY. See cpu_hooks/reference_time_msrs.h.
#include "cpu_hooks/reference_time_msrs.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <span>

#include "synic/defs/registers.h"
#include "synic/guest_memory.h"

namespace softsynic {

std::optional<ReferenceTscValues> reference_tsc_values(const TscSource& source) {
  using u128 = unsigned __int128;
  const std::uint64_t hz = source.tsc_frequency();
  if (hz <= kReferenceTicksPerSecond) return std::nullopt;
  // Rounded up, so that a TSC read at reference time t gives t, not t - 1,
  // when the rate is a multiple of 10 MHz.
  const u128 numerator = static_cast<u128>(kReferenceTicksPerSecond) << 64;
  const auto scale = static_cast<std::uint64_t>((numerator + hz - 1) / hz);
  const auto at_zero = static_cast<std::uint64_t>((static_cast<u128>(source.tsc_at(0)) * scale) >> 64);
  return ReferenceTscValues{scale, static_cast<std::int64_t>(std::uint64_t{0} - at_zero)};
}

MsrResult ReferenceTimeMsrs::read(std::uint32_t, Vtl, std::uint32_t msr, std::uint64_t& value) {
  switch (msr) {
    case msr::kReferenceTsc: {
      if (!offers_reference_tsc()) return MsrResult::gp;
      std::lock_guard lock(mutex_);
      value = reference_tsc_.raw();
      return MsrResult::ok;
    }
    case msr::kTscFrequency:
      if (!config_.features.frequency_msrs) return MsrResult::gp;
      value = source_ != nullptr ? source_->tsc_frequency() : config_.tsc_frequency_hz;
      return MsrResult::ok;
    case msr::kApicFrequency:
      if (!config_.features.frequency_msrs) return MsrResult::gp;
      value = config_.apic_frequency_hz;
      return MsrResult::ok;
    default:
      return MsrResult::not_mine;
  }
}

MsrResult ReferenceTimeMsrs::write(std::uint32_t, Vtl, std::uint32_t msr, std::uint64_t value) {
  switch (msr) {
    case msr::kReferenceTsc: {
      if (!offers_reference_tsc() || (value & ~PageReg::kDefinedBits) != 0) return MsrResult::gp;
      const PageReg reg(value);
      std::lock_guard lock(mutex_);
      if (reg.enabled() && !publish(reg.gpa())) return MsrResult::gp;
      reference_tsc_ = reg;
      return MsrResult::ok;
    }
    case msr::kTscFrequency:
    case msr::kApicFrequency:
      // Read-only; hidden ones are #GP as well.
      return MsrResult::gp;
    default:
      return MsrResult::not_mine;
  }
}

void ReferenceTimeMsrs::tsc_mapping_changed() {
  std::lock_guard lock(mutex_);
  if (reference_tsc_.enabled()) publish(reference_tsc_.gpa());
}

std::uint32_t ReferenceTimeMsrs::sequence() const {
  std::lock_guard lock(mutex_);
  return sequence_;
}

// Sequence 0 first, so a guest reading meanwhile falls back to the MSR;
// then scale and offset; then the next valid sequence.
bool ReferenceTimeMsrs::publish(std::uint64_t gpa) {
  const std::uint32_t invalid = kReferenceTscSequenceInvalid;
  if (!memory_.write(gpa, std::as_bytes(std::span(&invalid, 1)))) return false;
  sequence_ = kReferenceTscSequenceInvalid;
  const std::optional<ReferenceTscValues> values = reference_tsc_values(*source_);
  if (!values) return true;  // stays invalid: the guest uses TIME_REF_COUNT
  ReferenceTscPageHeader header{};
  header.scale = values->scale;
  header.offset = values->offset;
  std::array<std::byte, sizeof header - offsetof(ReferenceTscPageHeader, scale)> tail{};
  std::memcpy(tail.data(), reinterpret_cast<const std::byte*>(&header) + offsetof(ReferenceTscPageHeader, scale),
              tail.size());
  if (!memory_.write(gpa + offsetof(ReferenceTscPageHeader, scale), tail)) return false;
  std::atomic_thread_fence(std::memory_order_release);
  std::uint32_t next = last_sequence_ + 1;
  if (next == kReferenceTscSequenceInvalid || next == kReferenceTscSequenceReserved) next = 1;
  if (!memory_.write(gpa, std::as_bytes(std::span(&next, 1)))) return false;
  sequence_ = last_sequence_ = next;
  return true;
}

}  // namespace softsynic
