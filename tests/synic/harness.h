// Test harness for the SynIC core: a deterministic partition over 1 MiB of
// guest RAM with recording interrupt sinks and guest-side helpers.
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"

namespace softsynic::test {

inline constexpr std::uint64_t kRamSize = 1 << 20;
inline constexpr std::uint64_t kOutsideRam = 0x4000'0000;
inline constexpr std::uint8_t kVectorBase = 0x30;  // SINT n uses vector 0x30 + n

struct Interrupt {
  std::uint32_t vp;
  Vtl vtl;
  std::uint32_t vector;
  bool auto_eoi;
  friend bool operator==(const Interrupt&, const Interrupt&) = default;
};

inline std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());  // data() may be null
  return out;
}

inline PartitionConfig config(std::uint32_t vp_count = 2, std::uint8_t vtl_count = 1, std::uint32_t capacity = 64) {
  PartitionConfig c;
  c.vp_count = vp_count;
  c.vtl_count = vtl_count;
  c.sint_queue_capacity = capacity;
  return c;
}

// Guest RAM reached through GuestMemory calls only (no stable host ranges):
// the SynIC's path for memory it cannot cache.
class CallsOnlyMemory final : public GuestMemory {
 public:
  explicit CallsOnlyMemory(RamGuestMemory& ram) : ram_(ram) {}
  bool read(std::uint64_t gpa, std::span<std::byte> out) override { return ram_.read(gpa, out); }
  bool write(std::uint64_t gpa, std::span<const std::byte> in) override { return ram_.write(gpa, in); }
  std::optional<std::uint64_t> fetch_or_u64(std::uint64_t gpa, std::uint64_t bits) override {
    return ram_.fetch_or_u64(gpa, bits);
  }
  std::optional<std::uint64_t> fetch_and_u64(std::uint64_t gpa, std::uint64_t mask) override {
    return ram_.fetch_and_u64(gpa, mask);
  }

 private:
  RamGuestMemory& ram_;
};

class Harness {
 public:
  // calls_only: the partition sees `memory` through CallsOnlyMemory.
  explicit Harness(PartitionConfig c = config(), bool calls_only = false)
      : calls_only_(memory),
        partition_(with_error_hook(std::move(c)), calls_only ? static_cast<GuestMemory&>(calls_only_) : memory,
                   exec.executor()) {
    for (std::uint32_t vp = 0; vp < partition_.vp_count(); ++vp)
      for (Vtl vtl = 0; vtl < partition_.vtl_count(); ++vtl) {
        sinks_.push_back(std::make_unique<FunctionInterruptSink>([this, vp, vtl](std::uint32_t vector, bool auto_eoi) {
          interrupts.push_back(Interrupt{vp, vtl, vector, auto_eoi});
        }));
        partition_.vp(vp).set_interrupt_sink(vtl, sinks_.back().get());
      }
  }

  DeterministicExecutor exec;
  RamGuestMemory memory{kRamSize};
  std::vector<std::string> errors;
  std::vector<Interrupt> interrupts;

  Partition& partition() { return partition_; }
  SynicVp& vp(std::uint32_t i = 0) { return partition_.vp(i); }
  std::size_t run() { return exec.run_until_idle(); }

  RegisterAccess write(HvRegisterName name, std::uint64_t value, Vtl vtl = 0, std::uint32_t vp = 0) {
    return partition_.vp(vp).write_register(vtl, name, value);
  }
  std::uint64_t read(HvRegisterName name, Vtl vtl = 0, std::uint32_t vp = 0) {
    std::uint64_t value = 0xBAD;
    partition_.vp(vp).read_register(vtl, name, value);
    return value;
  }

  // Distinct pages per (VP, VTL): SIMP, then SIEFP.
  static std::uint64_t simp_gpa(Vtl vtl = 0, std::uint32_t vp = 0) { return 0x10000 + (vp * 4 + vtl) * 0x2000; }
  static std::uint64_t siefp_gpa(Vtl vtl = 0, std::uint32_t vp = 0) { return simp_gpa(vtl, vp) + 0x1000; }
  static std::uint64_t enabled_page(std::uint64_t gpa) { return PageReg{}.with_gpn(gpa >> 12).with_enabled(true).raw(); }

  // SIMP, SIEFP and SCONTROL enabled; SINTs left as they are.
  void enable(Vtl vtl = 0, std::uint32_t vp = 0) {
    write(HvRegisterName::simp, enabled_page(simp_gpa(vtl, vp)), vtl, vp);
    write(HvRegisterName::siefp, enabled_page(siefp_gpa(vtl, vp)), vtl, vp);
    write(HvRegisterName::scontrol, 1, vtl, vp);
  }
  static SintReg sint_value(unsigned sint, bool auto_eoi = false, bool polling = false) {
    return SintReg{}
        .with_masked(false)
        .with_vector(static_cast<std::uint8_t>(kVectorBase + sint))
        .with_auto_eoi(auto_eoi)
        .with_polling(polling);
  }
  void unmask(unsigned sint, Vtl vtl = 0, std::uint32_t vp = 0, bool auto_eoi = false, bool polling = false) {
    write(sint_register(sint), sint_value(sint, auto_eoi, polling).raw(), vtl, vp);
  }
  void ready(unsigned sint, Vtl vtl = 0, std::uint32_t vp = 0, bool auto_eoi = false, bool polling = false) {
    enable(vtl, vp);
    unmask(sint, vtl, vp, auto_eoi, polling);
  }

  boost::system::error_code post(unsigned sint, std::uint32_t type, std::string_view payload = {}, Vtl vtl = 0,
                                 std::uint32_t vp = 0) {
    const auto b = bytes(payload);
    return partition_.post_message(vtl, vp, static_cast<std::uint8_t>(sint), type, b);
  }

  // SINT ready, "first" in its slot and "second" queued behind it.
  void busy_slot(unsigned sint, bool auto_eoi = false) {
    ready(sint, 0, 0, auto_eoi);
    post(sint, 1, "first");
    post(sint, 2, "second");
    run();
  }

  HvMessage slot(unsigned sint, Vtl vtl = 0, std::uint32_t vp = 0) {
    HvMessage m{};
    memory.read(simp_gpa(vtl, vp) + sint * kMessageSize, std::as_writable_bytes(std::span(&m, 1)));
    return m;
  }
  static std::string payload_of(const HvMessage& m) {
    return std::string(reinterpret_cast<const char*>(m.payload.data()), m.header.payload_size);
  }
  // What a guest does after handling a message: type = 0, EOM if pending.
  void consume(unsigned sint, Vtl vtl = 0, std::uint32_t vp = 0, bool eom_if_pending = true) {
    const bool pending = (slot(sint, vtl, vp).header.message_flags & kMessageFlagPending) != 0;
    const std::uint32_t zero = 0;
    memory.write(simp_gpa(vtl, vp) + sint * kMessageSize, std::as_bytes(std::span(&zero, 1)));
    if (pending && eom_if_pending) write(HvRegisterName::eom, 0, vtl, vp);
  }
  std::uint64_t flag_word(unsigned sint, unsigned flag, Vtl vtl = 0, std::uint32_t vp = 0) {
    std::uint64_t w = 0;
    memory.read(siefp_gpa(vtl, vp) + sint * kEventFlagsSlotSize + (flag / 64) * 8,
                std::as_writable_bytes(std::span(&w, 1)));
    return w;
  }

 private:
  PartitionConfig with_error_hook(PartitionConfig c) {
    c.on_error = [this](const std::string& e) { errors.push_back(e); };
    return c;
  }
  std::vector<std::unique_ptr<FunctionInterruptSink>> sinks_;
  CallsOnlyMemory calls_only_;
  Partition partition_;
};

}  // namespace softsynic::test
