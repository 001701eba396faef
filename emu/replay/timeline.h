// Timeline export: a run as Chrome trace-event JSON (the "JSON Object
// Format" that chrome://tracing, Perfetto and tools/timeline-viewer load).
//
// Tracks: process "guest" with one thread per VP (and VTL), process "host"
// with a "host calls" thread and one thread per host port. Slices:
// hypercalls (named by call: HvPostMessage, ...), RDMSR/WRMSR, interrupts
// taken, EOIs, message deliveries and event flags on the VP tracks; host
// posts, port changes and guest event signals on the host track; messages
// and events a port received on its track. Flow arrows: host post ->
// delivery into the SIMP slot -> the EOM that follows, and guest post ->
// the port that received it. VMBus control messages are labelled with their
// channel message name (vmbus_message_names.h).
// Time: there is no wall clock in a replay; timestamps are logical
// microseconds (each crossing takes one, steps are apart by two) and each
// slice carries the step index and the partition's reference time.
//
// Threading: TimelineBuilder is thread-safe (one mutex); timeline_of()
// runs on the calling thread.
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
#include "emu/replay/trace.h"
#include "synic/observer.h"
#include "synic/time_source.h"

namespace softsynic::replay {

class TimelineBuilder final : public GuestCpuObserver, public SynicObserver, public HostPortObserver {
 public:
  // time: the partition's reference time, shown in each slice (may be null).
  TimelineBuilder(const Machine& machine, const TimeSource* time);
  ~TimelineBuilder() override;

  // Marks the start of a step (replay) or of any unit the caller counts.
  void begin_step(std::size_t index);
  // The trace-event document.
  std::string json() const;

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
  void on_add_message_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl,
                           std::uint32_t capacity, Error result) override;
  void on_add_event_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl, Error result) override;
  void on_remove_port(const std::string& id) override;
  void on_take_port_message(const std::string& id, std::uint32_t count) override;
  void on_new_guest_event_port(const std::string& id, Vtl vtl, std::uint32_t vp, std::uint8_t sint,
                               std::uint16_t flag, Error result) override;
  void on_signal_guest_event(const std::string& id, Error result) override;
  void on_advance_time(std::uint64_t ticks_100ns) override;

 private:
  struct Event;
  void slice(int pid, int tid, std::string name, std::uint64_t start, std::vector<std::pair<std::string, std::string>> args);
  void flow(char phase, std::uint64_t id, int pid, int tid, std::uint64_t ts);
  void crossing(std::uint32_t vp, Vtl vtl, std::string name, std::vector<std::pair<std::string, std::string>> args);
  int vp_tid(std::uint32_t vp, Vtl vtl) const;
  int port_tid(const std::string& id);
  std::string now_text() const;

  mutable std::mutex mutex_;
  Machine machine_;
  const TimeSource* time_;
  std::vector<std::unique_ptr<Event>> events_;
  std::uint64_t ts_ = 0;
  std::size_t step_ = 0;
  std::map<std::pair<std::uint32_t, Vtl>, std::uint64_t> crossing_start_;
  std::map<std::string, int> port_tids_;
  std::map<std::uint32_t, std::string> port_by_connection_;
  std::uint64_t next_flow_ = 1;
  // Host posts waiting for delivery, per (vtl, vp, sint), FIFO.
  std::map<std::tuple<Vtl, std::uint32_t, std::uint8_t>, std::vector<std::uint64_t>> queued_flows_;
  // Delivered messages waiting for an EOM, per (vtl, vp).
  std::map<std::pair<Vtl, std::uint32_t>, std::vector<std::uint64_t>> delivered_flows_;
};

// Replays `trace` with a TimelineBuilder attached and returns the
// trace-event document (the same bytes every time).
std::string timeline_of(const Trace& trace);

}  // namespace softsynic::replay
