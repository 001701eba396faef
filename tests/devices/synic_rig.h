// A SynIC partition wired to real interrupt controllers, for the tests
// where an EOI must reach the SynIC: guest RAM, the partition, and guest-side
// helpers to enable a VP's SynIC and read or free its SIMP slots and SIEFP
// flags.
#pragma once

#include <atomic>
#include <cstring>
#include <span>

#include "synic/defs/message.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"

namespace softsynic::devices::test {

inline constexpr std::uint64_t kRamSize = 1 << 20;

inline std::uint64_t simp_gpa(std::uint32_t vp) { return 0x10000 + vp * 0x2000; }
inline std::uint64_t siefp_gpa(std::uint32_t vp) { return simp_gpa(vp) + 0x1000; }

inline std::uint64_t enabled_page(std::uint64_t gpa) { return PageReg{}.with_gpn(gpa >> 12).with_enabled(true).raw(); }

// SIMP, SIEFP and SCONTROL on, and SINT `sint` unmasked with `vector`. Run on
// the VP's strand (or before the partition runs).
inline bool enable_synic(SynicVp& vp, std::uint32_t index) {
  return vp.write_register(0, HvRegisterName::simp, enabled_page(simp_gpa(index))) == RegisterAccess::ok &&
         vp.write_register(0, HvRegisterName::siefp, enabled_page(siefp_gpa(index))) == RegisterAccess::ok &&
         vp.write_register(0, HvRegisterName::scontrol, 1) == RegisterAccess::ok;
}
inline bool unmask_sint(SynicVp& vp, unsigned sint, std::uint8_t vector, bool auto_eoi) {
  const auto reg = SintReg{}.with_masked(false).with_vector(vector).with_auto_eoi(auto_eoi);
  return vp.write_register(0, sint_register(sint), reg.raw()) == RegisterAccess::ok;
}

// The guest's view of one VP's SIMP and SIEFP pages.
class GuestPages {
 public:
  GuestPages(RamGuestMemory& ram, std::uint32_t vp) : ram_(ram), vp_(vp) {}

  HvMessageHeader slot(unsigned sint) const {
    HvMessageHeader h{};
    ram_.read(simp_gpa(vp_) + sint * kMessageSize, std::as_writable_bytes(std::span(&h, 1)));
    return h;
  }
  // Frees the slot (message_type = 0); returns whether message_pending was set.
  bool free_slot(unsigned sint) {
    const bool pending = (slot(sint).message_flags & kMessageFlagPending) != 0;
    const std::uint32_t zero = 0;
    ram_.write(simp_gpa(vp_) + sint * kMessageSize + kMessageTypeOffset, std::as_bytes(std::span(&zero, 1)));
    return pending;
  }
  // Takes (atomically clears) the first 64 flags of a SINT's SIEFP slot, as
  // a guest does with an atomic exchange.
  std::uint64_t take_flags(unsigned sint) {
    auto* p = ram_.host_pointer(siefp_gpa(vp_) + sint * kEventFlagsSlotSize, 8);
    if (p == nullptr) return 0;
    return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(p)).exchange(0, std::memory_order_acq_rel);
  }

 private:
  RamGuestMemory& ram_;
  std::uint32_t vp_;
};

}  // namespace softsynic::devices::test
