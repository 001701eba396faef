// The PL011 UART: identification, transmit to the host sink, the receive
// FIFO fed by the host with its trigger level and receive timeout, FR
// flags, IMSC/RIS/MIS/ICR, loopback, access widths, and its level
// interrupt through a GICv3 distributor SPI to a VP.
#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "devices/arm64/gic_distributor.h"
#include "devices/arm64/interrupt_line.h"
#include "devices/arm64/pl011.h"

using namespace softsynic::devices;
using namespace softsynic::devices::pl011;

namespace {

// A UART whose sink collects bytes and whose interrupt output records levels.
struct Uart {
  Uart() {
    uart.set_irq([this](bool level) { levels.push_back(level); });
  }
  std::uint32_t r(std::uint32_t off) { return static_cast<std::uint32_t>(uart.mmio_read(0, off, 4)); }
  void w(std::uint32_t off, std::uint32_t v) { uart.mmio_write(0, off, 4, v); }
  std::size_t send(std::string_view s) {
    return uart.receive(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  }
  std::string drain() {
    std::string got;
    while ((r(reg::kFr) & fr::kRxfe) == 0) got += static_cast<char>(r(reg::kDr));
    return got;
  }
  // What Linux's startup leaves: FIFOs on, 8 bits, enabled, RX and RT unmasked.
  void linux_setup() {
    w(reg::kLcrH, 0x70);
    w(reg::kCr, 0x301);
    w(reg::kImsc, irq::kRx | irq::kRt);
  }
  std::string out;
  Pl011 uart{[this](std::uint32_t, char c) { out += c; }};
  std::vector<bool> levels;
};

}  // namespace

TEST_CASE("pl011: PeriphID and CellID identify a PL011 r1p5") {
  Uart u;
  std::uint32_t periph = 0, cell = 0;
  for (std::uint32_t i = 0; i < 4; ++i) {
    periph |= (u.r(reg::kPeriphId0 + 4 * i) & 0xFF) << (8 * i);
    cell |= (u.r(reg::kPeriphId0 + 0x10 + 4 * i) & 0xFF) << (8 * i);
  }
  CHECK(periph == 0x0034'1011);
  CHECK(cell == 0xB105'F00D);
}

TEST_CASE("pl011: reset values and stored registers read back") {
  Uart u;
  CHECK(u.r(reg::kCr) == 0x300);
  CHECK(u.r(reg::kIfls) == 0x12);
  CHECK(u.r(reg::kFr) == (fr::kTxfe | fr::kRxfe | fr::kCts | fr::kDsr | fr::kDcd));
  struct Row {
    std::uint32_t offset;
    std::uint32_t written;
    std::uint32_t read;
  };
  const Row rows[] = {
      {reg::kIbrd, 0xFFFF'FFFF, 0xFFFF}, {reg::kFbrd, 0xFFFF'FFFF, 0x3F}, {reg::kLcrH, 0xFFFF'FFFF, 0xFF},
      {reg::kCr, 0xFFFF'FFFF, 0xFF87},   {reg::kIfls, 0xFFFF'FFFF, 0x3F}, {reg::kImsc, 0xFFFF'FFFF, 0x7FF},
      {reg::kIlpr, 0xFFFF'FFFF, 0xFF},   {reg::kDmacr, 0x7, 0},          {reg::kRsrEcr, 0xF, 0},
      {reg::kFr, 0, fr::kTxfe | fr::kRxfe | fr::kCts | fr::kDsr | fr::kDcd},
  };
  for (const Row& row : rows) {
    CAPTURE(row.offset);
    u.w(row.offset, row.written);
    CHECK(u.r(row.offset) == row.read);
  }
}

TEST_CASE("pl011: transmitted bytes reach the sink at once, even before the UART is enabled") {
  Uart u;
  u.w(reg::kDr, 'o');
  u.uart.mmio_write(0, reg::kDr, 2, 'k');  // the 16-bit access Linux's amba driver makes
  CHECK(u.out == "ok");
  CHECK((u.r(reg::kFr) & (fr::kTxff | fr::kBusy)) == 0);
  CHECK((u.r(reg::kFr) & fr::kTxfe) != 0);
}

TEST_CASE("pl011: the transmit interrupt rises after a byte goes out and ICR clears it") {
  Uart u;
  u.w(reg::kImsc, irq::kTx);
  CHECK_FALSE(u.uart.irq_level());
  u.w(reg::kDr, 'x');
  CHECK(u.r(reg::kRis) == irq::kTx);
  CHECK(u.r(reg::kMis) == irq::kTx);
  CHECK(u.uart.irq_level());
  u.w(reg::kIcr, irq::kTx);
  CHECK(u.r(reg::kRis) == 0);
  CHECK(u.levels == std::vector<bool>{true, false});
}

TEST_CASE("pl011: received bytes below the trigger level raise the timeout, at it the receive interrupt") {
  Uart u;
  u.linux_setup();  // trigger: half of 32
  u.send("abc");
  CHECK(u.r(reg::kRis) == irq::kRt);
  CHECK(u.uart.irq_level());
  CHECK(u.drain() == "abc");
  CHECK(u.r(reg::kRis) == 0);
  CHECK_FALSE(u.uart.irq_level());
  u.send(std::string(16, 'z'));
  CHECK(u.r(reg::kRis) == irq::kRx);
  u.w(reg::kIfls, IflsReg{}.with_rx_select(4).raw());  // 7/8: 28 bytes
  CHECK(u.r(reg::kRis) == irq::kRt);
  CHECK((u.r(reg::kFr) & fr::kRxff) == 0);
}

TEST_CASE("pl011: ICR clears RX and RT until the receiver moves again") {
  Uart u;
  u.linux_setup();
  u.send("ab");
  u.w(reg::kIcr, irq::kRt);
  CHECK(u.r(reg::kRis) == 0);
  CHECK_FALSE(u.uart.irq_level());
  u.send("c");
  CHECK(u.r(reg::kRis) == irq::kRt);
}

TEST_CASE("pl011: host bytes beyond the FIFO wait in the backlog and are never overrun") {
  Uart u;
  u.linux_setup();
  const std::string many(40, 'q');
  CHECK(u.send(many) == 40);
  CHECK(u.uart.receive_fifo_level() == kFifoDepth);
  CHECK(u.uart.backlog() == 8);
  CHECK((u.r(reg::kFr) & fr::kRxff) != 0);
  CHECK(u.drain() == many);
  CHECK(u.uart.backlog() == 0);
  SUBCASE("with FIFOs off the receiver holds one byte") {
    u.w(reg::kLcrH, 0x60);
    u.send("xy");
    CHECK(u.uart.receive_fifo_level() == 1);
    CHECK((u.r(reg::kFr) & fr::kRxff) != 0);
    CHECK(u.r(reg::kRis) == irq::kRx);
    CHECK(u.drain() == "xy");
  }
}

TEST_CASE("pl011: loopback returns transmitted bytes and holds the host's") {
  Uart u;
  u.linux_setup();
  u.w(reg::kCr, CrReg(0x301).with_loopback(true).raw());
  u.send("host");
  u.w(reg::kDr, 'L');
  CHECK(u.out.empty());
  CHECK(u.drain() == "L");
  u.w(reg::kCr, 0x301);
  CHECK(u.drain() == "host");
}

TEST_CASE("pl011: odd widths and offsets get a defined answer") {
  Uart u;
  u.send("k");
  CHECK(u.uart.mmio_read(0, reg::kFr, 8) == 0);
  CHECK(u.uart.mmio_read(0, reg::kFr + 3, 2) == 0);  // straddles the word
  CHECK(u.uart.mmio_read(0, 0x1000, 4) == 0);
  CHECK(u.uart.mmio_read(0, 0x0FC, 4) == 0);
  CHECK(u.uart.mmio_read(0, reg::kPeriphId0 + 8, 1) == 0x34);
  u.uart.mmio_write(0, reg::kIbrd + 1, 1, 0xFF);  // writes must start at the word
  u.uart.mmio_write(0, reg::kIbrd, 8, 0xFF);
  CHECK(u.r(reg::kIbrd) == 0);
  CHECK(u.uart.receive_fifo_level() == 1);  // nothing consumed the byte
}

TEST_CASE("pl011: its interrupt reaches a VP as a level SPI through the distributor") {
  constexpr std::uint32_t kUartSpi = 33;
  GicDistributor gicd({std::uint64_t{1} << 31});
  InterruptLine line;
  gicd.attach(0, line);
  line.write_sysreg(gic::icc::kPmr, 0xF0);
  line.write_sysreg(gic::icc::kIgrpen1, 1);
  gicd.mmio_write(0, gic::gicd::kCtlr, 4, 0x13);
  gicd.mmio_write(0, gic::gicd::kIsenabler + 4, 4, 1u << (kUartSpi - 32));
  Uart u;
  u.uart.set_irq([&gicd](bool level) { gicd.set_spi_level(kUartSpi, level); });
  u.linux_setup();
  u.send("hi");
  std::uint64_t iar = 0;
  line.read_sysreg(gic::icc::kIar1, iar);
  REQUIRE(iar == kUartSpi);
  CHECK(u.drain() == "hi");  // the handler empties the FIFO: the level falls
  line.write_sysreg(gic::icc::kEoir1, kUartSpi);
  CHECK_FALSE(line.irq_asserted());
  u.send("!");
  CHECK(line.irq_asserted());
}
