// The Linux VMBus driver's start-up sequence on x86-64 (MSRs) and ARM64
// (SetVpRegisters over SMCCC), then guest posts and signals reaching host
// ports and host traffic reaching the guest's pages.
#include <doctest/doctest.h>

#include <cstring>
#include <utility>
#include <vector>

#include "cpu_hooks/crash_msrs.h"
#include "harness.h"
#include "synic/defs/cpuid.h"
#include "synic/defs/message.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"

namespace softsynic::test {
namespace {

constexpr std::uint64_t kLinuxGuestOsId = 0x8100'0000'0000'0000;
constexpr std::uint8_t kVmbusSint = 2;
constexpr std::uint8_t kX86Vector = 0xF3;
constexpr std::uint8_t kArm64Ppi = 18;
constexpr std::uint32_t kHostMessageType = 0x42;

std::uint64_t simp_of(std::uint32_t vp) { return kSimpPage + vp * 0x2000; }
std::uint64_t siefp_of(std::uint32_t vp) { return kSiefpPage + vp * 0x2000; }

// What the guest sees after the start-up sequence: host traffic in its pages.
void check_host_traffic(Machine& m, std::uint8_t vector, bool auto_eoi) {
  const std::byte payload[] = {std::byte{1}, std::byte{2}, std::byte{3}};
  CHECK_FALSE(m.partition.post_message(0, 0, kVmbusSint, kHostMessageType, payload));
  m.run();
  const auto msg = m.read_as<HvMessage>(simp_of(0) + kVmbusSint * kMessageSize);
  CHECK(msg.header.message_type == kHostMessageType);
  CHECK(msg.header.payload_size == 3);
  CHECK(msg.payload[2] == std::byte{3});
  REQUIRE(m.sink[0].raised.size() == 1);
  CHECK(m.sink[0].raised[0].vector == vector);
  CHECK(m.sink[0].raised[0].auto_eoi == auto_eoi);

  auto port = m.partition.new_guest_event_port(0, 1, kVmbusSint, 9);
  REQUIRE(port);
  CHECK_FALSE((*port)->signal());
  m.run();
  const auto flags = m.read_as<std::uint64_t>(siefp_of(1) + kVmbusSint * kEventFlagsSlotSize);
  CHECK(flags == (std::uint64_t{1} << 9));
  REQUIRE(m.sink[1].raised.size() == 1);
  CHECK(m.sink[1].raised[0].vector == vector);
}

TEST_CASE("Linux start-up on x86-64: GUEST_OS_ID, HYPERCALL, SIMP, SIEFP, SINT2, SCONTROL, then traffic") {
  Machine m(HvArch::x86_64);
  X86Hypervisor& hv = m.x86();
  auto rdmsr = [&](std::uint32_t vp, std::uint32_t msr) {
    std::uint64_t v = 0;
    REQUIRE(hv.rdmsr(vp, 0, msr, v) == MsrResult::ok);
    return v;
  };
  auto wrmsr = [&](std::uint32_t vp, std::uint32_t msr, std::uint64_t v) { REQUIRE(hv.wrmsr(vp, 0, msr, v) == MsrResult::ok); };

  REQUIRE(hv.cpuid(0x40000000).has_value());
  wrmsr(0, msr::kGuestOsId, kLinuxGuestOsId);
  wrmsr(0, msr::kHypercall, HypercallReg(rdmsr(0, msr::kHypercall)).with_gpn(kHypercallPage >> 12).with_enabled(true).raw());
  REQUIRE(HypercallReg(rdmsr(0, msr::kHypercall)).enabled());  // the driver checks it reads back

  const bool auto_eoi = (hv.cpuid(0x40000004)->eax & (1u << 9)) == 0;
  for (std::uint32_t vp = 0; vp < 2; ++vp) {
    wrmsr(vp, msr::kSimp, PageReg(rdmsr(vp, msr::kSimp)).with_gpn(simp_of(vp) >> 12).with_enabled(true).raw());
    wrmsr(vp, msr::kSiefp, PageReg(rdmsr(vp, msr::kSiefp)).with_gpn(siefp_of(vp) >> 12).with_enabled(true).raw());
    wrmsr(vp, msr::kSint0 + kVmbusSint,
          SintReg(rdmsr(vp, msr::kSint0 + kVmbusSint)).with_vector(kX86Vector).with_masked(false).with_auto_eoi(auto_eoi).raw());
    wrmsr(vp, msr::kScontrol, ScontrolReg(rdmsr(vp, msr::kScontrol)).with_enabled(true).raw());
  }

  // CHANNELMSG_INITIATE_CONTACT-like post through the hypercall page.
  write_post_message(m, kInputPage, kMessageConn, 1, 40);
  X86RegisterFile regs;
  regs.set(X86Reg::rcx, HypercallControl{}.with_code(HvCallCode::post_message).raw());
  regs.set(X86Reg::rdx, kInputPage);
  regs.set(X86Reg::r8, 0);
  CHECK(hv.hypercall(0, 0, regs).status == HvStatus::success);
  CHECK(regs.get(X86Reg::rax) == 0);
  REQUIRE(m.message_port->messages.size() == 1);
  CHECK(m.message_port->messages[0].message_type == 1);
  CHECK(m.message_port->messages[0].payload.size() == 40);

  // A channel signal: fast HvSignalEvent.
  regs.set(X86Reg::rcx, HypercallControl{}.with_code(HvCallCode::signal_event).with_fast(true).raw());
  regs.set(X86Reg::rdx, kEventConn | (std::uint64_t{0} << 32));
  CHECK(hv.hypercall(1, 0, regs).status == HvStatus::success);
  REQUIRE(m.event_port->events.size() == 1);
  CHECK(m.event_port->events[0].vp == 1);

  check_host_traffic(m, kX86Vector, auto_eoi);
}

// The ARM64 driver's hv_set_vpreg / hv_get_vpreg: fast rep calls over SMCCC.
class Arm64Driver {
 public:
  explicit Arm64Driver(Arm64Hypervisor& hv) : hv_(hv) {}
  void set(std::uint32_t vp, HvRegisterName name, std::uint64_t value) {
    Arm64RegisterFile r = call(HvCallCode::set_vp_registers, name);
    r.set_x(6, value);
    REQUIRE(hv_.hvc(vp, 0, kHvcImmSmccc, r).status == HvStatus::success);
  }
  std::uint64_t get(std::uint32_t vp, HvRegisterName name) {
    Arm64RegisterFile r = call(HvCallCode::get_vp_registers, name);
    REQUIRE(hv_.hvc(vp, 0, kHvcImmSmccc, r).status == HvStatus::success);
    return r.x[6];
  }
  HvStatus hypercall(std::uint32_t vp, HypercallControl control, std::uint64_t a2, std::uint64_t a3 = 0) {
    Arm64RegisterFile r;
    r.set_x(0, smccc::kHvHypercall);
    r.set_x(1, control.raw());
    r.set_x(2, a2);
    r.set_x(3, a3);
    hv_.hvc(vp, 0, kHvcImmSmccc, r);
    return HypercallResult(r.x[0]).status();
  }

 private:
  static Arm64RegisterFile call(HvCallCode code, HvRegisterName name) {
    Arm64RegisterFile r;
    r.set_x(0, smccc::kHvHypercall);
    r.set_x(1, HypercallControl{}.with_code(code).with_fast(true).with_rep_count(1).raw());
    r.set_x(2, kHvPartitionIdSelf);
    r.set_x(3, kHvVpIndexSelf);
    r.set_x(4, static_cast<std::uint32_t>(name));
    return r;
  }
  Arm64Hypervisor& hv_;
};

TEST_CASE("Linux start-up on ARM64 through SetVpRegisters, then traffic") {
  Machine m(HvArch::aarch64);
  Arm64Driver driver(m.arm64());

  Arm64RegisterFile uid;
  uid.set_x(0, smccc::kVendorHypCallUid);
  m.arm64().hvc(0, 0, kHvcImmSmccc, uid);
  REQUIRE(uid.x[0] == smccc::kHyperVUid[0]);

  driver.set(0, HvRegisterName::guest_os_id, kLinuxGuestOsId);
  CHECK(driver.get(1, HvRegisterName::guest_os_id) == kLinuxGuestOsId);
  CHECK(driver.get(1, HvRegisterName::vp_index) == 1);
  for (std::uint32_t vp = 0; vp < 2; ++vp) {
    driver.set(vp, HvRegisterName::simp,
               PageReg(driver.get(vp, HvRegisterName::simp)).with_gpn(simp_of(vp) >> 12).with_enabled(true).raw());
    driver.set(vp, HvRegisterName::siefp,
               PageReg(driver.get(vp, HvRegisterName::siefp)).with_gpn(siefp_of(vp) >> 12).with_enabled(true).raw());
    driver.set(vp, sint_register(kVmbusSint),
               SintReg(driver.get(vp, sint_register(kVmbusSint))).with_vector(kArm64Ppi).with_masked(false).raw());
    driver.set(vp, HvRegisterName::scontrol,
               ScontrolReg(driver.get(vp, HvRegisterName::scontrol)).with_enabled(true).raw());
  }
  CHECK(m.partition.vp(1).scontrol(0).enabled());
  CHECK(m.partition.vp(1).sint(0, kVmbusSint).vector() == kArm64Ppi);

  write_post_message(m, kInputPage, kMessageConn, 1, 40);
  CHECK(driver.hypercall(0, HypercallControl{}.with_code(HvCallCode::post_message), kInputPage) == HvStatus::success);
  REQUIRE(m.message_port->messages.size() == 1);
  CHECK(driver.hypercall(1, HypercallControl{}.with_code(HvCallCode::signal_event).with_fast(true),
                         kEventConn | (std::uint64_t{7} << 32)) == HvStatus::success);
  REQUIRE(m.event_port->events.size() == 1);
  CHECK(m.event_port->events[0].flag == 7);

  check_host_traffic(m, kArm64Ppi, false);
}


// What Linux arm64's hyperv_init reads first (hv_get_vpreg_128), and BUG()s
// on when it fails: the identification registers, 128 bits in X6 and X7.
TEST_CASE("ARM64 identification registers: version, features with ARM64's group C bits, enlightenments") {
  HvFeatures features;
  features.stimers = true;
  features.direct_timers = true;
  Machine m(HvArch::aarch64, features);
  auto get128 = [&](HvRegisterName name) {
    Arm64RegisterFile r;
    r.set_x(0, smccc::kHvHypercall);
    r.set_x(1, HypercallControl{}.with_code(HvCallCode::get_vp_registers).with_fast(true).with_rep_count(1).raw());
    r.set_x(2, kHvPartitionIdSelf);
    r.set_x(3, kHvVpIndexSelf);
    r.set_x(4, static_cast<std::uint32_t>(name));
    REQUIRE(m.arm64().hvc(0, 0, kHvcImmSmccc, r).status == HvStatus::success);
    return std::pair{r.x[6], r.x[7]};
  };
  const auto [features_low, features_high] = get128(HvRegisterName::features);
  // Privileges as CPUID 0x40000003 EAX/EBX: SynIC, stimers, VP index, ...
  CHECK((features_low & cpuid::kAccessSynicRegs) != 0);
  CHECK((features_low >> 32 & cpuid::kPostMessages) != 0);
  // Group C: crash registers (bit 8) and direct-mode stimers (bit 13), not
  // x86's EDX numbering; nothing in the fourth word.
  CHECK((features_high & 0xFFFF'FFFF) == (cpuid::kArm64GuestCrashRegisters | cpuid::kArm64DirectSyntheticTimers));
  CHECK((features_high >> 32) == 0);
  CHECK(get128(HvRegisterName::hypervisor_version).first != 0);
  (void)get128(HvRegisterName::enlightenments);
  // Read-only.
  Arm64RegisterFile w;
  w.set_x(0, smccc::kHvHypercall);
  w.set_x(1, HypercallControl{}.with_code(HvCallCode::set_vp_registers).with_fast(true).with_rep_count(1).raw());
  w.set_x(2, kHvPartitionIdSelf);
  w.set_x(3, kHvVpIndexSelf);
  w.set_x(4, static_cast<std::uint32_t>(HvRegisterName::features));
  CHECK(m.arm64().hvc(0, 0, kHvcImmSmccc, w).status == HvStatus::invalid_parameter);
}

TEST_CASE("ARM64 crash registers by name report a crash with its message") {
  Machine m(HvArch::aarch64);
  Arm64Driver driver(m.arm64());
  std::vector<GuestCrashReport> reports;
  m.arm64().set_crash_listener([&](const GuestCrashReport& r) { reports.push_back(r); });
  const char text[] = "Kernel panic - not syncing: test";
  m.write(kInputPage, text, sizeof text - 1);
  const auto p0 = static_cast<std::uint32_t>(HvRegisterName::guest_crash_p0);
  driver.set(0, HvRegisterName(p0 + 0), 0x11);
  driver.set(0, HvRegisterName(p0 + 3), kInputPage);
  driver.set(0, HvRegisterName(p0 + 4), sizeof text - 1);
  CHECK(driver.get(0, HvRegisterName(p0 + 0)) == 0x11);
  const CrashCtlReg supported(driver.get(0, HvRegisterName::guest_crash_ctl));
  CHECK(supported.notify());
  CHECK(supported.message());
  CHECK(reports.empty());
  driver.set(0, HvRegisterName::guest_crash_ctl, CrashCtlReg{}.with_notify(true).with_message(true).raw());
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].parameters[0] == 0x11);
  CHECK(reports[0].message == text);
}

}  // namespace
}  // namespace softsynic::test
