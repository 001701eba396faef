// TraceRecorder: writes what crossed the SynIC during a run as a trace
// (docs/TRACE_FORMAT.md "Recording"), so that the run replays with
// softsynic-replay, unedited, and passes.
//
// Feed it from the three sides of the boundary:
//  - the CPU loop: call before_crossing() before and the GuestCpuObserver
//    hook after each RDMSR/WRMSR, hypercall instruction (registers before
//    and after), interrupt taken and EOI;
//  - the partition: partition.set_observer(&recorder) (SynicObserver: host
//    posts, deliveries, register writes that move SIMP/SIEFP);
//  - the host: register ports through wrap_message_port/wrap_event_port,
//    call before_host_call() before and the HostPortObserver hook after
//    adding/removing ports, posting, taking messages, creating and
//    signalling guest event ports, moving time.
//
// What it writes: each guest crossing as its op with the observed result
// as the expectation (status and changed registers, the MSR value or #GP,
// the vector taken); host calls with their results; after each hypercall,
// what the host ports received (expect_port_messages/expect_port_events).
// Guest memory the SynIC reads is captured as `write` steps: a slow
// hypercall's input block, and any change the guest made to its SIMP or
// SIEFP pages (message slots freed, flags cleared) since the last crossing,
// found by comparing the pages with what the SynIC itself last wrote there
// in before_crossing()/before_host_call().
//
// Time and synthetic timers: give the recorder the run's TimeSource
// (set_time_source) and it writes an `advance_time` step for the time that
// passed before each crossing or host call, so register writes, timer
// arming and TIME_REF_COUNT reads happen at the same reference time in the
// replay. TimerExpired messages (0x80000010) are not written as host posts:
// the replay's own timers produce them again from the recorded STIMER
// writes and advance_time steps, each at its due time.
//
// Limits: start recording before the guest enables its SynIC pages (the
// recorder learns them from register writes). A live message port that
// reports full before it holds `capacity` messages, non-SynIC interrupts
// reported as taken, and async_post_message waiters that land later are not
// reproduced by the replay. The replay services timers at their exact due
// times: a run that serviced them late sees the same expiries (with later
// delivery times in the payload, which the recording does not check),
// except that a late lazy periodic timer there skips missed expiries the
// replay delivers. A host that posts TimerExpired messages itself is not
// recorded.
//
// Threading: every method is thread-safe (one mutex); wrapped ports are
// called on VP strands.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "emu/replay/guest_cpu_observer.h"
#include "emu/replay/host_port_observer.h"
#include "emu/replay/replayer.h"
#include "emu/replay/trace.h"
#include "synic/guest_memory.h"
#include "synic/observer.h"
#include "synic/time_source.h"

namespace softsynic::replay {

class TraceRecorder final : public GuestCpuObserver, public SynicObserver, public HostPortObserver {
 public:
  // machine: the partition as the trace will describe it. memory: the
  // guest RAM (read for input blocks and SynIC pages); must outlive this.
  TraceRecorder(Machine machine, GuestMemory& memory, std::string description = {});
  ~TraceRecorder() override;

  // The run's reference time (nullptr: time moves only through
  // on_advance_time). Set before the run starts; must outlive this.
  void set_time_source(const TimeSource* time);

  // The trace so far, and its document (write_trace).
  Trace trace() const;
  std::string document() const;
  // Writes document() to path; false when the file cannot be written.
  bool write_file(const std::string& path) const;

  // GuestCpuObserver
  void before_crossing(std::uint32_t vp, Vtl vtl) override;
  void on_wrmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) override;
  void on_rdmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) override;
  void on_x86_hypercall(std::uint32_t vp, Vtl vtl, const X86Registers& before, const X86Registers& after,
                        const HypercallOutcome& outcome) override;
  void on_arm64_hvc(std::uint32_t vp, Vtl vtl, std::uint16_t imm, const Arm64Registers& before,
                    const Arm64Registers& after, const HypercallOutcome& outcome) override;
  void on_interrupt_taken(std::uint32_t vp, Vtl vtl, std::uint32_t vector) override;
  void on_eoi(std::uint32_t vp, Vtl vtl) override;

  // SynicObserver
  void on_synic_event(const SynicEvent& event) override;

  // HostPortObserver
  void before_host_call() override;
  void on_add_message_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl,
                           std::uint32_t capacity, Error result) override;
  void on_add_event_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl, Error result) override;
  void on_remove_port(const std::string& id) override;
  void on_take_port_message(const std::string& id, std::uint32_t count) override;
  void on_new_guest_event_port(const std::string& id, Vtl vtl, std::uint32_t vp, std::uint8_t sint,
                               std::uint16_t flag, Error result) override;
  void on_signal_guest_event(const std::string& id, Error result) override;
  void on_advance_time(std::uint64_t ticks_100ns) override;
  std::shared_ptr<MessagePort> wrap_message_port(const std::string& id, std::shared_ptr<MessagePort> port) override;
  std::shared_ptr<EventPort> wrap_event_port(const std::string& id, std::shared_ptr<EventPort> port) override;

 private:
  class MessageTap;
  class EventTap;
  struct PortModel {
    std::uint32_t capacity = 0;
    std::uint32_t queued = 0;
    std::vector<PortMessage> unchecked;
    std::vector<std::uint16_t> unchecked_flags;
    bool is_message = true;
  };
  // (vp, vtl, is_siefp) -> page GPA.
  using PageKey = std::tuple<std::uint32_t, Vtl, bool>;

  // All below: mutex_ held.
  void add(StepOp op);
  void catch_up_time();
  void sync_memory();
  void refresh_shadow(std::uint64_t gpa, std::size_t len);
  void refresh_pages();
  void capture_input(std::uint64_t control, std::uint64_t input_gpa);
  void flush_ports();
  void port_message(const std::string& id, const GuestMessage& message, bool accepted);
  void port_event(const std::string& id, std::uint16_t flag);

  mutable std::mutex mutex_;
  Trace trace_;
  GuestMemory& memory_;
  std::map<PageKey, std::uint64_t> pages_;
  std::map<std::uint64_t, std::vector<std::byte>> shadow_;  // page GPA -> last known contents
  std::map<std::string, PortModel> ports_;
  const TimeSource* time_ = nullptr;
  std::uint64_t recorded_time_ = 0;  // reference time the trace has advanced to
};

struct RecordedReplay {
  ReplayResult result;  // of the replay itself
  Trace recording;      // what the recorder wrote while it ran
};
// Replays `trace` with a recorder attached, as an emulator would record a
// live run: the recording replays unedited and passes. Used by
// softsynic-replay --record and by the tests.
RecordedReplay record_replay(const Trace& trace, std::string description);

}  // namespace softsynic::replay
