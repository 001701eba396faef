// LocalApic: one VP's local APIC, the x86-64 InterruptSink of the SynIC
// (Intel SDM vol. 3 "Advanced Programmable Interrupt Controller (APIC)" and
// "Extended xAPIC (x2APIC)"; TLFS "Synthetic APIC MSRs", "SINTx registers":
// auto-EOI, and KVM's rule that an EOI of a SINT's vector acts as EOM).
//
// Modelled: IRR/ISR/TMR, TPR/PPR, acceptance (IRR -> ISR, auto-EOI vectors
// without ISR), EOI of the highest ISR vector, the spurious vector register
// and software enable, APIC ID/version/LDR/DFR, ESR, the seven LVT entries
// (stored, readable, maskable), fixed / lowest-priority IPIs through an
// ApicBus (physical, logical flat/cluster, shorthands), INIT and SIPI
// recorded for the emulator, IA32_APIC_BASE (relocation, enable, x2APIC),
// the xAPIC MMIO page, the x2APIC MSRs with their #GP rules and the Hyper-V
// synthetic EOI/ICR/TPR MSRs.
// The APIC timer counts in reference time once set_time_source() gave the
// clock (devices/apic/apic_timer.h: one-shot and periodic; without a clock
// the registers are only stored and the current count reads 0).
// The EOI of a level-triggered vector (TMR set) is broadcast on the ApicBus
// to the I/O APICs (devices/apic/io_apic.h); directed EOI is not offered.
// Not modelled: TSC-deadline mode, NMI/SMI/ExtINT delivery (ignored),
// APR (reads 0), focus processor checking. Lowest-priority IPIs go
// to the first matching APIC. Fixed interrupts that arrive while the APIC is
// software- or globally disabled are discarded, as on hardware.
//
// Threading, per method:
//  - thread-safe (any thread): request_interrupt, deliver_fixed,
//    deliver_init, deliver_startup, take_startup_events, apic_id,
//    matches_destination, dropped_requests.
//  - set-up (before the VP runs, not concurrently with anything):
//    set_kick, attach_synic, ApicBus::attach.
//  - strand-affine (the VP's own thread: its CPU slice or strand work):
//    everything else: acceptance, EOI, register and MSR access, snapshots.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include "devices/apic/apic_registers.h"
#include "devices/apic/apic_timer.h"
#include "devices/apic/vector_set.h"
#include "synic/msr_handler.h"
#include "synic/defs/vtl.h"
#include "synic/interrupt_sink.h"

namespace softsynic {
class SynicVp;
class TimeSource;
}

namespace softsynic::devices {

class ApicBus;

struct LocalApicConfig {
  std::uint32_t apic_id = 0;  // initial APIC ID (x2APIC ID; xAPIC uses bits 0-7)
  bool bsp = false;            // IA32_APIC_BASE.BSP
  bool x2apic_supported = true;
  unsigned phys_addr_bits = 48;  // for IA32_APIC_BASE reserved bits
};

// INIT and SIPI received since the last take_startup_events().
struct StartupEvents {
  bool init = false;
  std::optional<std::uint8_t> sipi_vector;  // the most recent SIPI
  explicit operator bool() const { return init || sipi_vector.has_value(); }
};

class LocalApic final : public InterruptSink {
 public:
  explicit LocalApic(LocalApicConfig config = {});
  ~LocalApic() override;
  LocalApic(const LocalApic&) = delete;
  LocalApic& operator=(const LocalApic&) = delete;

  // ---- set-up ----
  // Called after every request that made an interrupt (or INIT/SIPI)
  // pending, on the requesting thread: wake a halted vCPU, stop a running
  // slice. Must be thread-safe and must not call back into this APIC's
  // strand-affine methods.
  void set_kick(std::function<void()> kick);
  // Set-up: the reference clock the timer counts in, and its input clock.
  void set_time_source(const TimeSource* time, std::uint64_t timer_hz);
  // Strand-affine: the timer's next expiry (reference time), and the
  // expiry itself once `now` has reached it (raises the LVT timer vector
  // unless masked; periodic mode re-arms).
  std::optional<std::uint64_t> timer_deadline() const { return time_ != nullptr ? timer_.deadline() : std::nullopt; }
  void fire_timer(std::uint64_t now);
  // Makes this APIC the interrupt sink of vp at vtl, and EOIs of
  // non-auto-EOI vectors call vp.on_eoi(vtl, vector) (EOI acts as EOM).
  void attach_synic(SynicVp& vp, Vtl vtl);

  // ---- thread-safe ----
  // InterruptSink: a fixed interrupt. Sets IRR (and records auto-EOI for the
  // vector) lock-free, then kicks. Vectors below 16 or above 255 are dropped
  // (receive-illegal-vector in ESR); so are requests while disabled.
  void request_interrupt(std::uint32_t vector, bool auto_eoi) override;
  // A fixed IPI from the bus (edge, no auto-EOI); level marks TMR.
  void deliver_fixed(std::uint8_t vector, bool level_triggered);
  void deliver_init();
  void deliver_startup(std::uint8_t vector);
  StartupEvents take_startup_events();
  std::uint32_t apic_id() const;  // current ID (x2APIC ID, or xAPIC ID bits 0-7)
  // Does a (physical or logical) destination of the current mode name this
  // APIC? Broadcast destinations included.
  bool matches_destination(std::uint32_t destination, bool logical) const;
  std::uint64_t dropped_requests() const;

  // ---- strand-affine: the CPU side ----
  // The vector the CPU would take now (highest IRR above PPR, APIC enabled),
  // ignoring RFLAGS.IF; use it for HLT wake-up as well.
  std::optional<std::uint8_t> pending_vector() const;
  // INTA: takes pending_vector() out of IRR; into ISR unless it was
  // requested as auto-EOI. nullopt when nothing is deliverable.
  std::optional<std::uint8_t> accept();
  // EOI: retires the highest ISR vector; for a vector the SynIC uses, calls
  // SynicVp::on_eoi. No effect when ISR is empty.
  void eoi();

  // ---- strand-affine: register interfaces ----
  // MsrResult is the MSR handler interface's (synic/msr_handler.h);
  // ApicMsrHandler puts a partition's APICs in that chain.
  // IA32_APIC_BASE, x2APIC MSRs 0x800-0x8FF (x2APIC mode only), Hyper-V
  // 0x40000070-72; not_mine for any other MSR.
  MsrResult read_msr(std::uint32_t msr, std::uint64_t& value);
  MsrResult write_msr(std::uint32_t msr, std::uint64_t value);
  // xAPIC MMIO page, claimed when the APIC is globally enabled in xAPIC mode.
  bool mmio_claims(std::uint64_t gpa) const;
  // 32-bit access at `offset` in the page (only the low 4 bytes of each 16
  // are registers; other bytes read 0 and ignore writes). Unknown offsets
  // read 0 and set ESR's illegal-register bit on write.
  std::uint32_t mmio_read(std::uint32_t offset);
  void mmio_write(std::uint32_t offset, std::uint32_t value);

  // ---- strand-affine: state snapshots ----
  VectorSet irr() const;
  VectorSet isr() const { return isr_; }
  VectorSet tmr() const { return tmr_; }
  std::uint8_t tpr() const { return tpr_; }
  std::uint8_t ppr() const;
  apic::SvrReg svr() const { return svr_; }
  apic::LvtReg lvt(apic::LvtIndex index) const;
  apic::ApicBaseReg apic_base() const { return base_; }
  bool x2apic_mode() const { return base_.enabled() && base_.x2apic(); }
  bool software_enabled() const { return base_.enabled() && svr_.software_enabled(); }
  std::uint32_t esr() const { return esr_; }
  apic::IcrReg icr() const { return icr_; }

  // Sends an IPI as if the guest wrote `icr` (x2APIC layout for the
  // destination in x2APIC mode, xAPIC layout otherwise). Without a bus only
  // the self shorthand and self-addressed IPIs arrive.
  void send_ipi(apic::IcrReg icr);

 private:
  friend class ApicBus;
  MsrResult read_x2apic(std::uint32_t offset, std::uint64_t& value);
  MsrResult write_x2apic(std::uint32_t offset, std::uint64_t value);
  std::optional<std::uint32_t> read_register(std::uint32_t offset) const;
  void write_register(std::uint32_t offset, std::uint32_t value);
  MsrResult write_apic_base(std::uint64_t value);
  void reset_registers();
  void update_enabled();
  void post(std::uint8_t vector, bool auto_eoi, bool level);
  void drop(std::uint32_t esr_bit);
  void kick();
  bool accepting() const;

  LocalApicConfig config_;
  std::function<void()> kick_;
  // Set by attach_synic; kept as a function so the SynIC is linked only
  // when it is used.
  std::function<void(std::uint32_t vector)> on_eoi_;
  ApicBus* bus_ = nullptr;

  // Shared with other threads.
  AtomicVectorSet irr_;
  AtomicVectorSet auto_eoi_;  // vectors last requested as auto-EOI
  AtomicVectorSet level_;     // vectors last requested level-triggered (TMR)
  std::atomic<std::uint32_t> id_;
  std::atomic<std::uint32_t> ldr_{0};
  std::atomic<std::uint32_t> dfr_{0xFFFFFFFF};
  std::atomic<bool> enabled_{true};     // globally and software enabled
  std::atomic<bool> x2apic_{false};
  std::atomic<std::uint32_t> esr_pending_{0};
  std::atomic<bool> init_pending_{false};
  std::atomic<std::int32_t> sipi_pending_{-1};
  std::atomic<std::uint64_t> dropped_{0};

  // VP thread only.
  VectorSet isr_;
  VectorSet tmr_;
  std::uint8_t tpr_ = 0;
  apic::SvrReg svr_;
  apic::ApicBaseReg base_;
  std::array<apic::LvtReg, apic::kLvtCount> lvt_{};
  apic::IcrReg icr_;
  std::uint32_t esr_ = 0;
  std::uint32_t timer_initial_ = 0;
  ApicTimer timer_;
  const TimeSource* time_ = nullptr;
  std::uint32_t timer_divide_ = 0;
};

}  // namespace softsynic::devices
