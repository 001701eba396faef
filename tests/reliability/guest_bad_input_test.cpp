// Guest bad input through the CPU hooks (TLFS "Hypercall Interface",
// "Synthetic MSRs"): malformed hypercall control values, block addresses at
// the edges of RAM and of the address space, and every MSR write that
// raises #GP. Hypercall rows run through x86-64, 32-bit x86, ARM64 HVC #1
// and ARM64 SMCCC; each row checks the status, that nothing reached a port
// and that no output was written.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "cpu_hooks/arm64_hypervisor.h"
#include "cpu_hooks/x86_hypervisor.h"
#include "rig.h"
#include "synic/defs/hypercall.h"
#include "synic/time_source.h"

namespace softsynic::reliability {
namespace {

constexpr std::uint64_t kIn = 0x10000;
constexpr std::uint64_t kOut = 0x11000;
constexpr std::uint32_t kConn = 0x10;
constexpr std::uint32_t kEventConn = 0x20;

enum class Abi { x86_64, x86_32, arm64_hvc1, arm64_smccc };
constexpr Abi kAbis[] = {Abi::x86_64, Abi::x86_32, Abi::arm64_hvc1, Abi::arm64_smccc};
const char* abi_name(Abi a) {
  switch (a) {
    case Abi::x86_64:
      return "x86-64";
    case Abi::x86_32:
      return "x86 32-bit";
    case Abi::arm64_hvc1:
      return "arm64 HVC #1";
    case Abi::arm64_smccc:
    default:
      return "arm64 SMCCC";
  }
}

// A partition of two VPs with a message and an event port, and the
// hypervisor of the ABI's architecture.
struct Machine {
  explicit Machine(Abi abi, HvFeatures features = {}) : abi(abi), rig(exec.executor(), config(2, 1, 4)) {
    HvConfig c;
    c.features = features;
    mh = rig.partition().add_message_port(kConn, 0, message_port).value();
    eh = rig.partition().add_event_port(kEventConn, 0, event_port).value();
    if (abi == Abi::x86_64 || abi == Abi::x86_32) {
      c.arch = HvArch::x86_64;
      x86 = std::make_unique<X86Hypervisor>(rig.partition(), c, clock);
    } else {
      c.arch = HvArch::aarch64;
      arm64 = std::make_unique<Arm64Hypervisor>(rig.partition(), c, clock);
    }
  }

  // A slow call; returns the status from the result register.
  HvStatus call(HypercallControl control, std::uint64_t in, std::uint64_t out) {
    std::uint64_t result = 0;
    switch (abi) {
      case Abi::x86_64: {
        X86RegisterFile r;
        r.set(X86Reg::rcx, control.raw());
        r.set(X86Reg::rdx, in);
        r.set(X86Reg::r8, out);
        x86->hypercall(0, 0, r);
        result = r.get(X86Reg::rax);
        break;
      }
      case Abi::x86_32: {
        X86RegisterFile r;
        r.is_long_mode = false;
        r.set(X86Reg::rdx, control.raw() >> 32);
        r.set(X86Reg::rax, control.raw() & 0xFFFF'FFFF);
        r.set(X86Reg::rbx, in >> 32);
        r.set(X86Reg::rcx, in & 0xFFFF'FFFF);
        r.set(X86Reg::rdi, out >> 32);
        r.set(X86Reg::rsi, out & 0xFFFF'FFFF);
        x86->hypercall(0, 0, r);
        result = (r.get(X86Reg::rdx) << 32) | (r.get(X86Reg::rax) & 0xFFFF'FFFF);
        break;
      }
      case Abi::arm64_hvc1: {
        Arm64RegisterFile r;
        r.set_x(0, control.raw());
        r.set_x(1, in);
        r.set_x(2, out);
        arm64->hvc(0, 0, kHvcImmHyperV, r);
        result = r.get_x(0);
        break;
      }
      case Abi::arm64_smccc:
      default: {
        Arm64RegisterFile r;
        r.set_x(0, smccc::kHvHypercall);
        r.set_x(1, control.raw());
        r.set_x(2, in);
        r.set_x(3, out);
        arm64->hvc(0, 0, kHvcImmSmccc, r);
        result = r.get_x(0);
        break;
      }
    }
    return HypercallResult(result).status();
  }

  void write(std::uint64_t gpa, const void* data, std::size_t size) {
    rig.memory.write(gpa, std::span(static_cast<const std::byte*>(data), size));
  }
  void post_block(std::uint64_t gpa, std::uint32_t conn = kConn, std::uint32_t type = 1, std::uint32_t size = 8) {
    PostMessageInput p{};
    p.connection_id = conn;
    p.message_type = type;
    p.payload_size = size;
    write(gpa, &p, sizeof p);
  }
  void signal_block(std::uint64_t gpa, std::uint32_t conn, std::uint16_t flag) {
    const SignalEventInput s{conn, flag, 0};
    write(gpa, &s, sizeof s);
  }
  void get_block(std::uint64_t gpa, std::uint32_t name) {
    VpRegistersInputHeader h{};
    h.partition_id = kHvPartitionIdSelf;
    h.vp_index = kHvVpIndexSelf;
    write(gpa, &h, sizeof h);
    write(gpa + sizeof h, &name, sizeof name);
  }
  bool output_untouched() {
    std::array<std::byte, 64> out{};
    rig.memory.read(kOut, out);
    for (std::byte b : out)
      if (b != std::byte{0xEE}) return false;
    return true;
  }

  Abi abi;
  DeterministicExecutor exec;
  VirtualClock clock;
  Rig rig;
  std::shared_ptr<RecordingMessagePort> message_port = std::make_shared<RecordingMessagePort>();
  std::shared_ptr<CountingEventPort> event_port = std::make_shared<CountingEventPort>();
  PortHandle mh, eh;
  std::unique_ptr<X86Hypervisor> x86;
  std::unique_ptr<Arm64Hypervisor> arm64;
};

HypercallControl control(HvCallCode code) { return HypercallControl{}.with_code(code); }

struct Row {
  const char* what;
  std::function<HvStatus(Machine&)> call;
  HvStatus expect;
};

const std::vector<Row>& rows() {
  static const std::vector<Row> r{
      {"call code 0x0000", [](Machine& m) { return m.call(control(HvCallCode(0x0000)), kIn, kOut); },
       HvStatus::invalid_hypercall_code},
      {"call code 0xFFFF", [](Machine& m) { return m.call(control(HvCallCode(0xFFFF)), kIn, kOut); },
       HvStatus::invalid_hypercall_code},
      {"reserved control bits 27-30",
       [](Machine& m) {
         m.post_block(kIn);
         return m.call(HypercallControl(control(HvCallCode::post_message).raw() | (0xFull << 27)), kIn, 0);
       },
       HvStatus::invalid_hypercall_input},
      {"reserved control bits 44-47",
       [](Machine& m) {
         m.post_block(kIn);
         return m.call(HypercallControl(control(HvCallCode::post_message).raw() | (0xFull << 44)), kIn, 0);
       },
       HvStatus::invalid_hypercall_input},
      {"reserved control bits 60-63",
       [](Machine& m) {
         m.post_block(kIn);
         return m.call(HypercallControl(control(HvCallCode::post_message).raw() | (0xFull << 60)), kIn, 0);
       },
       HvStatus::invalid_hypercall_input},
      {"every control bit set", [](Machine& m) { return m.call(HypercallControl(~std::uint64_t{0}), kIn, kOut); },
       HvStatus::invalid_hypercall_input},
      {"PostMessage block at the top of the address space",
       [](Machine& m) { return m.call(control(HvCallCode::post_message), 0xFFFF'FFFF'FFFF'F000, 0); },
       HvStatus::invalid_parameter},
      {"PostMessage block crossing the top of the address space",
       [](Machine& m) { return m.call(control(HvCallCode::post_message), 0xFFFF'FFFF'FFFF'FFF8, 0); },
       HvStatus::invalid_hypercall_input},
      {"PostMessage block in the last page of RAM",
       [](Machine& m) {
         m.post_block(kRamSize - kHvPageSize);
         return m.call(control(HvCallCode::post_message), kRamSize - kHvPageSize, 0);
       },
       HvStatus::success},
      {"PostMessage block just past the end of RAM",
       [](Machine& m) { return m.call(control(HvCallCode::post_message), kRamSize, 0); }, HvStatus::invalid_parameter},
      {"PostMessage payload size 2^32 - 1",
       [](Machine& m) {
         m.post_block(kIn, kConn, 1, 0xFFFF'FFFF);
         return m.call(control(HvCallCode::post_message), kIn, 0);
       },
       HvStatus::invalid_parameter},
      {"PostMessage connection id 0",
       [](Machine& m) {
         m.post_block(kIn, 0);
         return m.call(control(HvCallCode::post_message), kIn, 0);
       },
       HvStatus::invalid_connection_id},
      {"SignalEvent flag 2048",
       [](Machine& m) {
         m.signal_block(kIn, kEventConn, 2048);
         return m.call(control(HvCallCode::signal_event), kIn, 0);
       },
       HvStatus::invalid_parameter},
      {"SignalEvent flag 0xFFFF",
       [](Machine& m) {
         m.signal_block(kIn, kEventConn, 0xFFFF);
         return m.call(control(HvCallCode::signal_event), kIn, 0);
       },
       HvStatus::invalid_parameter},
      {"GetVpRegisters output outside RAM",
       [](Machine& m) {
         m.get_block(kIn, static_cast<std::uint32_t>(HvRegisterName::scontrol));
         return m.call(control(HvCallCode::get_vp_registers).with_rep_count(1), kIn, kOutsideRam);
       },
       HvStatus::invalid_parameter},
      {"GetVpRegisters output misaligned",
       [](Machine& m) {
         m.get_block(kIn, static_cast<std::uint32_t>(HvRegisterName::scontrol));
         return m.call(control(HvCallCode::get_vp_registers).with_rep_count(1), kIn, kOut + 4);
       },
       HvStatus::invalid_alignment},
      {"GetVpRegisters rep start beyond rep count",
       [](Machine& m) {
         m.get_block(kIn, static_cast<std::uint32_t>(HvRegisterName::scontrol));
         return m.call(control(HvCallCode::get_vp_registers).with_rep_count(1).with_rep_start(2), kIn, kOut);
       },
       HvStatus::invalid_hypercall_input},
      {"GetVpRegisters input outside RAM",
       [](Machine& m) { return m.call(control(HvCallCode::get_vp_registers).with_rep_count(1), kOutsideRam, kOut); },
       HvStatus::invalid_parameter},
  };
  return r;
}

TEST_CASE("bad hypercalls: malformed controls and block addresses get the architected status on every ABI") {
  for (Abi abi : kAbis)
    for (const Row& row : rows()) {
      INFO(abi_name(abi) << ": " << row.what);
      Machine m(abi);
      std::array<std::byte, 4096> fill{};
      fill.fill(std::byte{0xEE});
      m.rig.memory.write(kOut, fill);
      const HvStatus s = row.call(m);
      CHECK(status_name(s) == status_name(row.expect));
      if (row.expect != HvStatus::success) {
        CHECK(m.message_port->payloads().empty());
        CHECK(m.event_port->count == 0);
        CHECK(m.output_untouched());
      }
    }
}

TEST_CASE("bad hypercalls: 32-bit x86 GPAs use both register halves, so a high half puts the block outside RAM") {
  Machine m(Abi::x86_32);
  m.post_block(kIn);
  CHECK(m.call(control(HvCallCode::post_message), kIn | (std::uint64_t{1} << 32), 0) == HvStatus::invalid_parameter);
  CHECK(m.call(control(HvCallCode::post_message), kIn, 0) == HvStatus::success);
  CHECK(m.message_port->payloads().size() == 1);
}

struct MsrRow {
  const char* what;
  std::uint32_t msr;
  std::uint64_t value;
  std::function<void(Machine&)> before = [](Machine&) {};
  HvFeatures features = {};
};

HvFeatures without(bool HvFeatures::*member) {
  HvFeatures f;
  f.*member = false;
  return f;
}

TEST_CASE("bad MSR writes: every invalid SynIC and hypervisor MSR write raises #GP and changes nothing") {
  const std::uint64_t page_in_ram = enabled_page(0x30000);
  const MsrRow rows[] = {
      {"SCONTROL bit 1", msr::kScontrol, 0x2},
      {"SCONTROL bit 63", msr::kScontrol, std::uint64_t{1} << 63},
      {"SVERSION write", msr::kSversion, 1},
      {"SIMP reserved bit 1", msr::kSimp, page_in_ram | 0x2},
      {"SIMP reserved bit 11", msr::kSimp, page_in_ram | 0x800},
      {"SIEFP reserved bits 1-11", msr::kSiefp, page_in_ram | 0xFFE},
      {"SINT reserved bits 8-15", msr::kSint0, 0x10000 | 0xFF00},
      {"SINT reserved bit 21", msr::kSint0 + 5, 0x10000 | (1u << 21)},
      {"SINT reserved bit 63", msr::kSint0 + 15, 0x10000 | (std::uint64_t{1} << 63)},
      {"SINT unmasked with vector 15", msr::kSint0 + 2, 0x0F},
      {"SINT unmasked with vector 0", msr::kSint0 + 3, 0x00},
      {"SINT polling without the sint_polling feature", msr::kSint0, SintReg{}.with_masked(false).with_vector(0x40).with_polling(true).raw(),
       [](Machine&) {}, without(&HvFeatures::sint_polling)},
      {"VP_INDEX write", msr::kVpIndex, 0},
      {"TIME_REF_COUNT write", msr::kTimeRefCount, 0},
      {"HYPERCALL reserved bits 2-11", msr::kHypercall, 0x30000 | 0x1 | 0x4},
      {"HYPERCALL write after lock", msr::kHypercall, 0,
       [](Machine& m) {
         CHECK(m.x86->wrmsr(0, 0, msr::kGuestOsId, 1) == MsrResult::ok);
         CHECK(m.x86->wrmsr(0, 0, msr::kHypercall, 0x30000 | 0x3) == MsrResult::ok);
       }},
      {"HYPERCALL page outside RAM", msr::kHypercall, kOutsideRam | 0x1,
       [](Machine& m) { CHECK(m.x86->wrmsr(0, 0, msr::kGuestOsId, 1) == MsrResult::ok); }},
      {"SCONTROL with the synic feature off", msr::kScontrol, 1, [](Machine&) {}, without(&HvFeatures::synic)},
      {"SINT with the synic feature off", msr::kSint0, 0x10000, [](Machine&) {}, without(&HvFeatures::synic)},
      {"GUEST_OS_ID with the hypercall feature off", msr::kGuestOsId, 1, [](Machine&) {}, without(&HvFeatures::hypercall)},
      {"VP_INDEX read-only and hidden", msr::kVpIndex, 1, [](Machine&) {}, without(&HvFeatures::vp_index)},
      {"STIMER0_CONFIG with the stimers feature off", msr::kStimer0Config, 1},
  };
  for (const MsrRow& row : rows) {
    INFO(row.what);
    Machine m(Abi::x86_64, row.features);
    row.before(m);
    std::uint64_t before = 0;
    const MsrResult readable = m.x86->rdmsr(0, 0, row.msr, before);
    CHECK(m.x86->wrmsr(0, 0, row.msr, row.value) == MsrResult::gp);
    std::uint64_t after = 0;
    if (readable == MsrResult::ok) {
      CHECK(m.x86->rdmsr(0, 0, row.msr, after) == MsrResult::ok);
      CHECK(after == before);
    }
  }
}

TEST_CASE("bad MSR access: a VTL or VP out of range raises #GP rather than touching another VP") {
  Machine m(Abi::x86_64);
  std::uint64_t value = 0;
  CHECK(m.x86->wrmsr(0, 1, msr::kScontrol, 1) == MsrResult::gp);
  CHECK(m.x86->rdmsr(0, 1, msr::kScontrol, value) == MsrResult::gp);
  CHECK(m.x86->wrmsr(2, 0, msr::kScontrol, 1) == MsrResult::gp);
  CHECK(m.x86->rdmsr(7, 0, msr::kSimp, value) == MsrResult::gp);
  CHECK(m.rig.vp(0).scontrol(0) == ScontrolReg{});
  CHECK(m.rig.vp(1).scontrol(0) == ScontrolReg{});
}

}  // namespace
}  // namespace softsynic::reliability
