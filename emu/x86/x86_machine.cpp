// X86Machine: partition-wide x86-64 objects and the engine factory.
#include "emu/x86/x86_machine.h"

#include <algorithm>

#include <stdexcept>
#include <string>

#include "devices/pc/acpi_pm_device.h"
#include "devices/pc/cmos_rtc.h"
#include "devices/pc/fw_cfg.h"
#include "devices/pc/hyperv_test_device.h"
#include "devices/pc/legacy_pc_ports.h"
#include "devices/pc/pci_config_ports.h"
#include "emu/x86/debug_ports.h"
#include "emu/x86/x86_boot.h"
#include "emu/x86/x86_engine.h"
#include "synic/defs/hypercall.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"
#include "synic/timers/synthetic_timers.h"

namespace softsynic::emu::x86 {

HvConfig X86Machine::make_hv_config(const MachineConfig& config) {
  if (config.ram == nullptr || config.partition == nullptr || config.time == nullptr || config.host == nullptr) {
    throw std::invalid_argument("x86-64 machine: ram, partition, time and host are required");
  }
  if (config.platform == Platform::virt) throw std::invalid_argument("x86-64 machine: the virt platform is ARM64's");
  HvConfig hv;
  hv.arch = HvArch::x86_64;
  // The engine hooks SYSCALL; VMCALL costs an exit (until its site is
  // patched to SYSCALL too).
  hv.hypercall_code = std::array<std::uint8_t, 4>{kTwoByteOpcode, kSyscallOpcode, kRetOpcode, kInt3Opcode};
  if (config.timers != nullptr) {
    hv.features.stimers = true;
    hv.features.direct_timers = config.timers->config().direct_mode;
  }
  // RDTSC follows reference time at a fixed rate: offer the reference TSC
  // page and report that rate.
  hv.features.reference_tsc = true;
  hv.tsc_frequency_hz = kTscFrequencyHz;
  for (const auto& name : config.features_off) {
    if (!set_hv_feature(hv.features, name, false)) throw std::invalid_argument("unknown feature: " + name);
  }
  return hv;
}

X86Machine::X86Machine(const MachineConfig& config)
    : config_(config),
      tsc_(kTscFrequencyHz),
      hv_(*config.partition, make_hv_config(config), *config.time) {
  hv_.set_tsc_source(&tsc_);
  std::uint64_t ram_end = 0;
  for (const auto& region : config_.ram->regions()) ram_end = std::max(ram_end, region.gpa + region.size);
  code_frames_ = std::make_unique<X86CodeFrames>(ram_end / 0x1000, config_.vp_count);
  // The pc platform's tables live in each engine's ROM (pc_firmware.h).
  if (config_.platform == Platform::bare) write_boot_tables(*config_.ram);
  add_platform_devices();
  for (std::uint32_t vp = 0; vp < config_.vp_count; ++vp) {
    devices::LocalApicConfig apic_config;
    apic_config.apic_id = vp;
    apic_config.bsp = vp == 0;
    auto apic = std::make_unique<devices::LocalApic>(apic_config);
    // The APIC timer counts in reference time at the rate the APIC
    // frequency MSR reports.
    apic->set_time_source(config_.time, hv_.config().apic_frequency_hz);
    apic->attach_synic(config_.partition->vp(vp), 0);
    bus_.attach(*apic);
    apics_.push_back(std::move(apic));
  }
  // Only VTL 0 has an APIC in the reference emulator.
  apic_msrs_ = std::make_unique<devices::ApicMsrHandler>([this](std::uint32_t vp, Vtl vtl) {
    return vtl == 0 && vp < apics_.size() ? apics_[vp].get() : nullptr;
  });
  hv_.msr_chain().append(*apic_msrs_);
  if (config_.timers != nullptr) {
    // STIMER MSRs reach the timers through the register owners; direct
    // mode raises its vector on the VP's APIC.
    for (std::uint32_t vp = 0; vp < config_.vp_count; ++vp) config_.timers->vp(vp).set_interrupt_sink(0, apics_[vp].get());
    stimer_owner_ = std::make_unique<RegisterOwnerRef<SyntheticTimers>>(*config_.timers);
    hv_.registers().add_owner(*stimer_owner_);
  }
  hv_.set_crash_listener([this](const GuestCrashReport& report) { config_.host->guest_crash(report); });
  // Enabling or moving the hypercall page writes guest code: every engine
  // must drop what it translated from the old and the new page.
  hv_.set_hypercall_page_listener([this](Vtl, std::optional<std::uint64_t> gpa) {
    if (hypercall_page_) config_.host->code_written(current_vp_, *hypercall_page_, kHvPageSize);
    if (gpa) config_.host->code_written(current_vp_, *gpa, kHvPageSize);
    hypercall_page_ = gpa;
  });
}

X86Machine::~X86Machine() = default;

void X86Machine::add_platform_devices() {
  EngineHost& host = *config_.host;
  auto add = [this](std::uint16_t first, std::uint16_t count, std::unique_ptr<devices::IoPortDevice> device) {
    io_.add(first, count, *device);
    devices_.push_back(std::move(device));
  };
  if (config_.platform == Platform::bare) {
    add(kX86ConsolePort, 1, std::make_unique<DebugConsolePort>(host));
    add(kX86ExitPort, 1, std::make_unique<DebugExitPort>(host));
    return;
  }
  using namespace devices;
  io_apic_ = std::make_unique<IoApic>(bus_);
  auto serial = std::make_unique<Serial16550>(Serial16550::kCom1, [&host](std::uint32_t vp, char c) { host.console_write(vp, c); });
  // ISA IRQ 4 is I/O APIC pin 4 (the MADT has no override for it).
  serial->set_irq([ioapic = io_apic_.get()](bool level) { ioapic->set_line(Serial16550::kCom1Irq, level); });
  serial_ = serial.get();
  add(Serial16550::kCom1, Serial16550::kPortCount, std::move(serial));
  add(IsaDebugExit::kPort, IsaDebugExit::kPortCount,
      std::make_unique<IsaDebugExit>([&host](std::uint32_t vp, std::uint32_t status) { host.guest_exit(vp, status); }));
  std::uint64_t ram_bytes = 0;
  for (const auto& region : config_.ram->regions()) ram_bytes += region.size;
  add(FwCfg::kSelectorPort, FwCfg::kPortCount, std::make_unique<FwCfg>(config_.vp_count, ram_bytes));
  auto pic = std::make_unique<LegacyPic>();
  io_.add(LegacyPic::kSlaveBase, LegacyPic::kPortCount, *pic);
  add(LegacyPic::kMasterBase, LegacyPic::kPortCount, std::move(pic));
  add(HypervTestDevice::kPort, HypervTestDevice::kPortCount,
      std::make_unique<HypervTestDevice>(*config_.partition, config_.device_log));
  add(CmosRtc::kIndexPort, CmosRtc::kPortCount, std::make_unique<CmosRtc>(*config_.time));
  add(PciConfigPorts::kConfigAddress, PciConfigPorts::kPortCount, std::make_unique<PciConfigPorts>());
  // ACPI power-off (S5) ends the run with status 0 (the FADT's ports).
  auto pm = std::make_unique<AcpiPmDevice>(acpi::PmLayout{}, [&host](std::uint32_t vp) { host.guest_exit(vp, 0); });
  pm->attach(io_);
  devices_.push_back(std::move(pm));
}

std::size_t X86Machine::console_input(std::span<const std::uint8_t> bytes) {
  return serial_ != nullptr ? serial_->receive(bytes) : 0;
}

std::unique_ptr<VpEngine> X86Machine::make_engine(const EngineConfig& config) {
  if (config.vp_index >= config_.vp_count) throw std::invalid_argument("VP index out of range");
  if ((config.start == StartMode::boot_contract) != (config_.platform == Platform::bare)) {
    throw std::invalid_argument("x86-64: the bare platform starts VPs by the boot contract, the pc platform does not");
  }
  return std::make_unique<X86Engine>(*this, config);
}

}  // namespace softsynic::emu::x86

namespace softsynic::emu {

std::unique_ptr<ArchMachine> make_x86_64_machine(const MachineConfig& config) {
  return std::make_unique<x86::X86Machine>(config);
}

}  // namespace softsynic::emu
