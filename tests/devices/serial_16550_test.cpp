// The 16550 UART (PC16550D datasheet): transmit, the receive FIFO fed by
// the host, IER/IIR priorities, FCR trigger levels and the character
// timeout, LCR/DLAB, MCR.OUT2 gating the interrupt line, LSR, MSR and
// loopback, SCR; and COM1's interrupt through the I/O APIC to a local APIC.
#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "devices/apic/apic_bus.h"
#include "devices/apic/io_apic.h"
#include "devices/pc/serial_16550.h"
#include "tests/devices/apic_rig.h"

using namespace softsynic::devices;

namespace {

constexpr std::uint16_t kBase = Serial16550::kCom1;
constexpr std::uint16_t kData = kBase + 0, kIer = kBase + 1, kIir = kBase + 2, kFcr = kBase + 2, kLcr = kBase + 3,
                        kMcr = kBase + 4, kLsr = kBase + 5, kMsr = kBase + 6, kScr = kBase + 7;

// A UART whose sink collects bytes and whose interrupt line records levels.
struct Uart {
  Uart() {
    uart.set_irq([this](bool level) { edges.push_back(level); });
  }
  std::uint8_t in(std::uint16_t port) { return static_cast<std::uint8_t>(uart.io_read(0, port, 1)); }
  void out(std::uint16_t port, std::uint8_t v) { uart.io_write(0, port, 1, v); }
  std::size_t send(std::string_view s) {
    return uart.receive(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  }
  std::string drain() {
    std::string got;
    while ((in(kLsr) & uart::lsr::kDataReady) != 0) got += static_cast<char>(in(kData));
    return got;
  }
  std::string sent;
  std::vector<bool> edges;
  Serial16550 uart{kBase, [this](std::uint32_t, char c) { sent += c; }};
};

}  // namespace

TEST_CASE("16550 reset: IIR no interrupt without FIFOs, LSR THRE and TEMT, MSR CTS DSR DCD, interrupt line low") {
  Uart u;
  CHECK(u.in(kIir) == 0x01);
  CHECK(u.in(kLsr) == 0x60);
  CHECK(u.in(kMsr) == 0xB0);
  CHECK(u.in(kIer) == 0);
  CHECK_FALSE(u.uart.irq_level());
  CHECK(u.edges.empty());
}

TEST_CASE("16550 THR: bytes reach the sink at once; THRE and TEMT stay set") {
  Uart u;
  for (char c : std::string("hi\n")) u.out(kData, static_cast<std::uint8_t>(c));
  CHECK(u.sent == "hi\n");
  CHECK((u.in(kLsr) & 0x60) == 0x60);
}

TEST_CASE("16550 LCR DLAB: offsets 0 and 1 are the divisor latch; nothing is sent, IER is untouched") {
  Uart u;
  u.out(kIer, 0x05);
  u.out(kLcr, 0x83);
  u.out(kData, 0x0C);
  u.out(kIer, 0x00);
  CHECK(u.in(kData) == 0x0C);
  CHECK(u.in(kIer) == 0x00);
  CHECK(u.sent.empty());
  u.out(kLcr, 0x03);
  CHECK(u.in(kLcr) == 0x03);
  CHECK(u.in(kIer) == 0x05);
  u.out(kScr, 0x5A);
  CHECK(u.in(kScr) == 0x5A);
  u.out(kIer, 0xFF);
  CHECK(u.in(kIer) == 0x0F);  // bits 4-7 read 0
}

TEST_CASE("16550 receiver without FIFOs: one byte in RBR, DR until read, the rest waits in the host backlog") {
  Uart u;
  CHECK(u.send("abc") == 3);
  CHECK(u.uart.receive_fifo_level() == 1);
  CHECK(u.uart.backlog() == 2);
  CHECK((u.in(kLsr) & 0x03) == 0x01);  // DR, no overrun
  CHECK(u.drain() == "abc");
  CHECK((u.in(kLsr) & 0x01) == 0);
  CHECK(u.in(kData) == 0);  // empty
}

TEST_CASE("16550 FCR: 16-byte FIFO, IIR bits 6-7 set, clear-receive drops the FIFO's bytes, disabling FIFOs clears them too") {
  Uart u;
  u.out(kFcr, 0x01);
  CHECK((u.in(kIir) & 0xC0) == 0xC0);
  u.send(std::string(20, 'x'));
  CHECK(u.uart.receive_fifo_level() == 16);
  CHECK(u.uart.backlog() == 4);
  u.out(kFcr, 0x03);  // clear the receive FIFO: the backlog moves in
  CHECK(u.uart.receive_fifo_level() == 4);
  CHECK(u.uart.backlog() == 0);
  u.out(kFcr, 0x00);
  CHECK(u.uart.receive_fifo_level() == 0);
  CHECK((u.in(kIir) & 0xC0) == 0);
}

TEST_CASE("16550 received-data interrupt: at the trigger level (IIR 0x04), character timeout below it (IIR 0x0C), none without ERBFI") {
  Uart u;
  u.out(kFcr, 0x81);  // FIFOs, trigger 8
  u.send("1234");
  CHECK(u.in(kIir) == 0xC1);  // ERBFI clear
  u.out(kIer, 0x01);
  CHECK(u.in(kIir) == 0xCC);  // below the trigger: timeout
  u.send("5678");
  CHECK(u.in(kIir) == 0xC4);  // at the trigger
  CHECK(u.drain() == "12345678");
  CHECK(u.in(kIir) == 0xC1);
  u.out(kFcr, 0x00);  // without FIFOs any byte is "data available"
  u.send("z");
  CHECK(u.in(kIir) == 0x04);
}

TEST_CASE("16550 THR-empty interrupt: raised by enabling ETBEI, cleared by an IIR read that reports it, raised again by each THR write") {
  Uart u;
  u.out(kIer, 0x02);
  CHECK(u.in(kIir) == 0x02);
  CHECK(u.in(kIir) == 0x01);  // the read above cleared it
  u.out(kData, 'a');
  CHECK(u.in(kIir) == 0x02);
  // Linux's THRE test: IER 0 then THRI again re-raises it.
  u.out(kIer, 0x00);
  CHECK(u.in(kIir) == 0x01);
  u.out(kIer, 0x02);
  CHECK(u.in(kIir) == 0x02);
}

TEST_CASE("16550 IIR priority: line status, then received data, then THR empty, then modem status") {
  Uart u;
  u.out(kIer, 0x0F);
  u.out(kMcr, 0x10);  // loopback: MSR follows MCR, and a delta appears
  u.out(kMcr, 0x11);  // DTR -> DSR changes: delta DSR
  u.out(kIer, 0x0D);
  CHECK(u.in(kIir) == 0x00);  // modem status only
  u.out(kIer, 0x0F);          // THRI enabled: THR empty outranks modem status
  CHECK(u.in(kIir) == 0x02);
  u.out(kData, 'q');  // loops back: received data outranks THR empty
  CHECK(u.in(kIir) == 0x04);
  u.out(kData, 'r');  // the RBR is full (no FIFO): overrun, line status first
  CHECK(u.in(kIir) == 0x06);
  CHECK((u.in(kLsr) & 0x03) == 0x03);  // DR and OE; reading LSR clears OE
  CHECK(u.in(kIir) == 0x04);
  CHECK(u.in(kData) == 'q');
  CHECK(u.in(kIir) == 0x02);
  CHECK(u.in(kIir) == 0x00);  // THR empty was cleared by the read: modem status
  CHECK((u.in(kMsr) & 0x0F) != 0);
  CHECK(u.in(kIir) == 0x01);
  CHECK(u.sent.empty());  // loopback sends nothing out
}

TEST_CASE("16550 loopback: MSR follows MCR (CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2) with delta bits; host bytes wait until it ends") {
  Uart u;
  u.out(kMcr, 0x10);
  CHECK(u.in(kMsr) == 0x0B);  // CTS, DSR, DCD dropped: deltas, inputs 0
  u.out(kMcr, 0x1A);  // Linux's loopback check: RTS | OUT2 -> CTS | DCD
  CHECK((u.in(kMsr) & 0xF0) == 0x90);
  u.out(kMcr, 0x14);  // OUT1 -> RI
  CHECK((u.in(kMsr) & 0xF0) == 0x40);
  u.out(kMcr, 0x10);  // RI falls: trailing edge
  CHECK((u.in(kMsr) & 0x04) == 0x04);
  u.send("h");
  CHECK((u.in(kLsr) & 0x01) == 0);  // the host's byte is not on the loop
  u.out(kMcr, 0x00);
  CHECK(u.in(kData) == 'h');
  CHECK((u.in(kMsr) & 0xF0) == 0xB0);
}

TEST_CASE("16550 interrupt output: gated by MCR.OUT2; follows the pending interrupt") {
  Uart u;
  u.out(kIer, 0x01);
  u.send("k");
  CHECK_FALSE(u.uart.irq_level());  // OUT2 clear
  u.out(kMcr, 0x08);
  CHECK(u.uart.irq_level());
  u.out(kMcr, 0x00);
  CHECK_FALSE(u.uart.irq_level());
  u.out(kMcr, 0x08);
  u.in(kData);
  CHECK_FALSE(u.uart.irq_level());
  CHECK(u.edges == std::vector<bool>{true, false, true, false});
}

TEST_CASE("16550 THR write with only THRE pending: the line falls and rises, an edge for an edge-triggered input") {
  Uart u;
  u.out(kMcr, 0x08);
  u.out(kIer, 0x02);
  REQUIRE(u.edges == std::vector<bool>{true});
  u.out(kData, 'x');
  u.out(kData, 'y');
  CHECK(u.edges == std::vector<bool>{true, false, true, false, true});
  CHECK(u.sent == "xy");
}

TEST_CASE("16550 receive: the backlog holds at most kBacklogLimit bytes; receive reports what it took") {
  Uart u;
  const std::string big(Serial16550::kBacklogLimit + 10, 'b');
  CHECK(u.send(big) == Serial16550::kBacklogLimit);
  CHECK(u.uart.receive_fifo_level() == 1);  // one moved on into RBR: room for one more
  CHECK(u.send("more") == 1);
  CHECK(u.send("more") == 0);
}

TEST_CASE("16550 receive from another thread: every byte arrives once, in order") {
  Uart u;
  u.out(kFcr, 0xC1);
  std::string expected;
  for (int i = 0; i < 5000; ++i) expected += static_cast<char>('a' + i % 26);
  std::thread host([&] {
    for (std::size_t at = 0; at < expected.size(); at += 7) u.send(std::string_view(expected).substr(at, 7));
  });
  std::string got;
  while (got.size() < expected.size()) got += u.drain();
  host.join();
  CHECK(got == expected);
}

TEST_CASE("16550 on COM1's ISA line: IRQ 4 through the I/O APIC reaches the local APIC as an edge per interrupt") {
  ApicBus bus;
  test::EnabledApic cpu(0);
  bus.attach(cpu.apic);
  IoApic ioapic(bus);
  Serial16550 uart(kBase, [](std::uint32_t, char) {});
  uart.set_irq([&](bool level) { ioapic.set_line(Serial16550::kCom1Irq, level); });
  // Linux's programming: pin 4 edge, active high, fixed, to APIC 0.
  ioapic.mmio_write(ioapic::kRegSelOffset, ioapic::reg::kRedirectionFirst + 2 * 4);
  ioapic.mmio_write(ioapic::kWindowOffset, 0x24);
  uart.io_write(0, kMcr, 1, 0x0B);  // DTR, RTS, OUT2
  uart.io_write(0, kIer, 1, 0x03);  // THR empty fires at once
  REQUIRE(cpu.apic.accept() == 0x24);
  CHECK(uart.io_read(0, kIir, 1) == 0x02);
  CHECK(uart.io_read(0, kIir, 1) == 0x01);  // the handler saw it: the line is low again
  cpu.apic.eoi();
  const std::uint8_t key = 'k';
  uart.receive(std::span(&key, 1));  // a key: a new edge
  REQUIRE(cpu.apic.accept() == 0x24);
  CHECK(uart.io_read(0, kIir, 1) == 0x04);
  CHECK(uart.io_read(0, kData, 1) == 'k');
  cpu.apic.eoi();
  uart.io_write(0, kData, 1, 'o');  // a byte sent: THR empty again
  CHECK(cpu.apic.accept() == 0x24);
  CHECK(ioapic.messages_sent() == 3);
}
