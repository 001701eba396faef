// SyntheticTimers: the four synthetic timers (STIMER0-3) of every VP and
// VTL of a partition, built on the core's public API (TLFS "Synthetic
// Timers", "Synthetic Timer MSRs", "Direct Synthetic Timers").
//
// Expiry: message mode posts HvMessageType::timer_expired (0x80000010) with
// TimerMessagePayload {timer index, 0, expiration time, delivery time} to
// (VTL, VP, CONFIG.SINT) through Partition::post_message, so it shares the
// FIFO queue of host messages and the core's busy-slot rules
// (message_pending, EOM). When the queue is full the expiry waits for room
// (async_post_message) and that timer hands over nothing else meanwhile.
// Direct mode requests CONFIG.vector on the VP's interrupt sink (not
// auto-EOI); a request carries no count, so missed direct-mode expiries
// coalesce into one. Register rules and the no-drift schedule: stimer.h.
//
// Time: the component never reads a clock on its own initiative. It reads
// the injected TimeSource when a register is written and when the emulator
// calls fire_due() after time moved; next_deadline() says when to call it
// next (a halted VP can sleep until then). advance_time.h steps a
// VirtualClock through every deadline for deterministic runs.
//
// Drop on reconfigure: an accepted CONFIG or COUNT write withdraws the
// timer's expiries that have not reached the SIMP slot, queued or waiting
// for room (SynicVp::withdraw_messages), as KVM does: a stopped timer never
// fires later. One already in the slot is the guest's and stays; a
// direct-mode vector already requested stays with the interrupt controller.
// Not supported: the synthetic timers of the TLFS "APIC timer";
// save/restore.
//
// Threading, per method:
//  - thread-safe: vp(), vp_count(), next_deadline() (both classes),
//    StimerVp::index(), StimerVp::strand().
//  - before the VP runs: StimerVp::set_interrupt_sink().
//  - strand-affine (the VP's SynicVp strand): read_register(),
//    write_register(), fire_due(), config(), count().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "synic/defs/registers.h"
#include "synic/defs/vtl.h"
#include "synic/interrupt_sink.h"
#include "synic/register_access.h"
#include "synic/synic_vp.h"
#include "synic/time_source.h"
#include "synic/timers/stimer.h"

namespace softsynic {

class Partition;

struct SyntheticTimersConfig {
  // Accept CONFIG.direct_mode (advertise CPUID 0x40000003 EDX bit 19 with
  // the same switch). Off: bit 12 is a reserved bit (invalid).
  bool direct_mode = true;
};

inline constexpr unsigned kStimersPerVp = 4;

class StimerVp {
 public:
  std::uint32_t index() const;
  SynicVp::Strand& strand();

  // Where direct-mode timers of `vtl` raise their vector. Without one, a
  // direct-mode expiry is dropped.
  void set_interrupt_sink(Vtl vtl, InterruptSink* sink);

  // STIMERn_CONFIG / STIMERn_COUNT by register name. unknown: any other
  // name; invalid: vtl out of range, CONFIG reserved bits, direct mode not
  // offered, direct-mode vector below 16. A write that leaves an expiry due
  // fires it before returning (one-shot in the past).
  RegisterAccess read_register(Vtl vtl, HvRegisterName name, std::uint64_t& value);
  RegisterAccess write_register(Vtl vtl, HvRegisterName name, std::uint64_t value);

  // Hands over every expiry due at TimeSource::now(), in schedule order.
  void fire_due();

  // Earliest due time among this VP's timers that are not waiting for
  // queue room; nullopt when none is armed. May be <= now (call fire_due).
  std::optional<std::uint64_t> next_deadline() const;

  // Register snapshots, for tools and tests. n < 4, vtl in range.
  StimerConfigReg config(Vtl vtl, unsigned n) const;
  std::uint64_t count(Vtl vtl, unsigned n) const;

  ~StimerVp();
  StimerVp(const StimerVp&) = delete;
  StimerVp& operator=(const StimerVp&) = delete;

 private:
  friend class SyntheticTimers;
  struct State;
  explicit StimerVp(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

class SyntheticTimers {
 public:
  // Partition and time source must outlive this object; destroy it before
  // the partition.
  SyntheticTimers(Partition& partition, const TimeSource& time, SyntheticTimersConfig config = {});
  ~SyntheticTimers();
  SyntheticTimers(const SyntheticTimers&) = delete;
  SyntheticTimers& operator=(const SyntheticTimers&) = delete;

  std::uint32_t vp_count() const;
  StimerVp& vp(std::uint32_t index);  // index < vp_count(), else std::out_of_range
  const SyntheticTimersConfig& config() const { return config_; }

  // The same calls by VP index, shaped like cpu_hooks' register owners:
  // vp out of range -> invalid. Strand-affine on vp's strand.
  RegisterAccess read_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t& value);
  RegisterAccess write_register(std::uint32_t vp, Vtl vtl, HvRegisterName name, std::uint64_t value);

  // Earliest next_deadline() over all VPs.
  std::optional<std::uint64_t> next_deadline() const;

 private:
  SyntheticTimersConfig config_;
  std::vector<std::unique_ptr<StimerVp>> vps_;
};

}  // namespace softsynic
