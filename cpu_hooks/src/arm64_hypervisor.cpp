// ARM64 hypercall ABIs: native HVC #1 and the SMCCC HVC #0 form (TLFS
// "Hypercall Interface" for ARM64; Arm SMCCC 1.1/1.2, vendor-hypervisor
// service calls).
//
// Fast output placement: output follows the input at the next 16-byte
// boundary of the register sequence. For the drivers' one-name
// GetVpRegisters over SMCCC (input X2-X4, 20 bytes) that is X6 (low) and
// X7 (high), which is where the Linux arm64 hv_get_vpreg_128 reads the
// value from (it uses the SMCCC 1.2 call because X6/X7 lie beyond X0-X3).
//
// Vendor-hypervisor UID: the Linux driver compares W0-W3 against
// 0x4d32ba58, 0xcd244764, 0x8eef6c75, 0x16597024 (an earlier proposal used
// the ASCII words "MsHyperV"; softsynic answers the UUID form).
#include "cpu_hooks/arm64_hypervisor.h"

#include <optional>
#include <stdexcept>

#include "cpu_hooks/crash_msrs.h"
#include "cpu_hooks/register_owner.h"
#include "cpu_hooks/src/hypercall_dispatcher.h"
#include "synic/defs/hypercall.h"
#include "synic/partition.h"

namespace softsynic {

namespace {

constexpr unsigned kLastArgumentRegister = 17;  // SMCCC 1.2: X0-X17
constexpr std::uint64_t kFunctionIdMask = 0xFFFF'FFFF;  // the function id is W0

// Fast-call slots: X<first> .. X17.
class Arm64FastBlock final : public detail::FastRegisterBlock {
 public:
  Arm64FastBlock(Arm64Registers& regs, unsigned first) : regs_(regs), first_(first) {}
  unsigned size() const override { return kLastArgumentRegister + 1 - first_; }
  std::uint64_t get(unsigned slot) const override { return regs_.get_x(first_ + slot); }
  void set(unsigned slot, std::uint64_t value) override {
    if (slot < size()) regs_.set_x(first_ + slot, value);
  }

 private:
  Arm64Registers& regs_;
  unsigned first_;
};

// Where one hypercall form keeps its operands.
struct HvcLayout {
  unsigned control;  // register holding the control value
  unsigned input;    // input GPA register, also the first fast slot
  unsigned output;   // output GPA register
};
constexpr HvcLayout kNativeLayout{0, 1, 2};
constexpr HvcLayout kSmcccLayout{1, 2, 3};

}  // namespace

// The crash registers by name: the x86 crash MSRs' model behind
// HvGet/SetVpRegisters (TLFS "Partition Crash Enlightenment").
class CrashRegisterNames final : public RegisterOwner {
 public:
  explicit CrashRegisterNames(CrashMsrs& crash) : crash_(crash) {}
  RegisterAccess read_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t& value) override {
    auto msr = msr_for(name);
    return msr ? register_access_for(crash_.read(vp, vtl, *msr, value)) : RegisterAccess::unknown;
  }
  RegisterAccess write_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t value) override {
    auto msr = msr_for(name);
    return msr ? register_access_for(crash_.write(vp, vtl, *msr, value)) : RegisterAccess::unknown;
  }

 private:
  static std::optional<std::uint32_t> msr_for(HvRegisterName name) {
    const auto n = static_cast<std::uint32_t>(name);
    const auto first = static_cast<std::uint32_t>(HvRegisterName::guest_crash_p0);
    if (n < first || n > static_cast<std::uint32_t>(HvRegisterName::guest_crash_ctl)) return std::nullopt;
    return msr::kCrashP0 + (n - first);
  }
  CrashMsrs& crash_;
};

struct Arm64Hypervisor::Impl {
  Impl(Partition& partition, const HvConfig& config, const TimeSource& time)
      : config(config),
        registers(partition, config, time),
        dispatcher(registers),
        crash(partition.memory(), this->config),
        crash_names(crash) {
    registers.add_owner(crash_names);
  }

  HypercallOutcome hypercall(std::uint32_t vp, Vtl vtl, const HvcLayout& layout, Arm64Registers& regs) {
    Arm64FastBlock fast(regs, layout.input);
    detail::HypercallArgs args;
    args.control = HypercallControl(regs.get_x(layout.control));
    args.input_gpa = regs.get_x(layout.input);
    args.output_gpa = regs.get_x(layout.output);
    args.fast = &fast;
    const HypercallResult result = dispatcher.dispatch(vp, vtl, args);
    regs.set_x(0, result.raw());
    HypercallOutcome outcome;
    outcome.status = result.status();
    outcome.reps_completed = result.reps_completed();
    outcome.registers_written = true;
    return outcome;
  }

  HypercallOutcome smccc_service(std::uint32_t vp, Arm64Registers& regs, std::uint64_t function) {
    if (psci != nullptr && PsciService::is_psci(function)) {
      psci->call(vp, regs);
    } else if (function == smccc::kVendorHypCallUid) {
      for (unsigned i = 0; i < 4; ++i) regs.set_x(i, smccc::kHyperVUid[i]);
    } else {
      regs.set_x(0, smccc::kNotSupported);
    }
    HypercallOutcome outcome;
    outcome.is_hypercall = false;
    outcome.registers_written = true;
    return outcome;
  }

  HvConfig config;
  SyntheticRegisters registers;
  detail::HypercallDispatcher dispatcher;
  CrashMsrs crash;
  CrashRegisterNames crash_names;
  PsciService* psci = nullptr;
};

Arm64Hypervisor::Arm64Hypervisor(Partition& partition, HvConfig config, const TimeSource& time) {
  if (config.arch != HvArch::aarch64) throw std::invalid_argument("Arm64Hypervisor needs an aarch64 HvConfig");
  impl_ = std::make_unique<Impl>(partition, config, time);
}

Arm64Hypervisor::~Arm64Hypervisor() = default;

HypercallOutcome Arm64Hypervisor::hvc(std::uint32_t vp, Vtl vtl, std::uint16_t imm, Arm64Registers& regs) {
  switch (imm) {
    case kHvcImmHyperV:
      return impl_->hypercall(vp, vtl, kNativeLayout, regs);
    case kHvcImmSmccc: {
      const std::uint64_t function = regs.get_x(0) & kFunctionIdMask;
      if (function == smccc::kHvHypercall) return impl_->hypercall(vp, vtl, kSmcccLayout, regs);
      return impl_->smccc_service(vp, regs, function);
    }
    default: {
      HypercallOutcome outcome;
      outcome.action = HypercallAction::not_mine;
      outcome.is_hypercall = false;
      return outcome;
    }
  }
}

void Arm64Hypervisor::set_psci(PsciService* psci) { impl_->psci = psci; }

void Arm64Hypervisor::set_crash_listener(std::function<void(const GuestCrashReport&)> listener) {
  impl_->crash.set_listener(std::move(listener));
}

const HvConfig& Arm64Hypervisor::config() const { return impl_->config; }

SyntheticRegisters& Arm64Hypervisor::registers() { return impl_->registers; }

}  // namespace softsynic
