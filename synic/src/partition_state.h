// PartitionState: what the partition's VPs, guest event ports and queued
// strand work share. Private to synic/. Held by shared_ptr so strand work
// still in a queue after the partition is gone finds nothing to run.
// TLFS: none (host plumbing).
//
// Threading: config, memory and vps are fixed after construction; notify()
// and report() are thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "synic/guest_memory.h"
#include "synic/observer.h"
#include "synic/partition.h"

namespace softsynic::detail {

class VpCore;
class PortRegistry;

struct PartitionState : std::enable_shared_from_this<PartitionState> {
  PartitionState(PartitionConfig c, GuestMemory& m) : config(std::move(c)), memory(m) {}
  ~PartitionState();

  PartitionConfig config;
  GuestMemory& memory;
  std::atomic<SynicObserver*> observer{nullptr};
  std::shared_ptr<PortRegistry> registry;
  std::vector<std::unique_ptr<VpCore>> vps;

  void notify(const SynicEvent& event) const {
    if (auto* o = observer.load(std::memory_order_acquire)) o->on_synic_event(event);
  }
  void report(const std::string& what) const {
    if (config.on_error) config.on_error(what);
  }
};

}  // namespace softsynic::detail

namespace softsynic::detail {

// Error::ok becomes the empty error_code, so `if (ec)` and `ec == {}` agree.
inline boost::system::error_code to_error_code(Error e) {
  return e == Error::ok ? boost::system::error_code{} : make_error_code(e);
}

}  // namespace softsynic::detail
