// PortRegistry: connection id -> host port, the guest side of
// HvPostMessage / HvSignalEvent dispatch. Private to synic/.
// TLFS: "HvPostMessage", "HvSignalEvent" (connection ids). Not supported:
// port ids and cross-partition connections.
//
// Threading: every method is thread-safe. Dispatch holds a shared lock only
// to find the port; the call itself runs unlocked, counted in the entry so
// that releasing a handle can wait for calls in flight.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include <boost/system/result.hpp>

#include "synic/defs/status.h"
#include "synic/ports.h"

namespace softsynic::detail {

class PortRegistry : public std::enable_shared_from_this<PortRegistry> {
 public:
  using ErrorHook = std::function<void(const std::string&)>;

  PortRegistry(std::uint8_t vtl_count, ErrorHook on_error);

  boost::system::result<PortHandle> add_message_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                     std::shared_ptr<MessagePort> port);
  boost::system::result<PortHandle> add_event_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                   std::shared_ptr<EventPort> port);

  // Argument checks are the caller's; these find the port, check kind and
  // VTL, and call it.
  HvStatus post(const GuestMessage& message);
  HvStatus signal(const GuestEvent& event);

  struct Entry;

 private:
  boost::system::result<PortHandle> add(std::uint32_t connection_id, Vtl minimum_vtl, std::shared_ptr<Entry> entry);
  template <typename Call>
  HvStatus dispatch(std::uint32_t connection_id, Vtl vtl, bool message_kind, Call&& call);
  void release(std::uint32_t connection_id, const std::shared_ptr<Entry>& entry);

  std::uint8_t vtl_count_;
  ErrorHook on_error_;
  std::shared_mutex mutex_;
  std::unordered_map<std::uint32_t, std::shared_ptr<Entry>> ports_;
};

}  // namespace softsynic::detail
