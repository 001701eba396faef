// SynicVp: the public face of one VP's SynIC; every call forwards to the
// VpCore owned by the partition's shared state.
// TLFS: "SynIC MSRs", "Message Buffers", "End of Message". Not supported:
// see vp_core.h.
#include "synic/synic_vp.h"

#include "synic/src/synic_vp_impl.h"

namespace softsynic {

SynicVp::SynicVp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SynicVp::~SynicVp() = default;

std::uint32_t SynicVp::index() const { return impl_->core->index(); }
SynicVp::Strand& SynicVp::strand() { return impl_->core->strand(); }
void SynicVp::set_interrupt_sink(Vtl vtl, InterruptSink* sink) { impl_->core->set_interrupt_sink(vtl, sink); }

RegisterAccess SynicVp::read_register(Vtl vtl, HvRegisterName name, std::uint64_t& value) {
  return impl_->core->read_register(vtl, name, value);
}
RegisterAccess SynicVp::write_register(Vtl vtl, HvRegisterName name, std::uint64_t value) {
  return impl_->core->write_register(vtl, name, value);
}
void SynicVp::on_eoi(Vtl vtl, std::uint32_t vector) { impl_->core->on_eoi(vtl, vector); }
void SynicVp::deliver_pending() { impl_->core->deliver_pending(); }
bool SynicVp::assert_sint(Vtl vtl, unsigned sint) { return impl_->core->assert_sint(vtl, sint); }

ScontrolReg SynicVp::scontrol(Vtl vtl) const { return impl_->core->scontrol(vtl); }
PageReg SynicVp::simp(Vtl vtl) const { return impl_->core->simp(vtl); }
PageReg SynicVp::siefp(Vtl vtl) const { return impl_->core->siefp(vtl); }
SintReg SynicVp::sint(Vtl vtl, unsigned n) const { return impl_->core->sint(vtl, n); }
std::size_t SynicVp::withdraw_messages(Vtl vtl, unsigned sint, const std::function<bool(const HvMessage&)>& match) {
  return impl_->core->withdraw_messages(vtl, sint, match);
}
std::size_t SynicVp::queued_messages(Vtl vtl, unsigned sint) const { return impl_->core->queued_messages(vtl, sint); }

}  // namespace softsynic
