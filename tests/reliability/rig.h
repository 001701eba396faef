// Test rig for the reliability tests: a partition over guest RAM on the
// deterministic executor, with recording interrupt sinks, host ports that
// record, refuse, throw or block, and guest-side helpers (enable the SynIC,
// read and free a slot, EOM).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"

namespace softsynic::reliability {

inline constexpr std::uint64_t kRamSize = 1 << 20;
inline constexpr std::uint64_t kOutsideRam = 0x4000'0000;
inline constexpr std::uint8_t kVectorBase = 0x40;  // SINT n uses vector 0x40 + n

inline std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
  return out;
}

inline PartitionConfig config(std::uint32_t vp_count = 2, std::uint8_t vtl_count = 1, std::uint32_t capacity = 4) {
  PartitionConfig c;
  c.vp_count = vp_count;
  c.vtl_count = vtl_count;
  c.sint_queue_capacity = capacity;
  return c;
}

inline std::uint64_t enabled_page(std::uint64_t gpa) { return PageReg{}.with_gpn(gpa >> 12).with_enabled(true).raw(); }

// Message port that records what it takes; thread-safe.
class RecordingMessagePort final : public MessagePort {
 public:
  bool on_message(const GuestMessage& m) override {
    std::lock_guard lock(mutex_);
    payloads_.emplace_back(reinterpret_cast<const char*>(m.payload.data()), m.payload.size());
    return true;
  }
  std::vector<std::string> payloads() const {
    std::lock_guard lock(mutex_);
    return payloads_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> payloads_;
};

class CountingEventPort final : public EventPort {
 public:
  void on_event(const GuestEvent&) override { count.fetch_add(1); }
  std::atomic<int> count{0};
};

// Records interrupts of every (VP, VTL); thread-safe.
class Interrupts {
 public:
  struct Raised {
    std::uint32_t vp;
    Vtl vtl;
    std::uint32_t vector;
  };
  void add(Raised r) {
    std::lock_guard lock(mutex_);
    raised_.push_back(r);
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return raised_.size();
  }
  std::size_t count_for(std::uint32_t vp) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& r : raised_) n += r.vp == vp;
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Raised> raised_;
};

// The partition and its guest memory, sinks and error log. `Executor` is
// DeterministicExecutor or ThreadPoolExecutor.
class Rig {
 public:
  Rig(boost::asio::any_io_executor executor, PartitionConfig c = config(), std::vector<RamGuestMemory::Region> ram = {{0, kRamSize}})
      : memory(std::move(ram)), partition_(with_error_hook(std::move(c)), memory, executor) {
    for (std::uint32_t vp = 0; vp < partition_.vp_count(); ++vp)
      for (Vtl vtl = 0; vtl < partition_.vtl_count(); ++vtl) {
        sinks_.push_back(std::make_unique<FunctionInterruptSink>(
            [this, vp, vtl](std::uint32_t vector, bool) { interrupts.add({vp, vtl, vector}); }));
        partition_.vp(vp).set_interrupt_sink(vtl, sinks_.back().get());
      }
  }

  RamGuestMemory memory;
  Interrupts interrupts;

  Partition& partition() { return partition_; }
  SynicVp& vp(std::uint32_t i) { return partition_.vp(i); }

  std::vector<std::string> errors() const {
    std::lock_guard lock(errors_mutex_);
    return errors_;
  }

  // Register helpers: strand-affine, so tests on a thread pool call them
  // from work posted to the VP's strand.
  RegisterAccess write(std::uint32_t vp, HvRegisterName name, std::uint64_t value, Vtl vtl = 0) {
    return partition_.vp(vp).write_register(vtl, name, value);
  }
  static std::uint64_t simp_gpa(std::uint32_t vp, Vtl vtl = 0) { return 0x10000 + (vp * 4 + vtl) * 0x2000; }
  static std::uint64_t siefp_gpa(std::uint32_t vp, Vtl vtl = 0) { return simp_gpa(vp, vtl) + 0x1000; }
  void enable(std::uint32_t vp, Vtl vtl = 0) {
    write(vp, HvRegisterName::simp, enabled_page(simp_gpa(vp, vtl)), vtl);
    write(vp, HvRegisterName::siefp, enabled_page(siefp_gpa(vp, vtl)), vtl);
    write(vp, HvRegisterName::scontrol, 1, vtl);
  }
  void unmask(std::uint32_t vp, unsigned sint, Vtl vtl = 0) {
    write(vp, sint_register(sint),
          SintReg{}.with_masked(false).with_vector(static_cast<std::uint8_t>(kVectorBase + sint)).raw(), vtl);
  }
  void ready(std::uint32_t vp, unsigned sint, Vtl vtl = 0) {
    enable(vp, vtl);
    unmask(vp, sint, vtl);
  }

  boost::system::error_code post(std::uint32_t vp, unsigned sint, std::string_view payload, Vtl vtl = 0,
                                 std::uint32_t type = 1) {
    const auto b = bytes(payload);
    return partition_.post_message(vtl, vp, static_cast<std::uint8_t>(sint), type, b);
  }

  HvMessage slot_at(std::uint64_t simp, unsigned sint) {
    HvMessage m{};
    memory.read(simp + sint * kMessageSize, std::as_writable_bytes(std::span(&m, 1)));
    return m;
  }
  HvMessage slot(std::uint32_t vp, unsigned sint, Vtl vtl = 0) { return slot_at(partition_.vp(vp).simp(vtl).gpa(), sint); }
  static std::string payload_of(const HvMessage& m) {
    return std::string(reinterpret_cast<const char*>(m.payload.data()), m.header.payload_size);
  }
  // The guest's side of a message: read it, type = 0, EOM if pending.
  // Returns the payload, or "" when the slot was free.
  std::string consume(std::uint32_t vp, unsigned sint, Vtl vtl = 0) {
    const HvMessage m = slot(vp, sint, vtl);
    if (m.header.message_type == 0) return {};
    const std::uint32_t zero = 0;
    memory.write(partition_.vp(vp).simp(vtl).gpa() + sint * kMessageSize, std::as_bytes(std::span(&zero, 1)));
    if (m.header.message_flags & kMessageFlagPending) write(vp, HvRegisterName::eom, 0, vtl);
    return payload_of(m);
  }
  // n messages as the guest sees them, one after another: run the
  // executor, consume, repeat.
  template <typename Executor>
  std::vector<std::string> receive(Executor& exec, std::uint32_t vp, unsigned sint, std::size_t n, Vtl vtl = 0) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
      exec.run_until_idle();
      out.push_back(consume(vp, sint, vtl));
    }
    return out;
  }

 private:
  PartitionConfig with_error_hook(PartitionConfig c) {
    c.on_error = [this](const std::string& e) {
      std::lock_guard lock(errors_mutex_);
      errors_.push_back(e);
    };
    return c;
  }
  mutable std::mutex errors_mutex_;
  std::vector<std::string> errors_;
  std::vector<std::unique_ptr<FunctionInterruptSink>> sinks_;
  Partition partition_;
};

}  // namespace softsynic::reliability
