// x86-64 hypercall ABI, hypervisor MSRs and the hypercall page (TLFS
// "Hypercall Interface", "Hypercall Page", "Synthetic MSRs").
#include "cpu_hooks/x86_hypervisor.h"

#include <array>
#include <atomic>
#include <mutex>
#include <stdexcept>

#include "cpu_hooks/crash_msrs.h"
#include "cpu_hooks/reference_time_msrs.h"
#include "cpu_hooks/src/hypercall_dispatcher.h"
#include "cpu_hooks/vp_assist_msr.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"
#include "synic/partition.h"

namespace softsynic {

namespace {

constexpr std::uint8_t kInt3 = 0xCC;
constexpr unsigned kXmmInputRegisters = 6;  // XMM0-XMM5

std::uint64_t low32(std::uint64_t v) { return v & 0xFFFF'FFFF; }
std::uint64_t pair32(std::uint64_t high, std::uint64_t low) { return (low32(high) << 32) | low32(low); }

// Fast-call slots: RDX, R8, then XMM0-XMM5 halves (64-bit mode); EBX:ECX
// and EDI:ESI in the 32-bit convention.
class X86FastBlock final : public detail::FastRegisterBlock {
 public:
  X86FastBlock(X86Registers& regs, bool xmm) : regs_(regs), xmm_(xmm && regs.long_mode()) {}

  unsigned size() const override { return 2 + (xmm_ ? 2 * kXmmInputRegisters : 0); }

  std::uint64_t get(unsigned slot) const override {
    if (!regs_.long_mode()) {
      return slot == 0 ? pair32(regs_.get(X86Reg::rbx), regs_.get(X86Reg::rcx))
                       : pair32(regs_.get(X86Reg::rdi), regs_.get(X86Reg::rsi));
    }
    if (slot < 2) return regs_.get(slot == 0 ? X86Reg::rdx : X86Reg::r8);
    const Uint128 x = regs_.get_xmm((slot - 2) / 2);
    return slot % 2 == 0 ? x.low : x.high;
  }

  // Output only ever lands in XMM registers (it follows at least 16 bytes
  // of input, i.e. RDX and R8).
  void set(unsigned slot, std::uint64_t value) override {
    if (slot < 2 || slot >= size()) return;
    const unsigned n = (slot - 2) / 2;
    Uint128 x = regs_.get_xmm(n);
    (slot % 2 == 0 ? x.low : x.high) = value;
    regs_.set_xmm(n, x);
  }

 private:
  X86Registers& regs_;
  bool xmm_;
};

}  // namespace

std::array<std::uint8_t, 4> hypercall_page_prologue(X86Vendor vendor) {
  switch (vendor) {
    case X86Vendor::amd:
      return {0x0F, 0x01, 0xD9, 0xC3};  // vmmcall; ret
    case X86Vendor::intel:
    default:
      return {0x0F, 0x01, 0xC1, 0xC3};  // vmcall; ret
  }
}

// The hypervisor's own MSRs: the synthetic registers by name (SynIC,
// GUEST_OS_ID, VP_INDEX, TIME_REF_COUNT, STIMERs), then HYPERCALL.
struct X86Hypervisor::Impl final : MsrHandler {
  Impl(Partition& partition, const HvConfig& config, const TimeSource& time)
      : config(config),
        registers(partition, config, time),
        dispatcher(registers),
        reference_time(partition.memory(), config),
        vp_assist(partition.vp_count(), partition.vtl_count()),
        crash(partition.memory(), this->config) {
    registers.set_guest_os_id_listener([this](Vtl vtl, std::uint64_t id) {
      if (id == 0) disable_page(vtl);
    });
    chain.append(*this);
    chain.append(reference_time);
    chain.append(vp_assist);
    chain.append(crash);
  }

  MsrResult read(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value) override {
    if (msr == msr::kHypercall) {
      if (!config.features.hypercall || vtl >= registers.partition().vtl_count()) return MsrResult::gp;
      value = hypercall[vtl].load(std::memory_order_acquire);
      return MsrResult::ok;
    }
    const auto name = register_for_msr(msr);
    if (!name) return MsrResult::not_mine;
    if (!registers.visible(*name)) return MsrResult::gp;
    return msr_result_for(registers.read(vp, vtl, *name, value));
  }

  MsrResult write(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) override {
    if (msr == msr::kHypercall) return write_hypercall(vtl, HypercallReg(value));
    const auto name = register_for_msr(msr);
    if (!name) return MsrResult::not_mine;
    if (!registers.visible(*name)) return MsrResult::gp;
    return msr_result_for(registers.write(vp, vtl, *name, value));
  }

  MsrResult write_hypercall(Vtl vtl, HypercallReg value) {
    if (!config.features.hypercall || vtl >= registers.partition().vtl_count()) return MsrResult::gp;
    if ((value.raw() & ~HypercallReg::kDefinedBits) != 0) return MsrResult::gp;
    std::unique_lock lock(mutex);
    if (HypercallReg(hypercall[vtl].load(std::memory_order_relaxed)).locked()) return MsrResult::gp;
    // The page cannot be enabled before the guest has identified itself:
    // the write is kept with the enable bit clear, which the guest sees
    // when it reads the MSR back.
    if (value.enabled() && registers.guest_os_id(vtl) == 0) value = value.with_enabled(false);
    if (value.enabled() && !fill_page(value.gpa())) return MsrResult::gp;
    const bool was_enabled = HypercallReg(hypercall[vtl].load(std::memory_order_relaxed)).enabled();
    hypercall[vtl].store(value.raw(), std::memory_order_release);
    lock.unlock();
    if (value.enabled() || was_enabled) notify(vtl, value);
    return MsrResult::ok;
  }

  bool fill_page(std::uint64_t gpa) {
    std::array<std::byte, kHvPageSize> page;
    page.fill(std::byte{kInt3});
    const auto prologue = config.hypercall_code.value_or(hypercall_page_prologue(config.vendor));
    for (std::size_t i = 0; i < prologue.size(); ++i) page[i] = std::byte{prologue[i]};
    return registers.partition().memory().write(gpa, page);
  }

  void disable_page(Vtl vtl) {
    std::unique_lock lock(mutex);
    const HypercallReg old(hypercall[vtl].load(std::memory_order_relaxed));
    if (!old.enabled()) return;
    const HypercallReg now = old.with_enabled(false);
    hypercall[vtl].store(now.raw(), std::memory_order_release);
    lock.unlock();
    notify(vtl, now);
  }

  void notify(Vtl vtl, HypercallReg value) {
    if (!page_listener) return;
    page_listener(vtl, value.enabled() ? std::optional<std::uint64_t>(value.gpa()) : std::nullopt);
  }

  HvConfig config;
  SyntheticRegisters registers;
  detail::HypercallDispatcher dispatcher;
  ReferenceTimeMsrs reference_time;
  VpAssistMsr vp_assist;
  CrashMsrs crash;
  MsrChain chain;
  std::mutex mutex;  // serialises HYPERCALL writers (any VP's strand)
  std::array<std::atomic<std::uint64_t>, kMaxVtlCount> hypercall{};
  std::function<void(Vtl, std::optional<std::uint64_t>)> page_listener;
};

X86Hypervisor::X86Hypervisor(Partition& partition, HvConfig config, const TimeSource& time) {
  if (config.arch != HvArch::x86_64) throw std::invalid_argument("X86Hypervisor needs an x86_64 HvConfig");
  impl_ = std::make_unique<Impl>(partition, config, time);
}

X86Hypervisor::~X86Hypervisor() = default;

HypercallOutcome X86Hypervisor::hypercall(std::uint32_t vp, Vtl vtl, X86Registers& regs) {
  HypercallOutcome outcome;
  if (!impl_->config.features.hypercall) {
    outcome.action = HypercallAction::invalid_opcode;
    return outcome;
  }
  const bool long_mode = regs.long_mode();
  X86FastBlock fast(regs, impl_->config.features.xmm_fast_hypercalls);
  detail::HypercallArgs args;
  args.fast = &fast;
  args.gpas_are_fast_slots = true;
  if (long_mode) {
    static constexpr X86Reg kArgs[] = {X86Reg::rcx, X86Reg::rdx, X86Reg::r8};
    std::uint64_t v[3];
    regs.get_many(kArgs, v);
    args.control = HypercallControl(v[0]);
    args.input_gpa = v[1];
    args.output_gpa = v[2];
  } else {
    static constexpr X86Reg kArgs[] = {X86Reg::rdx, X86Reg::rax, X86Reg::rbx, X86Reg::rcx, X86Reg::rdi, X86Reg::rsi};
    std::uint64_t v[6];
    regs.get_many(kArgs, v);
    args.control = HypercallControl(pair32(v[0], v[1]));
    args.input_gpa = pair32(v[2], v[3]);
    args.output_gpa = pair32(v[4], v[5]);
  }
  const HypercallResult result = impl_->dispatcher.dispatch(vp, vtl, args);
  if (long_mode) {
    regs.set(X86Reg::rax, result.raw());
  } else {
    regs.set(X86Reg::rdx, result.raw() >> 32);
    regs.set(X86Reg::rax, low32(result.raw()));
  }
  outcome.status = result.status();
  outcome.reps_completed = result.reps_completed();
  outcome.registers_written = true;
  return outcome;
}

MsrResult X86Hypervisor::rdmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value) {
  return impl_->chain.read(vp, vtl, msr, value);
}

MsrResult X86Hypervisor::wrmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) {
  return impl_->chain.write(vp, vtl, msr, value);
}

MsrChain& X86Hypervisor::msr_chain() { return impl_->chain; }

std::optional<CpuidResult> X86Hypervisor::cpuid(std::uint32_t leaf, std::uint32_t /*subleaf*/) const {
  HvConfig shown = impl_->config;
  shown.features.reference_tsc = impl_->reference_time.offers_reference_tsc();
  return hv_cpuid(shown, impl_->registers.partition().vp_count(), leaf);
}

void X86Hypervisor::set_crash_listener(std::function<void(const GuestCrashReport&)> listener) {
  impl_->crash.set_listener(std::move(listener));
}

void X86Hypervisor::set_tsc_source(const TscSource* source) { impl_->reference_time.set_tsc_source(source); }

void X86Hypervisor::tsc_mapping_changed() { impl_->reference_time.tsc_mapping_changed(); }

std::optional<std::uint64_t> X86Hypervisor::hypercall_page_gpa(Vtl vtl) const {
  if (vtl >= kMaxVtlCount) return std::nullopt;
  const HypercallReg reg(impl_->hypercall[vtl].load(std::memory_order_acquire));
  return reg.enabled() ? std::optional<std::uint64_t>(reg.gpa()) : std::nullopt;
}

void X86Hypervisor::set_hypercall_page_listener(std::function<void(Vtl, std::optional<std::uint64_t>)> listener) {
  impl_->page_listener = std::move(listener);
}

std::uint64_t X86Hypervisor::hypercall_msr(Vtl vtl) const {
  return vtl < kMaxVtlCount ? impl_->hypercall[vtl].load(std::memory_order_acquire) : 0;
}

const HvConfig& X86Hypervisor::config() const { return impl_->config; }

SyntheticRegisters& X86Hypervisor::registers() { return impl_->registers; }

}  // namespace softsynic
