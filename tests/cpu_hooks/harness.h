// Test harness for the CPU hooks: a small partition on the deterministic
// executor with recording host ports and interrupt sinks, and one "ABI"
// object per hypercall calling convention so the same expectations run
// through x86-64 (slow, fast, XMM fast), 32-bit x86 and ARM64 (HVC #1,
// SMCCC).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cpu_hooks/arm64_hypervisor.h"
#include "cpu_hooks/x86_hypervisor.h"
#include "synic/defs/hypercall.h"
#include "synic/defs/message.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"
#include "synic/time_source.h"

namespace softsynic::test {

inline constexpr std::uint64_t kRamSize = 1 << 20;
// A page the tests never touch, for hypercall blocks.
inline constexpr std::uint64_t kInputPage = 0x10000;
inline constexpr std::uint64_t kOutputPage = 0x11000;
inline constexpr std::uint64_t kSimpPage = 0x20000;
inline constexpr std::uint64_t kSiefpPage = 0x21000;
inline constexpr std::uint64_t kHypercallPage = 0x30000;
inline constexpr std::uint64_t kOutsideRam = 0x4000'0000;

// Connection ids of the ports every Machine registers.
inline constexpr std::uint32_t kMessageConn = 0x10;      // minimum VTL 0
inline constexpr std::uint32_t kMessageConnVtl1 = 0x11;  // minimum VTL 1
inline constexpr std::uint32_t kEventConn = 0x20;        // minimum VTL 0
inline constexpr std::uint32_t kEventConnVtl1 = 0x21;    // minimum VTL 1

struct ReceivedMessage {
  Vtl vtl;
  std::uint32_t vp;
  std::uint32_t connection_id;
  std::uint32_t message_type;
  std::vector<std::byte> payload;
};

class RecordingMessagePort final : public MessagePort {
 public:
  bool on_message(const GuestMessage& m) override;
  std::vector<ReceivedMessage> messages;
  bool full = false;  // answer "full" (INSUFFICIENT_BUFFERS)
};

class RecordingEventPort final : public EventPort {
 public:
  void on_event(const GuestEvent& e) override { events.push_back(e); }
  std::vector<GuestEvent> events;
};

class RecordingSink final : public InterruptSink {
 public:
  void request_interrupt(std::uint32_t vector, bool auto_eoi) override { raised.push_back({vector, auto_eoi}); }
  struct Raised {
    std::uint32_t vector;
    bool auto_eoi;
  };
  std::vector<Raised> raised;
};

// A partition with two VPs and two VTLs, its ports, sinks and the
// hypervisor of the chosen architecture.
class Machine {
 public:
  explicit Machine(HvArch arch, HvFeatures features = {}, X86Vendor vendor = X86Vendor::intel);
  ~Machine();

  X86Hypervisor& x86() { return *x86_; }
  Arm64Hypervisor& arm64() { return *arm64_; }
  SyntheticRegisters& registers() { return x86_ ? x86_->registers() : arm64_->registers(); }

  void write(std::uint64_t gpa, const void* data, std::size_t size);
  std::vector<std::byte> read(std::uint64_t gpa, std::size_t size);
  template <typename T>
  T read_as(std::uint64_t gpa) {
    T v{};
    ram.read(gpa, std::as_writable_bytes(std::span(&v, 1)));
    return v;
  }
  void run() { executor.run_until_idle(); }

  RamGuestMemory ram{kRamSize};
  DeterministicExecutor executor;
  VirtualClock clock;
  Partition partition;
  std::shared_ptr<RecordingMessagePort> message_port = std::make_shared<RecordingMessagePort>();
  std::shared_ptr<RecordingMessagePort> message_port_vtl1 = std::make_shared<RecordingMessagePort>();
  std::shared_ptr<RecordingEventPort> event_port = std::make_shared<RecordingEventPort>();
  std::shared_ptr<RecordingEventPort> event_port_vtl1 = std::make_shared<RecordingEventPort>();
  RecordingSink sink[2];

 private:
  std::vector<PortHandle> handles_;
  std::unique_ptr<X86Hypervisor> x86_;
  std::unique_ptr<Arm64Hypervisor> arm64_;
};

// One hypercall as the guest means it, independent of the ABI.
struct GuestCall {
  HypercallControl control;
  std::uint64_t input_gpa = 0;
  std::uint64_t output_gpa = 0;
  std::vector<std::uint64_t> fast;  // fast input slots, in order
};

struct CallResult {
  HypercallOutcome outcome;
  HypercallResult result;              // as read from the result register(s)
  std::vector<std::uint64_t> slots;    // every fast slot after the call
  std::vector<std::string> written;    // registers written, sorted by name
};

// A hypercall calling convention.
class Abi {
 public:
  virtual ~Abi() = default;
  virtual std::string name() const = 0;
  virtual HvArch arch() const = 0;
  virtual bool supports_fast() const { return true; }
  // Registers the result lands in, sorted by name.
  virtual std::vector<std::string> result_registers() const = 0;
  // Name of fast slot i (for checking written registers).
  virtual std::string slot_name(unsigned i) const = 0;
  virtual CallResult call(Machine& m, std::uint32_t vp, Vtl vtl, const GuestCall& c) const = 0;
  // Features this ABI needs switched on (XMM fast).
  virtual HvFeatures features() const { return {}; }
};

// x86-64 (RDX/R8 fast only), x86-64 with XMM fast, 32-bit x86, ARM64
// HVC #1, ARM64 SMCCC.
const std::vector<const Abi*>& all_abis();
const Abi& abi_named(const std::string& name);

// Expected register names: result registers plus the given fast slots.
std::vector<std::string> written_names(const Abi& abi, std::vector<unsigned> output_slots = {});

// A PostMessageInput block written at gpa.
void write_post_message(Machine& m, std::uint64_t gpa, std::uint32_t connection, std::uint32_t type,
                        std::uint32_t payload_size, std::uint8_t fill = 0xA5);

}  // namespace softsynic::test
