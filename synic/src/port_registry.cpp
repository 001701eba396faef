// PortRegistry: connection ids, minimum VTLs and safe unregistration.
// TLFS: "HvPostMessage", "HvSignalEvent". Not supported: port ids.
//
// Why it is safe without reader locks:
//  - A reader swaps kLookingUp into its VP's slot (seq_cst) before it loads
//    the snapshot (seq_cst); a writer publishes (seq_cst) before it reads
//    the slots (seq_cst). So a writer either sees the reader looking up or
//    the reader finds the new snapshot.
//  - Snapshots own their entries and are retired, not freed, when replaced.
//    A retired snapshot is freed once, under the writer mutex, no slot is
//    looking up and no slot calls an entry the current snapshot lacks (an
//    entry released from inside its own callback is still running).
//  - Release waits until no other VP's slot is looking up or calling the
//    entry; the releasing thread's own dispatches are not waited for.
#include "synic/src/port_registry.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <exception>
#include <thread>

#include "synic/errors.h"

namespace softsynic::detail {

struct PortRegistry::Entry {
  bool message_kind = false;
  Vtl minimum_vtl = 0;
  std::shared_ptr<MessagePort> message_port;
  std::shared_ptr<EventPort> event_port;
};

// Immutable once published: an open-addressing table of connection ids.
struct PortRegistry::Snapshot {
  struct Cell {
    std::uint32_t connection_id = 0;
    const Entry* entry = nullptr;  // nullptr: empty cell
  };

  std::unordered_map<std::uint32_t, std::shared_ptr<Entry>> ports;  // owns the entries
  std::vector<Cell> cells;
  std::uint32_t shift = 32;

  static std::uint32_t hash(std::uint32_t id) { return id * 0x9E3779B1u; }

  void build() {
    const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(8, ports.size() * 2));
    shift = 32 - static_cast<std::uint32_t>(std::countr_zero(capacity));
    cells.assign(capacity, Cell{});
    for (const auto& [id, entry] : ports) {
      std::size_t i = hash(id) >> shift;
      while (cells[i].entry != nullptr) i = (i + 1) & (capacity - 1);
      cells[i] = Cell{id, entry.get()};
    }
  }

  // At most half full, so an empty cell ends every probe.
  const Entry* find(std::uint32_t id) const {
    const std::size_t mask = cells.size() - 1;
    for (std::size_t i = hash(id) >> shift;; i = (i + 1) & mask) {
      const Cell& c = cells[i];
      if (c.entry == nullptr || c.connection_id == id) return c.entry;
    }
  }

  bool holds(const Entry* e) const {
    for (const auto& [id, entry] : ports)
      if (entry.get() == e) return true;
    return false;
  }
};

namespace {

const PortRegistry::Entry kLookingUpEntry{};
const PortRegistry::Entry* const kLookingUp = &kLookingUpEntry;

// The dispatches this thread is inside, innermost first: a port that drops
// a handle from its callback must not wait for its own VP.
struct Frame {
  const PortRegistry::Slot* slot;
  const Frame* outer;
};
thread_local const Frame* t_top = nullptr;

bool own_slot(const PortRegistry::Slot* slot) {
  for (const Frame* f = t_top; f != nullptr; f = f->outer)
    if (f->slot == slot) return true;
  return false;
}

// Releases are rare and callbacks short: poll, backing off to short sleeps.
void back_off(unsigned& round) {
  if (++round < 64) {
    std::this_thread::yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(std::min(1000u, round)));
  }
}

std::string exception_text(const char* where) {
  try {
    throw;
  } catch (const std::exception& e) {
    return std::string(where) + " threw: " + e.what();
  } catch (...) {
    return std::string(where) + " threw a non-standard exception";
  }
}

}  // namespace

PortRegistry::PortRegistry(std::uint8_t vtl_count, ErrorHook on_error)
    : vtl_count_(vtl_count), on_error_(std::move(on_error)) {
  auto empty = std::make_unique<Snapshot>();
  empty->build();
  snapshot_.store(empty.release(), std::memory_order_release);
}

// Handles hold the registry weakly, so none releases into it now; the
// partition is destroyed only once its strands are quiet.
PortRegistry::~PortRegistry() {
  delete snapshot_.load(std::memory_order_acquire);
  for (auto& c : chunks_) delete[] c.load(std::memory_order_acquire);
}

PortRegistry::Slot& PortRegistry::make_slot(std::uint32_t vp) {
  const std::size_t chunk = vp / kChunkSlots;
  if (chunk >= kChunks) {
    std::lock_guard lock(overflow_mutex_);
    auto& s = overflow_[vp];
    if (!s) s = std::make_unique<Slot>();
    return *s;
  }
  // Counted before the chunk is published: a dispatch that found the chunk
  // is then ordered after the count, so a writer that missed the count
  // also finds that dispatch reading the new snapshot.
  for (std::size_t used = chunks_used_.load(std::memory_order_seq_cst);
       used <= chunk && !chunks_used_.compare_exchange_weak(used, chunk + 1, std::memory_order_seq_cst);) {
  }
  Slot* fresh = new Slot[kChunkSlots];
  Slot* expected = nullptr;
  if (chunks_[chunk].compare_exchange_strong(expected, fresh, std::memory_order_seq_cst))
    return fresh[vp % kChunkSlots];
  delete[] fresh;  // another VP of the chunk created it first
  return expected[vp % kChunkSlots];
}

template <typename F>
void PortRegistry::for_each_slot(F&& f) {
  const std::size_t used = chunks_used_.load(std::memory_order_seq_cst);
  for (std::size_t c = 0; c < used; ++c)
    if (Slot* slots = chunks_[c].load(std::memory_order_seq_cst))
      for (std::size_t i = 0; i < kChunkSlots; ++i) f(slots[i]);
  std::lock_guard lock(overflow_mutex_);
  for (auto& [vp, s] : overflow_) f(*s);
}

boost::system::result<PortHandle> PortRegistry::add_message_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                                 std::shared_ptr<MessagePort> port) {
  if (!port) return make_error_code(Error::null_port);
  auto e = std::make_shared<Entry>();
  e->message_kind = true;
  e->message_port = std::move(port);
  return add(connection_id, minimum_vtl, std::move(e));
}

boost::system::result<PortHandle> PortRegistry::add_event_port(std::uint32_t connection_id, Vtl minimum_vtl,
                                                               std::shared_ptr<EventPort> port) {
  if (!port) return make_error_code(Error::null_port);
  auto e = std::make_shared<Entry>();
  e->message_kind = false;
  e->event_port = std::move(port);
  return add(connection_id, minimum_vtl, std::move(e));
}

void PortRegistry::replace(std::unique_ptr<Snapshot> next) {
  next->build();
  retired_.emplace_back(snapshot_.exchange(next.release(), std::memory_order_seq_cst));
}

void PortRegistry::reclaim() {
  if (retired_.empty()) return;
  const Snapshot* current = snapshot_.load(std::memory_order_relaxed);
  bool in_use = false;
  for_each_slot([&](Slot& s) {
    const Entry* e = s.calling.load(std::memory_order_seq_cst);
    in_use = in_use || e == kLookingUp || (e != nullptr && !current->holds(e));
  });
  if (!in_use) retired_.clear();
}

std::vector<ConnectionInfo> PortRegistry::connections() {
  std::vector<ConnectionInfo> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : snapshot_.load(std::memory_order_relaxed)->ports)
      out.push_back({id, entry->message_kind, entry->minimum_vtl});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.connection_id < b.connection_id; });
  return out;
}

boost::system::result<PortHandle> PortRegistry::add(std::uint32_t connection_id, Vtl minimum_vtl,
                                                    std::shared_ptr<Entry> entry) {
  if (minimum_vtl >= vtl_count_) return make_error_code(Error::invalid_vtl);
  entry->minimum_vtl = minimum_vtl;
  {
    std::lock_guard lock(mutex_);
    const Snapshot* current = snapshot_.load(std::memory_order_relaxed);
    if (current->ports.contains(connection_id)) return make_error_code(Error::connection_id_in_use);
    auto next = std::make_unique<Snapshot>();
    next->ports = current->ports;
    next->ports.emplace(connection_id, entry);
    replace(std::move(next));
    reclaim();
  }
  // The handle may outlive the partition: it then has nothing to remove.
  std::weak_ptr<PortRegistry> weak = weak_from_this();
  return PortHandle([weak, connection_id, entry = std::move(entry)] {
    if (auto self = weak.lock()) self->release(connection_id, entry);
  });
}

void PortRegistry::release(std::uint32_t connection_id, const std::shared_ptr<Entry>& entry) {
  {
    std::lock_guard lock(mutex_);
    const Snapshot* current = snapshot_.load(std::memory_order_relaxed);
    auto it = current->ports.find(connection_id);
    if (it == current->ports.end() || it->second != entry) return;
    auto next = std::make_unique<Snapshot>();
    next->ports = current->ports;
    next->ports.erase(connection_id);
    replace(std::move(next));
  }
  // New calls can no longer find the entry; wait for those in flight (not
  // under the mutex: a port may add or release from its callback).
  for_each_slot([&](Slot& s) {
    if (own_slot(&s)) return;
    unsigned round = 0;
    for (const Entry* e = s.calling.load(std::memory_order_seq_cst); e == entry.get() || e == kLookingUp;
         e = s.calling.load(std::memory_order_seq_cst))
      back_off(round);
  });
  std::lock_guard lock(mutex_);
  reclaim();
}

template <typename Call>
HvStatus PortRegistry::dispatch(std::uint32_t vp, std::uint32_t connection_id, Vtl vtl, bool message_kind,
                                Call&& call) {
  Slot& s = slot(vp);
  const Entry* const outer = s.calling.exchange(kLookingUp, std::memory_order_seq_cst);
  const Frame frame{&s, t_top};
  t_top = &frame;
  struct Exit {
    Slot& s;
    const Entry* outer;
    const Frame* outer_frame;
    ~Exit() {
      t_top = outer_frame;
      s.calling.store(outer, std::memory_order_release);
    }
  } exit{s, outer, frame.outer};

  const Entry* e = snapshot_.load(std::memory_order_seq_cst)->find(connection_id);
  if (e == nullptr || e->message_kind != message_kind) return HvStatus::invalid_connection_id;
  if (vtl < e->minimum_vtl) return HvStatus::operation_denied;
  // A nested call stays "looking up", which also covers the outer call's
  // entry while it is hidden.
  if (outer == nullptr) s.calling.store(e, std::memory_order_release);
  return call(*e);
}

HvStatus PortRegistry::post(const GuestMessage& message) {
  return dispatch(message.vp, message.connection_id, message.vtl, true, [&](const Entry& e) {
    try {
      return e.message_port->on_message(message) ? HvStatus::success : HvStatus::insufficient_buffers;
    } catch (...) {
      if (on_error_) on_error_(exception_text("MessagePort::on_message"));
      return HvStatus::insufficient_buffers;
    }
  });
}

HvStatus PortRegistry::signal(const GuestEvent& event) {
  return dispatch(event.vp, event.connection_id, event.vtl, false, [&](const Entry& e) {
    try {
      e.event_port->on_event(event);
    } catch (...) {
      if (on_error_) on_error_(exception_text("EventPort::on_event"));
    }
    return HvStatus::success;
  });
}

}  // namespace softsynic::detail
