// GuestEventPort: a host-owned sender of one event flag to the guest
// (VMBus channel interrupts). signal() sets `flag` in the target SINT's
// SIEFP slot with an atomic test-and-set and raises the SINT interrupt only
// when the bit went 0 -> 1 (and the SINT is neither masked nor polling).
//
// Threading: every method is thread-safe. signal() runs on the calling
// thread (no strand hop), using the target VP's register snapshot.
#pragma once

#include <cstdint>

#include <boost/system/error_code.hpp>

#include "synic/defs/vtl.h"

namespace softsynic {

struct GuestEventTarget {
  Vtl vtl;
  std::uint32_t vp;
  std::uint8_t sint;
  std::uint16_t flag;
};

class GuestEventPort {
 public:
  virtual ~GuestEventPort() = default;
  // ok: flag set and interrupt requested. flag_already_set: no new
  // interrupt (coalesced). sint_not_ready: SCONTROL or SIEFP disabled or the
  // page is not RAM; nothing was set and the caller decides what to do.
  virtual boost::system::error_code signal() = 0;
  // Moves the port to another VP (same VTL, SINT and flag). invalid_vp when
  // out of range.
  virtual boost::system::error_code set_target_vp(std::uint32_t vp) = 0;
  virtual GuestEventTarget target() const = 0;
};

}  // namespace softsynic
