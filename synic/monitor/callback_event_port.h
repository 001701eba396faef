// CallbackEventPort: an EventPort that calls a function, for monitor ids
// (MonitorRegistration::port) and event connections whose host side is a
// plain callback. TLFS: none (host side). Not supported: nothing.
//
// Threading: on_event runs wherever the SynIC calls the port (the strand of
// the signalling VP); the function must be safe there.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "synic/ports.h"

namespace softsynic {

class CallbackEventPort final : public EventPort {
 public:
  explicit CallbackEventPort(std::function<void(const GuestEvent&)> callback) : callback_(std::move(callback)) {}
  void on_event(const GuestEvent& event) override {
    if (callback_) callback_(event);
  }

 private:
  std::function<void(const GuestEvent&)> callback_;
};

inline std::shared_ptr<EventPort> make_callback_event_port(std::function<void(const GuestEvent&)> callback) {
  return std::make_shared<CallbackEventPort>(std::move(callback));
}

}  // namespace softsynic
