// EventLog: a SynicObserver that writes one readable line per SynIC event
// (softsynic-run --log), e.g.
//   synic: vp0 vtl0 guest_post_message conn=0x2001 type=0x1 size=16 -> SUCCESS
// FanoutObserver passes each event to several observers in order.
//
// Threading: thread-safe (a mutex keeps lines whole).
#pragma once

#include <iosfwd>
#include <mutex>
#include <string>
#include <vector>

#include "synic/observer.h"

namespace softsynic::emu {

std::string describe_event(const SynicEvent& event);

class EventLog final : public SynicObserver {
 public:
  explicit EventLog(std::ostream& out) : out_(out) {}
  void on_synic_event(const SynicEvent& event) override;

 private:
  std::mutex mutex_;
  std::ostream& out_;
};

class FanoutObserver final : public SynicObserver {
 public:
  void add(SynicObserver* observer) {
    if (observer != nullptr) observers_.push_back(observer);
  }
  bool empty() const { return observers_.empty(); }
  void on_synic_event(const SynicEvent& event) override {
    for (SynicObserver* o : observers_) o->on_synic_event(event);
  }

 private:
  std::vector<SynicObserver*> observers_;
};

}  // namespace softsynic::emu
