// X86Machine: the x86-64 side of the reference emulator for one partition:
// the X86Hypervisor (hypercalls, MSRs, CPUID), one LocalApic per VP on an
// ApicBus (the SynIC's interrupt sinks, and the synthetic timers' direct-mode
// sinks when the machine has timers), the port I/O devices of its platform
// (bare: the debug console and exit ports, and the boot tables in RAM; pc:
// see docs/PC_PLATFORM.md, with an I/O APIC on the same bus that COM1's
// interrupt reaches as ISA IRQ 4 on pin 4), and the factory of X86Engine
// (one Unicorn engine per VP over the shared RAM).
//
// Threading: set-up (constructor, make_engine) on the runner's thread
// before any VP runs; afterwards the members are used from the VPs'
// strands as their own headers say.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "cpu_hooks/register_owner.h"
#include "cpu_hooks/x86_hypervisor.h"
#include "devices/apic/apic_bus.h"
#include "devices/apic/apic_msr_handler.h"
#include "devices/apic/io_apic.h"
#include "devices/apic/local_apic.h"
#include "devices/pc/io_port_device.h"
#include "devices/pc/serial_16550.h"
#include "devices/x86_interrupt_entry.h"
#include "emu/vp_engine.h"
#include "emu/x86/x86_code_frames.h"
#include "synic/tsc_source.h"

namespace softsynic::emu::x86 {

inline constexpr std::uint64_t kXapicBase = 0xFEE0'0000;
// The hypercall page holds `syscall; ret`: a SYSCALL at the page's first
// byte is a hypercall (the engine hooks SYSCALL; elsewhere it is the
// guest's own). Unicorn ends the block after it and honours the RIP a #UD
// sets (from CPL > 0), which it does not after an OUT or CPUID hook.
inline constexpr std::uint8_t kTwoByteOpcode = 0x0F;
inline constexpr std::uint8_t kSyscallOpcode = 0x05;
inline constexpr std::uint8_t kRetOpcode = 0xC3;
inline constexpr std::uint8_t kInt3Opcode = 0xCC;

class X86Machine final : public ArchMachine {
 public:
  explicit X86Machine(const MachineConfig& config);
  ~X86Machine() override;

  Arch arch() const override { return Arch::x86_64; }
  std::unique_ptr<VpEngine> make_engine(const EngineConfig& config) override;

  const MachineConfig& config() const { return config_; }
  X86Hypervisor& hypervisor() { return hv_; }
  devices::LocalApic& apic(std::uint32_t vp) { return *apics_.at(vp); }
  // The pc platform's I/O APIC (MMIO at ioapic::kDefaultBase; nullptr on
  // the bare platform). Thread-safe.
  devices::IoApic* io_apic() { return io_apic_.get(); }
  // pc: bytes for COM1's receiver (thread-safe). Returns how many it took.
  std::size_t console_input(std::span<const std::uint8_t> bytes) override;
  // Port I/O: the platform's devices (thread-safe once running).
  const devices::IoPortBus& io() const { return io_; }
  // The engine about to call into the hypervisor, so the hypercall page
  // listener can name the writer.
  void set_current_vp(std::uint32_t vp) { current_vp_ = vp; }
  // Which frames hold code the VPs' engines translated (shared by them).
  X86CodeFrames& code_frames() { return *code_frames_; }

 private:
  static HvConfig make_hv_config(const MachineConfig& config);

  MachineConfig config_;
  // The engines' RDTSC as a function of reference time (X86Engine::read_tsc):
  // the reference TSC page and TSC_FREQUENCY describe it. Outlives hv_.
  FixedRateTsc tsc_;
  X86Hypervisor hv_;
  devices::ApicBus bus_;
  std::unique_ptr<devices::IoApic> io_apic_;  // pc
  devices::Serial16550* serial_ = nullptr;    // pc: COM1, in devices_
  std::vector<std::unique_ptr<devices::LocalApic>> apics_;
  std::unique_ptr<devices::ApicMsrHandler> apic_msrs_;
  std::optional<std::uint64_t> hypercall_page_;
  std::uint32_t current_vp_ = 0;
  std::unique_ptr<RegisterOwner> stimer_owner_;  // config_.timers, when set
  std::unique_ptr<X86CodeFrames> code_frames_;
  void add_platform_devices();
  devices::IoPortBus io_;
  std::vector<std::unique_ptr<devices::IoPortDevice>> devices_;
};

}  // namespace softsynic::emu::x86
