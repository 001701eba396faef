// fuzz_hypercall: hypercall decode and dispatch (TLFS "Hypercall
// Interface") from random registers and guest pages, on both
// architectures: x86-64 (64-bit and 32-bit conventions, Intel and AMD
// hypercall pages, MSRs) through X86Hypervisor::hypercall/rdmsr/wrmsr and
// ARM64 (HVC #1, SMCCC HVC #0, other immediates) through
// Arm64Hypervisor::hvc, with message and event ports registered, including
// ports that refuse or throw.
//
// Invariants checked after every call: nothing escapes as an exception; the
// status is a named HV_STATUS; the result register holds that status; reps
// completed never exceed the rep count; only result and output registers
// are written; a port sees a message or event only when the guest gets
// SUCCESS, and never one the core should have refused.
// Not covered here: timers (the STIMER owners are not registered).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "cpu_hooks/arm64_hypervisor.h"
#include "cpu_hooks/x86_hypervisor.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/invariant.h"
#include "synic/defs/hypercall.h"
#include "synic/defs/message.h"
#include "synic/defs/registers.h"
#include "synic/executor.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"
#include "synic/time_source.h"

namespace softsynic::fuzz {
namespace {

constexpr std::uint32_t kVpCount = 2;
constexpr Vtl kVtlCount = 2;
constexpr std::uint64_t kRamSize = 0x40000;  // 256 KiB
constexpr std::uint64_t kInputPage = 0x10000;
constexpr std::uint64_t kOutputPage = 0x11000;

enum Conn : std::uint32_t {
  kMessage = 1,         // VTL 0 and up
  kEvent = 2,           // VTL 0 and up
  kMessageVtl1 = 3,     // VTL 1 and up
  kMessageFull = 4,     // always answers "full"
  kMessageThrows = 5,   // throws
  kEventThrows = 6,     // throws
};

struct Counts {
  std::uint64_t messages = 0;  // accepted by a port
  std::uint64_t events = 0;    // seen by a non-throwing port
};

class CheckingMessagePort final : public MessagePort {
 public:
  enum class Mode { accept, full, throws };
  CheckingMessagePort(Counts& counts, Vtl minimum_vtl, Mode mode)
      : counts_(counts), minimum_vtl_(minimum_vtl), mode_(mode) {}
  bool on_message(const GuestMessage& m) override {
    check(m.vp < kVpCount && m.vtl < kVtlCount, "message port called for a VP or VTL out of range");
    check(m.vtl >= minimum_vtl_, "message port called below its minimum VTL");
    check(m.payload.size() <= kMessagePayloadMax, "message port got a payload over 240 bytes");
    check(m.message_type != 0 && (m.message_type & kHvMessageTypeHypervisorBit) == 0,
          "message port got type 0 or a hypervisor type");
    switch (mode_) {
      case Mode::accept:
        ++counts_.messages;
        return true;
      case Mode::full:
        return false;
      case Mode::throws:
      default:
        throw std::runtime_error("port failure");
    }
  }

 private:
  Counts& counts_;
  Vtl minimum_vtl_;
  Mode mode_;
};

class CheckingEventPort final : public EventPort {
 public:
  CheckingEventPort(Counts& counts, bool throws) : counts_(counts), throws_(throws) {}
  void on_event(const GuestEvent& e) override {
    check(e.vp < kVpCount && e.vtl < kVtlCount, "event port called for a VP or VTL out of range");
    check(e.flag < kEventFlagsPerSint, "event port got a flag >= 2048");
    if (throws_) throw std::runtime_error("port failure");
    ++counts_.events;
  }

 private:
  Counts& counts_;
  bool throws_;
};

class NullSink final : public InterruptSink {
 public:
  void request_interrupt(std::uint32_t, bool) override {}
};

// Feature switches the first bytes may turn off.
void apply_features(FuzzInput& in, HvFeatures& f) {
  const std::uint8_t off = in.u8();
  f.synic = !(off & 0x01);
  f.hypercall = !(off & 0x02);
  f.post_messages = !(off & 0x04);
  f.signal_events = !(off & 0x08);
  f.xmm_fast_hypercalls = !(off & 0x10);
  f.sint_polling = !(off & 0x20);
  f.vp_index = !(off & 0x40);
  f.time_ref_count = !(off & 0x80);
}

HypercallControl fuzz_control(FuzzInput& in) {
  static constexpr std::uint16_t kCodes[] = {0x0050, 0x0051, 0x005C, 0x005D};
  std::uint64_t raw = in.u64();
  const std::uint8_t shape = in.u8();
  if (shape & 0x01) raw &= HypercallControl::kDefinedBits;  // mostly-legal controls
  if (shape & 0x02) raw = (raw & ~std::uint64_t{0xFFFF}) | kCodes[(shape >> 2) & 3];
  HypercallControl c(raw);
  if (shape & 0x10) c = c.with_rep_count((shape >> 5) & 3).with_rep_start(0);
  if (shape & 0x80) c = c.with_variable_header_size(0).with_nested(false);
  return c;
}

std::uint64_t fuzz_gpa(FuzzInput& in) {
  switch (in.below(8)) {
    case 0:
    case 1:
      return kInputPage;
    case 2:
      return kOutputPage;
    case 3:
      return kInputPage + in.u8() * 8u;  // aligned, maybe crossing the page end
    case 4:
      return kInputPage + in.u8();       // maybe misaligned
    case 5:
      return kRamSize - 8 * in.below(64);  // at the end of RAM
    case 6:
      return 0x4000'0000;                // outside RAM
    default:
      return in.u64();
  }
}

// A block in the input page: raw bytes, or a PostMessage / SignalEvent /
// Get/SetVpRegisters input shaped enough to get past the first checks.
void write_block(FuzzInput& in, GuestMemory& ram) {
  static constexpr std::uint32_t kConns[] = {kMessage, kEvent, kMessageVtl1, kMessageFull, kMessageThrows, kEventThrows};
  std::array<std::byte, 512> block{};
  const std::uint32_t offset = in.u8() * 8u;
  switch (in.below(4)) {
    case 0: {
      PostMessageInput p{};
      p.connection_id = in.flag() ? kConns[in.below(6)] : in.u32();
      p.message_type = in.flag() ? in.u8() : in.u32();
      p.payload_size = in.flag() ? in.u8() : in.u32();
      in.bytes(std::as_writable_bytes(std::span(p.payload)).first(in.u8() % (kMessagePayloadMax + 1)));
      std::memcpy(block.data(), &p, sizeof p);
      ram.write(kInputPage + offset, std::span(block).first(sizeof p));
      return;
    }
    case 1: {
      SignalEventInput s{kConns[in.below(6)], in.u16(), in.u16()};
      ram.write(kInputPage + offset, std::as_bytes(std::span(&s, 1)));
      return;
    }
    case 2: {
      VpRegistersInputHeader h{};
      h.partition_id = in.flag() ? kHvPartitionIdSelf : in.u64();
      h.vp_index = in.flag() ? kHvVpIndexSelf : in.below(4);
      h.input_vtl = in.u8();
      std::memcpy(block.data(), &h, sizeof h);
      // Register names (Get) or name/value pairs (Set) follow the header.
      const std::uint32_t names = in.below(8);
      std::size_t at = sizeof h;
      for (std::uint32_t i = 0; i < names; ++i) {
        HvRegisterAssoc a{};
        a.name = in.flag() ? static_cast<std::uint32_t>(HvRegisterName::sint0) + in.below(24) : in.u32();
        a.value = {in.u64(), in.flag() ? 0 : in.u64()};
        std::memcpy(block.data() + at, &a, sizeof a);
        at += sizeof a;
      }
      ram.write(kInputPage + offset, std::span(block).first(at));
      return;
    }
    default: {
      const std::size_t n = in.u8() + 1u;
      in.bytes(std::span(block).first(n));
      ram.write(kInputPage + offset, std::span(block).first(n));
      return;
    }
  }
}

struct Rig {
  explicit Rig(HvArch arch, FuzzInput& in)
      : ram(fresh_ram()), partition(config(), ram, exec.executor()) {
    for (std::uint32_t vp = 0; vp < kVpCount; ++vp)
      for (Vtl vtl = 0; vtl < kVtlCount; ++vtl) partition.vp(vp).set_interrupt_sink(vtl, &sink);
    using Mode = CheckingMessagePort::Mode;
    add(partition.add_message_port(kMessage, 0, std::make_shared<CheckingMessagePort>(counts, 0, Mode::accept)));
    add(partition.add_event_port(kEvent, 0, std::make_shared<CheckingEventPort>(counts, false)));
    add(partition.add_message_port(kMessageVtl1, 1, std::make_shared<CheckingMessagePort>(counts, 1, Mode::accept)));
    add(partition.add_message_port(kMessageFull, 0, std::make_shared<CheckingMessagePort>(counts, 0, Mode::full)));
    add(partition.add_message_port(kMessageThrows, 0,
                                   std::make_shared<CheckingMessagePort>(counts, 0, Mode::throws)));
    add(partition.add_event_port(kEventThrows, 0, std::make_shared<CheckingEventPort>(counts, true)));
    HvConfig hv;
    hv.arch = arch;
    hv.vendor = in.flag() ? X86Vendor::amd : X86Vendor::intel;
    apply_features(in, hv.features);
    if (arch == HvArch::x86_64)
      x86 = std::make_unique<X86Hypervisor>(partition, hv, clock);
    else
      arm64 = std::make_unique<Arm64Hypervisor>(partition, hv, clock);
  }
  // One RAM for the whole run, zeroed per input: mapping and unmapping it
  // per input would cost more than the input itself.
  static RamGuestMemory& fresh_ram() {
    static RamGuestMemory ram(kRamSize);
    static const std::vector<std::byte> zeros(kRamSize);
    ram.write(0, zeros);
    return ram;
  }
  static PartitionConfig config() {
    PartitionConfig c;
    c.vp_count = kVpCount;
    c.vtl_count = kVtlCount;
    c.sint_queue_capacity = 4;
    return c;
  }
  void add(boost::system::result<PortHandle> r) {
    check(r.has_value(), "port registration failed");
    handles.push_back(std::move(*r));
  }

  DeterministicExecutor exec;
  RamGuestMemory& ram;
  VirtualClock clock;
  NullSink sink;
  Counts counts;
  Partition partition;
  std::vector<PortHandle> handles;
  std::unique_ptr<X86Hypervisor> x86;
  std::unique_ptr<Arm64Hypervisor> arm64;
};

void check_outcome(const HypercallOutcome& o, HypercallControl control, std::uint64_t result_raw,
                   const Counts& before, const Counts& after) {
  if (o.action != HypercallAction::completed) {
    check(!o.registers_written, "registers written although the call did not complete");
    check(after.messages == before.messages && after.events == before.events,
          "a port was called by a call that did not complete");
    return;
  }
  check(o.registers_written, "a completed call wrote no register");
  if (!o.is_hypercall) return;
  check(!status_name(o.status).empty(), "status is not a named HV_STATUS");
  const HypercallResult result(result_raw);
  check(result.status() == o.status, "result register disagrees with the outcome's status");
  check(result.reps_completed() == o.reps_completed, "result register disagrees with reps completed");
  check(o.reps_completed <= control.rep_count(), "more reps completed than requested");
  if (o.status == HvStatus::success) check(o.reps_completed == control.rep_count(), "success without every rep");
  const bool post = control.code() == HvCallCode::post_message;
  const std::uint64_t delivered = after.messages - before.messages;
  check(delivered == ((post && o.status == HvStatus::success) ? 1u : 0u),
        "a port saw a message the guest was not told succeeded (or vice versa)");
  check(after.events - before.events <= 1, "one SignalEvent reached a port twice");
  if (control.code() != HvCallCode::signal_event)
    check(after.events == before.events, "an event port was called by another call");
}

void x86_call(Rig& rig, FuzzInput& in, std::uint32_t vp, Vtl vtl) {
  X86RegisterFile regs;
  regs.is_long_mode = !in.flag() || !in.flag();  // mostly 64-bit
  for (auto& r : regs.gpr) r = in.flag() ? in.u64() : 0;
  for (auto& x : regs.xmm) x = {in.flag() ? in.u64() : 0, in.flag() ? in.u64() : 0};
  const HypercallControl control = fuzz_control(in);
  const std::uint64_t input = fuzz_gpa(in);
  const std::uint64_t output = fuzz_gpa(in);
  if (regs.is_long_mode) {
    regs.set(X86Reg::rcx, control.raw());
    regs.set(X86Reg::rdx, input);
    regs.set(X86Reg::r8, output);
  } else {
    regs.set(X86Reg::rdx, control.raw() >> 32);
    regs.set(X86Reg::rax, control.raw() & 0xFFFF'FFFF);
    regs.set(X86Reg::rbx, input >> 32);
    regs.set(X86Reg::rcx, input & 0xFFFF'FFFF);
    regs.set(X86Reg::rdi, output >> 32);
    regs.set(X86Reg::rsi, output & 0xFFFF'FFFF);
  }
  regs.clear_written();
  const X86RegisterFile before_regs = regs;
  const Counts before = rig.counts;
  const HypercallOutcome o = rig.x86->hypercall(vp, vtl, regs);

  // Only the result register(s) and XMM output may change.
  const std::uint32_t allowed = regs.is_long_mode ? (1u << static_cast<unsigned>(X86Reg::rax))
                                                  : (1u << static_cast<unsigned>(X86Reg::rax)) |
                                                        (1u << static_cast<unsigned>(X86Reg::rdx));
  check((regs.written & ~allowed) == 0, "a register other than the result was written");
  for (unsigned r = 0; r < kX86RegCount; ++r)
    if (!(allowed >> r & 1u))
      check(regs.gpr[r] == before_regs.gpr[r], "a general register changed without being reported written");
  if (o.action == HypercallAction::invalid_opcode) check(regs.written == 0 && regs.xmm_written == 0, "#UD wrote registers");
  check(regs.is_long_mode || regs.xmm_written == 0, "the 32-bit convention wrote XMM registers");
  const std::uint64_t result = regs.is_long_mode ? regs.get(X86Reg::rax)
                                                 : (regs.get(X86Reg::rdx) << 32) | (regs.get(X86Reg::rax) & 0xFFFF'FFFF);
  check(o.action != HypercallAction::not_mine, "x86 hypercall answered not_mine");
  check_outcome(o, control, result, before, rig.counts);
}

void arm64_call(Rig& rig, FuzzInput& in, std::uint32_t vp, Vtl vtl) {
  Arm64RegisterFile regs;
  for (auto& x : regs.x) x = in.flag() ? in.u64() : 0;
  std::uint16_t imm = kHvcImmHyperV;
  switch (in.below(4)) {
    case 0:
      imm = kHvcImmHyperV;
      break;
    case 1:
    case 2:
      imm = kHvcImmSmccc;
      break;
    default:
      imm = in.u16();
      break;
  }
  const HypercallControl control = fuzz_control(in);
  const std::uint64_t input = fuzz_gpa(in);
  const std::uint64_t output = fuzz_gpa(in);
  const unsigned base = imm == kHvcImmSmccc ? 1 : 0;  // SMCCC shifts the hypercall one register up
  if (imm == kHvcImmSmccc) {
    const std::uint8_t pick = in.u8();
    regs.x[0] = pick < 200 ? smccc::kHvHypercall : pick < 230 ? smccc::kVendorHypCallUid : in.u64();
  }
  regs.x[base + 0] = control.raw();
  if (!control.fast()) {
    regs.x[base + 1] = input;
    regs.x[base + 2] = output;
  }
  regs.clear_written();
  const Arm64RegisterFile before_regs = regs;
  const Counts before = rig.counts;
  const HypercallOutcome o = rig.arm64->hvc(vp, vtl, imm, regs);

  check((regs.written & ~0x3FFFFu) == 0, "a register above X17 was written");
  for (unsigned n = 18; n < kArm64XCount; ++n) check(regs.x[n] == before_regs.x[n], "X18-X30 changed");
  if (imm != kHvcImmSmccc && imm != kHvcImmHyperV) {
    check(o.action == HypercallAction::not_mine && regs.written == 0, "a foreign HVC immediate was handled");
    return;
  }
  check(o.action == HypercallAction::completed, "HVC #0/#1 not completed");
  check_outcome(o, control, regs.x[0], before, rig.counts);
}

void msr_access(Rig& rig, FuzzInput& in, std::uint32_t vp, Vtl vtl) {
  static constexpr std::uint32_t kMsrs[] = {
      msr::kGuestOsId, msr::kHypercall, msr::kVpIndex, msr::kTimeRefCount, msr::kReferenceTsc, msr::kScontrol,
      msr::kSversion,  msr::kSiefp,     msr::kSimp,    msr::kEom,          msr::kSint0,        msr::kSint0 + 15,
      msr::kStimer0Config, msr::kStimer0Count, msr::kApicEoi, msr::kVpAssistPage};
  const std::uint32_t m = in.flag() ? kMsrs[in.below(16)] : in.u32();
  std::uint64_t value = 0;
  switch (in.below(4)) {
    case 0:
      value = PageReg{}.with_enabled(true).with_gpn((kInputPage >> 12) + in.below(48)).raw();
      break;
    case 1:
      value = SintReg{}.with_masked(false).with_vector(in.u8()).raw() | (in.u8() & 0x1F) << 16;
      break;
    case 2:
      value = in.u8();
      break;
    default:
      value = in.u64();
      break;
  }
  if (in.flag()) {
    const MsrResult r = rig.x86->wrmsr(vp, vtl, m, value);
    std::uint64_t back = 0;
    // A write the owner took must read back unless the register is EOM
    // (reads 0), HYPERCALL (enable may be dropped), GUEST_OS_ID, or
    // write-only; those are checked by the unit tests.
    if (r == MsrResult::ok && m >= msr::kSint0 && m < msr::kSint0 + msr::kSintCount && vp < kVpCount &&
        vtl < kVtlCount) {
      check(rig.x86->rdmsr(vp, vtl, m, back) == MsrResult::ok && back == value, "accepted SINT write did not read back");
    }
  } else {
    rig.x86->rdmsr(vp, vtl, m, value);
  }
}

void host_post(Rig& rig, FuzzInput& in) {
  std::array<std::byte, 256> payload{};
  const std::size_t size = in.u8();
  in.bytes(std::span(payload).first(std::min<std::size_t>(size, payload.size())));
  const auto ec = rig.partition.post_message(in.below(3), in.below(3), in.below(18), in.u32(),
                                             std::span(payload).first(std::min<std::size_t>(size, payload.size())));
  (void)ec;  // every answer is legal here; the unit tests check which
}

}  // namespace
}  // namespace softsynic::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softsynic;
  using namespace softsynic::fuzz;
  FuzzInput in(data, size);
  const HvArch arch = (in.u8() & 1) ? HvArch::aarch64 : HvArch::x86_64;
  Rig rig(arch, in);
  for (int step = 0; step < 64 && !in.empty(); ++step) {
    // VP and VTL 2 are out of range: host misuse the hooks must answer.
    const std::uint32_t vp = in.u8() < 240 ? in.below(kVpCount) : in.below(8);
    const Vtl vtl = static_cast<Vtl>(in.u8() < 240 ? in.below(kVtlCount) : in.below(4));
    switch (in.below(8)) {
      case 0:
      case 1:
      case 2:
        arch == HvArch::x86_64 ? x86_call(rig, in, vp, vtl) : arm64_call(rig, in, vp, vtl);
        break;
      case 3:
      case 4:
        write_block(in, rig.ram);
        break;
      case 5:
        if (arch == HvArch::x86_64) msr_access(rig, in, vp, vtl);
        break;
      case 6:
        host_post(rig, in);
        break;
      default:
        rig.exec.run_until_idle();
        break;
    }
  }
  rig.exec.run_until_idle();
  return 0;
}
