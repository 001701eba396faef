// The pc platform's port devices: fw_cfg, the 8259 ports, isa-debug-exit,
// the port bus, and the Hyper-V test device against a real partition (routes, message and event connections, bad commands).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "devices/apic/local_apic.h"
#include "devices/pc/cmos_rtc.h"
#include "devices/pc/fw_cfg.h"
#include "devices/pc/hyperv_test_device.h"
#include "devices/pc/io_port_device.h"
#include "devices/pc/legacy_pc_ports.h"
#include "devices/pc/pci_config_ports.h"
#include "synic/defs/status.h"
#include "synic/executor.h"
#include "synic/time_source.h"
#include "tests/devices/synic_rig.h"

using namespace softsynic;
using namespace softsynic::devices;

TEST_CASE("fw_cfg: a selected item reads out byte by byte, little-endian; unknown keys read 0") {
  FwCfg fw(4, 128ull << 20);
  auto read_item = [&](std::uint16_t key, unsigned n) {
    fw.io_write(0, FwCfg::kSelectorPort, 2, key);
    std::uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v |= std::uint64_t{fw.io_read(0, FwCfg::kDataPort, 1)} << (8 * i);
    return v;
  };
  CHECK(read_item(FwCfg::kSignature, 4) == 0x554D4551);  // "QEMU"
  CHECK(read_item(FwCfg::kNbCpus, 2) == 4);
  CHECK(read_item(FwCfg::kMaxCpus, 2) == 4);
  CHECK(read_item(FwCfg::kRamSize, 8) == (128ull << 20));
  CHECK(read_item(0x1234, 4) == 0);
  // Past the end of an item: 0.
  fw.io_write(0, FwCfg::kSelectorPort, 2, FwCfg::kNbCpus);
  for (int i = 0; i < 2; ++i) fw.io_read(0, FwCfg::kDataPort, 1);
  CHECK(fw.io_read(0, FwCfg::kDataPort, 1) == 0);
}

TEST_CASE("legacy pc ports: PIC masks read back after the ICW sequence, isa-debug-exit reports (code << 1) | 1") {
  LegacyPic pic;
  pic.io_write(0, 0x21, 1, 0xFF);
  pic.io_write(0, 0xA1, 1, 0xFB);
  CHECK(pic.io_read(0, 0x21, 1) == 0xFF);
  CHECK(pic.io_read(0, 0xA1, 1) == 0xFB);
  CHECK(pic.io_read(0, 0x20, 1) == 0);
  // Linux's init_8259A: ICW1 (edge, cascade, ICW4), ICW2 (vector base),
  // ICW3, ICW4 on each chip, then the masks; the ICWs are not masks.
  for (std::uint16_t base : {std::uint16_t{0x20}, std::uint16_t{0xA0}}) {
    pic.io_write(0, base, 1, 0x11);
    CHECK(pic.io_read(0, base + 1, 1) == 0);  // ICW1 clears the mask
    pic.io_write(0, base + 1, 1, 0x30);
    pic.io_write(0, base + 1, 1, 0x04);
    pic.io_write(0, base + 1, 1, 0x01);
    CHECK(pic.io_read(0, base + 1, 1) == 0);
    pic.io_write(0, base + 1, 1, 0xFF);
    CHECK(pic.io_read(0, base + 1, 1) == 0xFF);
  }
  // Single mode without ICW4: only ICW2 follows.
  pic.io_write(0, 0x20, 1, 0x12);
  pic.io_write(0, 0x21, 1, 0x08);
  pic.io_write(0, 0x21, 1, 0xFE);
  CHECK(pic.io_read(0, 0x21, 1) == 0xFE);
  pic.io_write(0, 0x20, 1, 0x20);  // OCW2 (EOI): accepted, the mask stays
  CHECK(pic.io_read(0, 0x21, 1) == 0xFE);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> exits;
  IsaDebugExit exit([&](std::uint32_t vp, std::uint32_t status) { exits.emplace_back(vp, status); });
  exit.io_write(2, 0xF4, 4, 0);
  exit.io_write(0, 0xF4, 4, 38);
  REQUIRE(exits.size() == 2);
  CHECK(exits[0] == std::make_pair(2u, 1u));
  CHECK(exits[1] == std::make_pair(0u, 77u));
}

TEST_CASE("pci config ports: CONFIG_ADDRESS reads back a 32-bit write; every device reads as absent") {
  PciConfigPorts pci;
  CHECK(pci.io_read(0, 0xCF8, 4) == 0);
  pci.io_write(0, 0xCF8, 4, 0x8000'0000);
  CHECK(pci.io_read(0, 0xCF8, 4) == 0x8000'0000);  // mechanism #1 is there
  pci.io_write(0, 0xCFB, 1, 0x01);                  // not CONFIG_ADDRESS
  CHECK(pci.io_read(0, 0xCF8, 4) == 0x8000'0000);
  CHECK(pci.io_read(0, 0xCFB, 1) == 0xFF);
  for (std::uint32_t address : {0x8000'0000u, 0x8000'0800u, 0x80FF'F8FCu}) {
    CAPTURE(address);
    pci.io_write(0, 0xCF8, 4, address);
    CHECK(pci.io_read(0, 0xCFC, 4) == 0xFFFF'FFFFu);  // vendor id 0xFFFF: no device
    CHECK(pci.io_read(0, 0xCFE, 2) == 0xFFFFu);
    CHECK(pci.io_read(0, 0xCFF, 1) == 0xFFu);
  }
  pci.io_write(0, 0xCFC, 4, 0x1234);  // ignored
  CHECK(pci.io_read(0, 0xCFC, 4) == 0xFFFF'FFFFu);
}

TEST_CASE("io port bus: claimed ranges reach their device, other ports read all ones") {
  IoPortBus bus;
  LegacyPic pic;
  bus.add(0x20, 2, pic);
  bus.write(0, 0x21, 1, 0x3C);
  CHECK(bus.read(0, 0x21, 1) == 0x3C);
  CHECK(bus.read(0, 0x22, 1) == 0xFF);
  CHECK(bus.read(0, 0x80, 2) == 0xFFFF);
  CHECK(bus.read(0, 0x80, 4) == 0xFFFF'FFFF);
  bus.write(0, 0x80, 1, 0);  // ignored
}

namespace {

struct TestDeviceRig {
  static constexpr std::uint8_t kVector = 0xB5;
  static constexpr unsigned kSint = 5;
  explicit TestDeviceRig(std::uint32_t vps) {
    PartitionConfig c;
    c.vp_count = vps;
    partition = std::make_unique<Partition>(c, ram, exec.executor());
    for (std::uint32_t vp = 0; vp < vps; ++vp) {
      LocalApicConfig ac;
      ac.apic_id = vp;
      apics.push_back(std::make_unique<LocalApic>(ac));
      apics.back()->mmio_write(apic::reg::kSvr, 0x1FF);
      apics.back()->attach_synic(partition->vp(vp), 0);
      REQUIRE(test::enable_synic(partition->vp(vp), vp));
      REQUIRE(test::unmask_sint(partition->vp(vp), kSint, kVector, true));
    }
    device = std::make_unique<HypervTestDevice>(*partition, [this](const std::string& l) { log.push_back(l); });
  }
  void command(std::uint32_t writer, std::uint32_t conn, std::uint32_t control, std::uint32_t vp, std::uint32_t sint) {
    device->io_write(writer, HypervTestDevice::kPort, 4, conn << 24 | control << 16 | vp << 8 | sint);
    exec.run_until_idle();
  }
  DeterministicExecutor exec;
  RamGuestMemory ram{test::kRamSize};
  std::unique_ptr<Partition> partition;
  std::vector<std::unique_ptr<LocalApic>> apics;
  std::unique_ptr<HypervTestDevice> device;
  std::vector<std::string> log;
};

}  // namespace

TEST_CASE("hyperv test device: a SINT route asserts the target VP's SINT vector, and only while it exists") {
  TestDeviceRig r(2);
  r.command(0, 0, 1, 1, TestDeviceRig::kSint);  // route to vp1
  r.command(0, 0, 3, 1, TestDeviceRig::kSint);  // assert it from vp0
  CHECK(r.apics[1]->accept() == TestDeviceRig::kVector);
  CHECK_FALSE(r.apics[0]->pending_vector());
  r.command(1, 0, 2, 1, TestDeviceRig::kSint);  // destroy
  r.command(0, 0, 3, 1, TestDeviceRig::kSint);  // no route: ignored
  CHECK_FALSE(r.apics[1]->pending_vector());
  REQUIRE(r.log.size() == 1);
  CHECK(r.log[0].find("no such route") != std::string::npos);
  CHECK(r.device->route_count() == 0);
}

TEST_CASE("hyperv test device: a message connection echoes the guest's post to (vp, sint)") {
  TestDeviceRig r(1);
  r.command(0, 0x10, 4, 0, TestDeviceRig::kSint);
  const std::byte payload[8]{std::byte{1}, std::byte{2}};
  CHECK(r.partition->guest_post_message(0, 0, 0x10, 0x1234, payload) == HvStatus::success);
  r.exec.run_until_idle();
  test::GuestPages pages(r.ram, 0);
  CHECK(pages.slot(TestDeviceRig::kSint).message_type == 0x1234);
  CHECK(pages.slot(TestDeviceRig::kSint).payload_size == 8);
  CHECK(r.apics[0]->accept() == TestDeviceRig::kVector);
  r.command(0, 0x10, 5, 0, 0);
  CHECK(r.partition->guest_post_message(0, 0, 0x10, 0x1234, payload) == HvStatus::invalid_connection_id);
  CHECK(r.log.empty());
}

TEST_CASE("hyperv test device: an event connection sets flag `conn` and raises the SINT once") {
  TestDeviceRig r(1);
  r.command(0, 0x21, 6, 0, TestDeviceRig::kSint);
  CHECK(r.partition->guest_signal_event(0, 0, 0x21, 0) == HvStatus::success);
  CHECK(r.partition->guest_signal_event(0, 0, 0x21, 0) == HvStatus::success);  // already set: no new interrupt
  r.exec.run_until_idle();
  test::GuestPages pages(r.ram, 0);
  CHECK(pages.take_flags(TestDeviceRig::kSint) == (std::uint64_t{1} << 0x21));
  CHECK(r.apics[0]->accept() == TestDeviceRig::kVector);
  CHECK_FALSE(r.apics[0]->pending_vector());
  r.command(0, 0x21, 7, 0, 0);
  CHECK(r.partition->guest_signal_event(0, 0, 0x21, 0) == HvStatus::invalid_connection_id);
}

TEST_CASE("hyperv test device: invalid commands are logged and ignored") {
  TestDeviceRig r(2);
  struct Bad {
    std::uint32_t conn, control, vp, sint;
    const char* why;
  };
  const Bad bad[] = {
      {0, 9, 0, 0, "unknown control"},       {0, 0, 0, 0, "unknown control"},
      {0, 1, 2, 0, "no such VP"},            {0, 1, 0, 16, "no such SINT"},
      {0, 2, 0, 3, "no such route"},         {0x10, 5, 0, 0, "no such connection"},
      {0x10, 7, 0, 0, "no such connection"},
  };
  for (const Bad& b : bad) {
    INFO(b.why);
    r.log.clear();
    r.command(0, b.conn, b.control, b.vp, b.sint);
    REQUIRE(r.log.size() == 1);
    CHECK(r.log[0].find(b.why) != std::string::npos);
  }
  r.command(0, 0, 1, 0, 3);
  r.log.clear();
  r.command(0, 0, 1, 0, 3);
  CHECK(r.log.size() == 1);  // route exists
  r.command(0, 0x10, 4, 0, 3);
  r.log.clear();
  r.command(0, 0x10, 4, 1, 3);
  CHECK(r.log.size() == 1);  // connection exists
  r.log.clear();
  r.device->io_write(0, HypervTestDevice::kPort, 1, 0x01);
  CHECK(r.log.size() == 1);  // only 32-bit writes are commands
}

TEST_CASE("cmos rtc: the date and time in BCD follow reference time from the fixed start") {
  softsynic::VirtualClock clock;
  softsynic::devices::CmosRtc rtc(clock);  // 2024-01-01 00:00:00, a Monday
  auto reg = [&](std::uint8_t index) {
    rtc.io_write(0, 0x70, 1, index | 0x80);  // the NMI-mask bit is not part of the index
    return rtc.io_read(0, 0x71, 1);
  };
  CHECK(reg(0x09) == 0x24);
  CHECK(reg(0x32) == 0x20);
  CHECK(reg(0x08) == 0x01);
  CHECK(reg(0x07) == 0x01);
  CHECK(reg(0x06) == 0x02);
  CHECK((reg(0x0A) & 0x80) == 0);  // never "update in progress"
  CHECK(reg(0x0B) == 0x02);         // 24-hour, BCD
  CHECK(reg(0x0D) == 0x80);
  clock.set((31ull * 86400 + 13 * 3600 + 45 * 60 + 59) * 10'000'000);  // 2024-02-01 13:45:59
  CHECK(reg(0x08) == 0x02);
  CHECK(reg(0x07) == 0x01);
  CHECK(reg(0x04) == 0x13);
  CHECK(reg(0x02) == 0x45);
  CHECK(reg(0x00) == 0x59);
  CHECK(rtc.io_read(0, 0x70, 1) == 0x00);  // the index as written, bit 7 dropped
}
