// PortRegistry: connection id -> host port, the guest side of
// HvPostMessage / HvSignalEvent dispatch. Private to synic/.
// TLFS: "HvPostMessage", "HvSignalEvent" (connection ids). Not supported:
// port ids and cross-partition connections.
//
// Threading: every method is thread-safe. Dispatch takes no lock: it loads
// an immutable snapshot of the map that writers replace copy-on-write
// under `mutex_`, and says in its VP's slot which entry it is calling (a
// VP dispatches only on its own strand, so the slot is written by one
// thread at a time and its cache line is not shared). Releasing a handle
// publishes a snapshot without the entry, then waits until no slot is
// calling the entry or still looking it up.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/system/result.hpp>

#include "synic/defs/status.h"
#include "synic/ports.h"

namespace softsynic::detail {

class PortRegistry : public std::enable_shared_from_this<PortRegistry> {
 public:
  using ErrorHook = std::function<void(const std::string&)>;

  PortRegistry(std::uint8_t vtl_count, ErrorHook on_error);
  ~PortRegistry();
  PortRegistry(const PortRegistry&) = delete;
  PortRegistry& operator=(const PortRegistry&) = delete;

  boost::system::result<PortHandle> add_message_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                     std::shared_ptr<MessagePort> port);
  boost::system::result<PortHandle> add_event_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                   std::shared_ptr<EventPort> port);

  // The registered connections, sorted by id.
  std::vector<ConnectionInfo> connections();

  // Argument checks are the caller's; these find the port, check kind and
  // VTL, and call it. Strand-affine: on the strand of message.vp / event.vp.
  HvStatus post(const GuestMessage& message);
  HvStatus signal(const GuestEvent& event);

  struct Entry;
  struct Snapshot;

  // What one VP's dispatch is doing: nullptr (idle), kLookingUp (may hold
  // any snapshot, or is nested), or the entry it is calling.
  struct alignas(64) Slot {
    std::atomic<const Entry*> calling{nullptr};
  };

 private:
  static constexpr std::size_t kChunkSlots = 64;
  static constexpr std::size_t kChunks = 4096;  // direct slots for 262144 VPs; more share a map

  boost::system::result<PortHandle> add(std::uint32_t connection_id, Vtl minimum_vtl, std::shared_ptr<Entry> entry);
  template <typename Call>
  HvStatus dispatch(std::uint32_t vp, std::uint32_t connection_id, Vtl vtl, bool message_kind, Call&& call);
  void release(std::uint32_t connection_id, const std::shared_ptr<Entry>& entry);
  Slot& slot(std::uint32_t vp) {
    const std::size_t chunk = vp / kChunkSlots;
    if (chunk < kChunks) {
      if (Slot* slots = chunks_[chunk].load(std::memory_order_acquire)) return slots[vp % kChunkSlots];
    }
    return make_slot(vp);
  }
  Slot& make_slot(std::uint32_t vp);  // first dispatch of a VP, or beyond the chunks
  template <typename F>
  void for_each_slot(F&& f);
  void replace(std::unique_ptr<Snapshot> next);  // writer mutex held
  void reclaim();                                // writer mutex held

  std::uint8_t vtl_count_;
  ErrorHook on_error_;
  std::atomic<const Snapshot*> snapshot_;
  std::array<std::atomic<Slot*>, kChunks> chunks_{};
  std::atomic<std::size_t> chunks_used_{0};  // chunks at or above it are null
  std::mutex overflow_mutex_;
  std::unordered_map<std::uint32_t, std::unique_ptr<Slot>> overflow_;  // VPs beyond the chunks
  std::mutex mutex_;  // writers
  std::vector<std::unique_ptr<const Snapshot>> retired_;
};

}  // namespace softsynic::detail
