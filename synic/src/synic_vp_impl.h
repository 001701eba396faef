// SynicVp's private part: a pointer to the VpCore the partition's shared
// state owns. Private to synic/. TLFS: none.
#pragma once

#include "synic/src/vp_core.h"
#include "synic/synic_vp.h"

namespace softsynic {

struct SynicVp::Impl {
  explicit Impl(detail::VpCore* c) : core(c) {}
  detail::VpCore* core;
};

}  // namespace softsynic
