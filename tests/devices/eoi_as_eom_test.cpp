// EOI acts as EOM: with a real partition, a message queued behind a busy
// SIMP slot is delivered once the guest frees the slot and EOIs the SINT's
// (non-auto-EOI) vector, without writing EOM. Table-driven across the x86-64
// local APIC and the ARM64 interrupt line.
#include <doctest/doctest.h>

#include <string>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "devices/apic/local_apic.h"
#include "devices/arm64/interrupt_line.h"
#include "synic/executor.h"
#include "tests/devices/synic_rig.h"

using namespace softsynic;
using namespace softsynic::devices;
using devices::test::GuestPages;

namespace {

constexpr unsigned kSint = 3;

// The guest's interrupt controller operations, per ABI.
struct Controller {
  virtual ~Controller() = default;
  virtual void attach(SynicVp& vp) = 0;
  virtual std::optional<std::uint32_t> take() = 0;  // acknowledge the next interrupt
  virtual void eoi(std::uint32_t vector) = 0;
  virtual bool pending(std::uint32_t vector) const = 0;
  virtual InterruptSink& sink() = 0;
};

struct ApicController final : Controller {
  ApicController() { apic.mmio_write(apic::reg::kSvr, 0x1FF); }
  void attach(SynicVp& vp) override { apic.attach_synic(vp, 0); }
  std::optional<std::uint32_t> take() override { return apic.accept(); }
  void eoi(std::uint32_t) override { apic.eoi(); }
  bool pending(std::uint32_t v) const override { return apic.irr().test(static_cast<std::uint8_t>(v)); }
  InterruptSink& sink() override { return apic; }
  LocalApic apic;
};

struct LineController final : Controller {
  LineController() {
    line.write_sysreg(gic::icc::kPmr, 0xFF);
    line.write_sysreg(gic::icc::kIgrpen1, 1);
    line.gicr_write(gic::gicr::kIsenabler0, 0xFFFF0000);  // all PPIs
    for (std::uint32_t intid = 16; intid < 32; ++intid) line.set_priority(intid, 0x80);
    line.set_priority(kOtherPpi, 0x40);  // may preempt the SINT's INTID
  }
  static constexpr std::uint32_t kOtherPpi = 20;
  void attach(SynicVp& vp) override { line.attach_synic(vp, 0); }
  std::optional<std::uint32_t> take() override {
    const std::uint32_t intid = line.acknowledge();
    return intid == gic::kSpuriousIntid ? std::nullopt : std::optional(intid);
  }
  void eoi(std::uint32_t v) override { line.write_sysreg(gic::icc::kEoir1, v); }
  bool pending(std::uint32_t v) const override { return line.pending(v); }
  InterruptSink& sink() override { return line; }
  InterruptLine line;
};

struct Abi {
  const char* name;
  std::uint8_t vector;  // x86-64: APIC vector; ARM64: PPI INTID
  std::uint8_t other;   // a vector no SINT uses, of higher priority
  bool auto_eoi;
  std::function<std::unique_ptr<Controller>()> make;
};

const std::vector<Abi>& abis() {
  static const std::vector<Abi> rows{
      {"x86-64 local APIC", 0xB3, 0xC0, false, [] { return std::make_unique<ApicController>(); }},
      {"ARM64 interrupt line", 19, LineController::kOtherPpi, false, [] { return std::make_unique<LineController>(); }},
  };
  return rows;
}

struct Rig {
  explicit Rig(const Abi& abi) : controller(abi.make()) {
    PartitionConfig c;
    c.vp_count = 1;
    partition = std::make_unique<Partition>(c, ram, exec.executor());
    controller->attach(partition->vp(0));
    REQUIRE(devices::test::enable_synic(partition->vp(0), 0));
    REQUIRE(devices::test::unmask_sint(partition->vp(0), kSint, abi.vector, abi.auto_eoi));
  }
  void post(std::uint32_t type) {
    const std::byte payload[1]{std::byte{0x5A}};
    REQUIRE_FALSE(partition->post_message(0, 0, kSint, type, payload));
    exec.run_until_idle();
  }
  // Message 1 in the slot and its interrupt taken (in service); message 2
  // queued behind it (message_pending set); the guest then frees the slot
  // without writing EOM.
  void busy_slot_then_free(const Abi& abi) {
    post(1);
    REQUIRE(pages.slot(kSint).message_type == 1);
    REQUIRE(controller->take() == abi.vector);
    post(2);
    CHECK((pages.slot(kSint).message_flags & kMessageFlagPending) != 0);
    CHECK_FALSE(controller->pending(abi.vector));  // a busy slot raises nothing
    CHECK(partition->vp(0).queued_messages(0, kSint) == 1);
    CHECK(pages.free_slot(kSint));
    exec.run_until_idle();
  }
  DeterministicExecutor exec;
  RamGuestMemory ram{devices::test::kRamSize};
  std::unique_ptr<Controller> controller;
  std::unique_ptr<Partition> partition;
  GuestPages pages{ram, 0};
};

}  // namespace

TEST_CASE("eoi as eom: a queued message lands after the guest frees the slot and EOIs the SINT's vector") {
  for (const Abi& abi : abis()) {
    const std::string case_name = abi.name;
    INFO(case_name);
    Rig r(abi);
    r.busy_slot_then_free(abi);
    CHECK(r.pages.slot(kSint).message_type == 0);  // nothing happens before the EOI
    CHECK(r.partition->vp(0).queued_messages(0, kSint) == 1);

    r.controller->eoi(abi.vector);
    r.exec.run_until_idle();
    CHECK(r.pages.slot(kSint).message_type == 2);
    CHECK(r.partition->vp(0).queued_messages(0, kSint) == 0);
    CHECK(r.controller->pending(abi.vector));  // the redelivery raised the SINT again
    CHECK(r.controller->take() == abi.vector);
  }
}

TEST_CASE("eoi as eom: an EOI of another vector does not retry the SINT") {
  for (const Abi& abi : abis()) {
    const std::string case_name = abi.name;
    INFO(case_name);
    Rig r(abi);
    r.busy_slot_then_free(abi);
    r.controller->sink().request_interrupt(abi.other, false);  // a nested, non-SINT interrupt
    REQUIRE(r.controller->take() == abi.other);
    r.controller->eoi(abi.other);
    r.exec.run_until_idle();
    CHECK(r.pages.slot(kSint).message_type == 0);
    CHECK(r.partition->vp(0).queued_messages(0, kSint) == 1);
  }
}

TEST_CASE("eoi as eom: an auto-EOI SINT needs EOM, since its vector never reaches the ISR") {
  Abi abi = abis()[0];
  abi.auto_eoi = true;
  Rig r(abi);
  auto& apic = static_cast<ApicController&>(*r.controller).apic;
  r.busy_slot_then_free(abi);
  CHECK(apic.isr().empty());
  apic.eoi();  // nothing in service: no retry
  r.exec.run_until_idle();
  CHECK(r.pages.slot(kSint).message_type == 0);
  REQUIRE(r.partition->vp(0).write_register(0, HvRegisterName::eom, 0) == RegisterAccess::ok);
  r.exec.run_until_idle();
  CHECK(r.pages.slot(kSint).message_type == 2);
  CHECK(apic.accept() == abi.vector);
}
