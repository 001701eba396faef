// GuestEventPort: a host-owned sender of one SIEFP flag, signalled from any
// thread without a strand hop. TLFS: "Event Flags". Not supported: monitor
// pages.
#include "synic/src/guest_event_port_impl.h"

#include <atomic>

#include "synic/src/partition_state.h"
#include "synic/src/vp_core.h"

namespace softsynic::detail {
namespace {

class PartitionGuestEventPort final : public GuestEventPort {
 public:
  PartitionGuestEventPort(std::shared_ptr<PartitionState> state, GuestEventTarget target)
      : state_(std::move(state)), target_(target), vp_(target.vp) {}

  boost::system::error_code signal() override {
    bool raised = false;
    const auto vp = vp_.load(std::memory_order_acquire);
    return to_error_code(state_->vps[vp]->signal_event(target_.vtl, target_.sint, target_.flag, raised));
  }

  boost::system::error_code set_target_vp(std::uint32_t vp) override {
    if (vp >= state_->config.vp_count) return make_error_code(Error::invalid_vp);
    vp_.store(vp, std::memory_order_release);
    return {};
  }

  GuestEventTarget target() const override {
    GuestEventTarget t = target_;
    t.vp = vp_.load(std::memory_order_acquire);
    return t;
  }

 private:
  std::shared_ptr<PartitionState> state_;
  const GuestEventTarget target_;  // vp field unused: vp_ is current
  std::atomic<std::uint32_t> vp_;
};

}  // namespace

std::unique_ptr<GuestEventPort> make_guest_event_port(std::shared_ptr<PartitionState> state, GuestEventTarget target) {
  return std::make_unique<PartitionGuestEventPort>(std::move(state), target);
}

}  // namespace softsynic::detail
