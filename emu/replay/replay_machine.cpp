// ReplayMachine: see replay_machine.h.
#include "emu/replay/replay_machine.h"

#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "cpu_hooks/arm64_hypervisor.h"
#include "cpu_hooks/hv_config.h"
#include "cpu_hooks/register_owner.h"
#include "cpu_hooks/x86_hypervisor.h"
#include "devices/apic/apic_msr_handler.h"
#include "devices/apic/apic_registers.h"
#include "devices/apic/local_apic.h"
#include "devices/arm64/gic_registers.h"
#include "devices/arm64/interrupt_line.h"
#include "synic/timers/advance_time.h"
#include "synic/tsc_source.h"

namespace softsynic::replay {
namespace {

std::vector<RamGuestMemory::Region> regions_of(const Machine& m) {
  std::vector<RamGuestMemory::Region> out;
  for (const auto& r : m.memory) out.push_back({r.gpa, r.size});
  return out;
}

HvConfig config_of(const Machine& m) {
  HvConfig c;
  c.arch = m.arch == TraceArch::x86_64 ? HvArch::x86_64 : HvArch::aarch64;
  c.vendor = m.vendor == TraceVendor::amd ? X86Vendor::amd : X86Vendor::intel;
  c.features.stimers = true;
  c.features.direct_timers = true;
  c.features.reference_tsc = m.tsc_frequency_hz != 0;
  return c;
}

constexpr std::uint8_t kReplayPpiPriority = 0x80;

}  // namespace

// One controller per (VP, VTL), indexed vp * vtl_count + vtl.
struct ReplayMachine::Controllers {
  std::unique_ptr<FixedRateTsc> tsc;  // machine.tsc_frequency_hz; outlives x86
  std::unique_ptr<X86Hypervisor> x86;
  std::unique_ptr<Arm64Hypervisor> arm64;
  std::vector<std::unique_ptr<devices::LocalApic>> apics;
  std::vector<std::unique_ptr<devices::InterruptLine>> lines;
  std::vector<std::vector<std::uint32_t>> acknowledged;  // GIC: INTIDs not yet EOIed, most recent last
  std::unique_ptr<devices::ApicMsrHandler> apic_msrs;
  // Lives as long as the hypervisor that calls it.
  std::unique_ptr<RegisterOwnerRef<SyntheticTimers>> stimer_owner;
};

ReplayMachine::ReplayMachine(const Machine& machine)
    : machine_(machine), memory_(regions_of(machine)), controllers_(std::make_unique<Controllers>()) {
  PartitionConfig pc;
  pc.vp_count = machine.vp_count;
  pc.vtl_count = machine.vtl_count;
  partition_ = std::make_unique<Partition>(pc, memory_, executor_.executor());
  auto& c = *controllers_;
  const std::size_t count = std::size_t{machine.vp_count} * machine.vtl_count;
  const HvConfig config = config_of(machine);
  if (machine.arch == TraceArch::x86_64) {
    c.x86 = std::make_unique<X86Hypervisor>(*partition_, config, clock_);
    if (machine.tsc_frequency_hz != 0) {
      c.tsc = std::make_unique<FixedRateTsc>(machine.tsc_frequency_hz);
      c.x86->set_tsc_source(c.tsc.get());
    }
    for (std::size_t i = 0; i < count; ++i) {
      devices::LocalApicConfig ac;
      ac.apic_id = static_cast<std::uint32_t>(i / machine.vtl_count);
      ac.bsp = ac.apic_id == 0;
      auto apic = std::make_unique<devices::LocalApic>(ac);
      apic->mmio_write(devices::apic::reg::kSvr, 0x1FF);  // software enabled, spurious vector 0xFF
      apic->attach_synic(partition_->vp(ac.apic_id), static_cast<Vtl>(i % machine.vtl_count));
      c.apics.push_back(std::move(apic));
    }
    c.apic_msrs = std::make_unique<devices::ApicMsrHandler>([this](std::uint32_t vp, Vtl vtl) -> devices::LocalApic* {
      if (vp >= machine_.vp_count || vtl >= machine_.vtl_count) return nullptr;
      return controllers_->apics[std::size_t{vp} * machine_.vtl_count + vtl].get();
    });
    c.x86->msr_chain().append(*c.apic_msrs);
  } else {
    c.arm64 = std::make_unique<Arm64Hypervisor>(*partition_, config, clock_);
    for (std::size_t i = 0; i < count; ++i) {
      auto line = std::make_unique<devices::InterruptLine>();
      line->write_sysreg(devices::gic::icc::kIgrpen1, 1);
      line->write_sysreg(devices::gic::icc::kPmr, 0xFF);
      line->gicr_write(devices::gic::gicr::kIsenabler0, 0xFFFFFFFF);
      for (std::uint32_t intid = 0; intid < devices::gic::kLocalIntids; ++intid)
        line->set_priority(intid, kReplayPpiPriority);
      line->attach_synic(partition_->vp(static_cast<std::uint32_t>(i / machine.vtl_count)),
                         static_cast<Vtl>(i % machine.vtl_count));
      c.lines.push_back(std::move(line));
    }
    c.acknowledged.resize(count);
  }

  // Synthetic timers: the STIMER MSRs and register names on either front
  // end, direct mode raising its vector on the (VP, VTL)'s own controller.
  timers_ = std::make_unique<SyntheticTimers>(*partition_, clock_,
                                              SyntheticTimersConfig{.direct_mode = config.features.direct_timers});
  c.stimer_owner = std::make_unique<RegisterOwnerRef<SyntheticTimers>>(*timers_);
  if (c.x86) {
    c.x86->registers().add_owner(*c.stimer_owner);
  } else {
    c.arm64->registers().add_owner(*c.stimer_owner);
  }
  for (std::size_t i = 0; i < count; ++i) {
    InterruptSink* sink = c.x86 ? static_cast<InterruptSink*>(c.apics[i].get()) : c.lines[i].get();
    timers_->vp(static_cast<std::uint32_t>(i / machine.vtl_count))
        .set_interrupt_sink(static_cast<Vtl>(i % machine.vtl_count), sink);
  }
}

ReplayMachine::~ReplayMachine() {
  // Strand work may still refer to the controllers: finish it first.
  settle();
}

void ReplayMachine::advance_time(std::uint64_t ticks_100ns) {
  softsynic::advance_time(clock_, *timers_, executor_, ticks_100ns);
}

template <typename F>
auto ReplayMachine::on_strand(std::uint32_t vp, F&& f) {
  using R = decltype(f());
  if constexpr (std::is_void_v<R>) {
    boost::asio::post(partition_->vp(vp).strand(), std::forward<F>(f));
    settle();
  } else {
    std::optional<R> result;
    boost::asio::post(partition_->vp(vp).strand(), [&] { result.emplace(f()); });
    settle();
    return std::move(*result);
  }
}

MsrResult ReplayMachine::wrmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value) {
  return on_strand(vp, [&] {
    before(vp, vtl);
    const MsrResult r = controllers_->x86->wrmsr(vp, vtl, msr, value);
    if (cpu_observer_) cpu_observer_->on_wrmsr(vp, vtl, msr, value, r);
    return r;
  });
}

MsrResult ReplayMachine::rdmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t& value) {
  return on_strand(vp, [&] {
    before(vp, vtl);
    const MsrResult r = controllers_->x86->rdmsr(vp, vtl, msr, value);
    if (cpu_observer_) cpu_observer_->on_rdmsr(vp, vtl, msr, value, r);
    return r;
  });
}

HypercallOutcome ReplayMachine::x86_hypercall(std::uint32_t vp, Vtl vtl, X86RegisterFile& regs) {
  return on_strand(vp, [&] {
    before(vp, vtl);
    const X86RegisterFile regs_before = regs;
    const HypercallOutcome o = controllers_->x86->hypercall(vp, vtl, regs);
    if (cpu_observer_) cpu_observer_->on_x86_hypercall(vp, vtl, regs_before, regs, o);
    return o;
  });
}

HypercallOutcome ReplayMachine::arm64_hvc(std::uint32_t vp, Vtl vtl, std::uint16_t imm, Arm64RegisterFile& regs) {
  return on_strand(vp, [&] {
    before(vp, vtl);
    const Arm64RegisterFile regs_before = regs;
    const HypercallOutcome o = controllers_->arm64->hvc(vp, vtl, imm, regs);
    if (cpu_observer_) cpu_observer_->on_arm64_hvc(vp, vtl, imm, regs_before, regs, o);
    return o;
  });
}

std::optional<std::uint32_t> ReplayMachine::pending_interrupt(std::uint32_t vp, Vtl vtl) {
  const std::size_t i = std::size_t{vp} * machine_.vtl_count + vtl;
  return on_strand(vp, [&]() -> std::optional<std::uint32_t> {
    if (machine_.arch == TraceArch::x86_64) {
      if (auto v = controllers_->apics[i]->pending_vector()) return *v;
      return std::nullopt;
    }
    auto& line = *controllers_->lines[i];
    if (!line.irq_asserted()) return std::nullopt;
    return line.highest_pending();
  });
}

std::optional<std::uint32_t> ReplayMachine::take_interrupt(std::uint32_t vp, Vtl vtl) {
  const std::size_t i = std::size_t{vp} * machine_.vtl_count + vtl;
  return on_strand(vp, [&]() -> std::optional<std::uint32_t> {
    before(vp, vtl);
    std::optional<std::uint32_t> taken;
    if (machine_.arch == TraceArch::x86_64) {
      if (auto v = controllers_->apics[i]->accept()) taken = *v;
    } else {
      const std::uint32_t intid = controllers_->lines[i]->acknowledge();
      if (intid != devices::gic::kSpuriousIntid) {
        controllers_->acknowledged[i].push_back(intid);
        taken = intid;
      }
    }
    if (taken && cpu_observer_) cpu_observer_->on_interrupt_taken(vp, vtl, *taken);
    return taken;
  });
}

bool ReplayMachine::eoi(std::uint32_t vp, Vtl vtl) {
  const std::size_t i = std::size_t{vp} * machine_.vtl_count + vtl;
  return on_strand(vp, [&] {
    before(vp, vtl);
    bool in_service = false;
    if (machine_.arch == TraceArch::x86_64) {
      auto& apic = *controllers_->apics[i];
      in_service = !apic.isr().empty();
      apic.eoi();
    } else if (auto& stack = controllers_->acknowledged[i]; !stack.empty()) {
      controllers_->lines[i]->end_of_interrupt(stack.back());
      stack.pop_back();
      in_service = true;
    }
    if (cpu_observer_) cpu_observer_->on_eoi(vp, vtl);
    return in_service;
  });
}

}  // namespace softsynic::replay
