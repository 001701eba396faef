// The partition's GuestEventPort implementation. Private to synic/.
// TLFS: "Event Flags". Not supported: monitor-page signalling.
#pragma once

#include <memory>

#include "synic/guest_event_port.h"

namespace softsynic::detail {

struct PartitionState;

// target must be valid (checked by the partition). The port shares the
// partition's state, so it stays safe to call after the partition is gone.
std::unique_ptr<GuestEventPort> make_guest_event_port(std::shared_ptr<PartitionState> state, GuestEventTarget target);

}  // namespace softsynic::detail
