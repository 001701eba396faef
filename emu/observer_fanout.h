// Fan-outs for the replay library's observer interfaces, so a run can feed
// a recorder and a timeline at once: each call goes to every observer in
// the order they were added; wrap_* chains the wrappers (the last added
// wraps outermost).
//
// Threading: add() before the run; the calls are as thread-safe as the
// observers behind them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "emu/replay/guest_cpu_observer.h"
#include "emu/replay/host_port_observer.h"

namespace softsynic::emu {

class FanoutCpuObserver final : public replay::GuestCpuObserver {
 public:
  void add(replay::GuestCpuObserver* o) {
    if (o != nullptr) observers_.push_back(o);
  }
  bool empty() const { return observers_.empty(); }

  void before_crossing(std::uint32_t vp, Vtl vtl) override {
    for (auto* o : observers_) o->before_crossing(vp, vtl);
  }
  void on_wrmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) override {
    for (auto* o : observers_) o->on_wrmsr(vp, vtl, msr, value, result);
  }
  void on_rdmsr(std::uint32_t vp, Vtl vtl, std::uint32_t msr, std::uint64_t value, MsrResult result) override {
    for (auto* o : observers_) o->on_rdmsr(vp, vtl, msr, value, result);
  }
  void on_x86_hypercall(std::uint32_t vp, Vtl vtl, const X86Registers& before, const X86Registers& after,
                        const HypercallOutcome& outcome) override {
    for (auto* o : observers_) o->on_x86_hypercall(vp, vtl, before, after, outcome);
  }
  void on_arm64_hvc(std::uint32_t vp, Vtl vtl, std::uint16_t imm, const Arm64Registers& before,
                    const Arm64Registers& after, const HypercallOutcome& outcome) override {
    for (auto* o : observers_) o->on_arm64_hvc(vp, vtl, imm, before, after, outcome);
  }
  void on_interrupt_taken(std::uint32_t vp, Vtl vtl, std::uint32_t vector) override {
    for (auto* o : observers_) o->on_interrupt_taken(vp, vtl, vector);
  }
  void on_eoi(std::uint32_t vp, Vtl vtl) override {
    for (auto* o : observers_) o->on_eoi(vp, vtl);
  }

 private:
  std::vector<replay::GuestCpuObserver*> observers_;
};

class FanoutPortObserver final : public replay::HostPortObserver {
 public:
  void add(replay::HostPortObserver* o) {
    if (o != nullptr) observers_.push_back(o);
  }
  bool empty() const { return observers_.empty(); }

  void before_host_call() override {
    for (auto* o : observers_) o->before_host_call();
  }
  void on_add_message_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl,
                           std::uint32_t capacity, Error result) override {
    for (auto* o : observers_) o->on_add_message_port(id, connection_id, minimum_vtl, capacity, result);
  }
  void on_add_event_port(const std::string& id, std::uint32_t connection_id, Vtl minimum_vtl, Error result) override {
    for (auto* o : observers_) o->on_add_event_port(id, connection_id, minimum_vtl, result);
  }
  void on_remove_port(const std::string& id) override {
    for (auto* o : observers_) o->on_remove_port(id);
  }
  void on_take_port_message(const std::string& id, std::uint32_t count) override {
    for (auto* o : observers_) o->on_take_port_message(id, count);
  }
  void on_new_guest_event_port(const std::string& id, Vtl vtl, std::uint32_t vp, std::uint8_t sint,
                               std::uint16_t flag, Error result) override {
    for (auto* o : observers_) o->on_new_guest_event_port(id, vtl, vp, sint, flag, result);
  }
  void on_signal_guest_event(const std::string& id, Error result) override {
    for (auto* o : observers_) o->on_signal_guest_event(id, result);
  }
  void on_advance_time(std::uint64_t ticks_100ns) override {
    for (auto* o : observers_) o->on_advance_time(ticks_100ns);
  }
  std::shared_ptr<MessagePort> wrap_message_port(const std::string& id, std::shared_ptr<MessagePort> port) override {
    for (auto* o : observers_) port = o->wrap_message_port(id, std::move(port));
    return port;
  }
  std::shared_ptr<EventPort> wrap_event_port(const std::string& id, std::shared_ptr<EventPort> port) override {
    for (auto* o : observers_) port = o->wrap_event_port(id, std::move(port));
    return port;
  }

 private:
  std::vector<replay::HostPortObserver*> observers_;
};

}  // namespace softsynic::emu
