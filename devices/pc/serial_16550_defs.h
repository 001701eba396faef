// 16550 UART register offsets and bits (National Semiconductor PC16550D
// datasheet, "Registers", Table II "Summary of Registers", 8.1-8.11).
// Definitions only; behaviour lives in Serial16550 (serial_16550.h).
#pragma once

#include <cstdint>

namespace softsynic::devices::uart {

// Offsets from the base port. DLAB (LCR bit 7) turns 0 and 1 into the
// divisor latch.
namespace reg {
inline constexpr unsigned kData = 0;  // read RBR, write THR; DLL with DLAB
inline constexpr unsigned kIer = 1;   // DLM with DLAB
inline constexpr unsigned kIir = 2;   // read IIR, write FCR
inline constexpr unsigned kLcr = 3;
inline constexpr unsigned kMcr = 4;
inline constexpr unsigned kLsr = 5;
inline constexpr unsigned kMsr = 6;
inline constexpr unsigned kScr = 7;
}  // namespace reg

// IER (8.4): the four interrupt enables; bits 4-7 read 0.
namespace ier {
inline constexpr std::uint8_t kReceivedData = 0x01;  // ERBFI: data available and character timeout
inline constexpr std::uint8_t kThrEmpty = 0x02;      // ETBEI
inline constexpr std::uint8_t kLineStatus = 0x04;    // ELSI
inline constexpr std::uint8_t kModemStatus = 0x08;   // EDSSI
inline constexpr std::uint8_t kDefined = 0x0F;
}  // namespace ier

// IIR (8.5, Table IV): bit 0 clear when an interrupt is pending, bits 1-3
// its identification in priority order, bits 6-7 set when FIFOs are on.
namespace iir {
inline constexpr std::uint8_t kNone = 0x01;
inline constexpr std::uint8_t kLineStatus = 0x06;        // priority 1: OE, PE, FE, BI
inline constexpr std::uint8_t kReceivedData = 0x04;      // 2: data at the trigger level
inline constexpr std::uint8_t kCharacterTimeout = 0x0C;  // 2: data below it, nothing arriving
inline constexpr std::uint8_t kThrEmpty = 0x02;          // 3
inline constexpr std::uint8_t kModemStatus = 0x00;       // 4
inline constexpr std::uint8_t kFifosEnabled = 0xC0;
}  // namespace iir

// FCR (8.6), write-only.
namespace fcr {
inline constexpr std::uint8_t kEnable = 0x01;
inline constexpr std::uint8_t kClearReceive = 0x02;
inline constexpr std::uint8_t kClearTransmit = 0x04;
inline constexpr unsigned kTriggerShift = 6;  // bits 6-7: receive trigger level 1, 4, 8, 14
inline constexpr std::uint8_t kTriggerLevels[4] = {1, 4, 8, 14};
}  // namespace fcr

inline constexpr std::uint8_t kLcrDlab = 0x80;  // LCR bit 7 (8.2)

// MCR (8.7): bits 5-7 read 0.
namespace mcr {
inline constexpr std::uint8_t kDtr = 0x01;
inline constexpr std::uint8_t kRts = 0x02;
inline constexpr std::uint8_t kOut1 = 0x04;
inline constexpr std::uint8_t kOut2 = 0x08;  // on a PC it gates INTR onto the ISA IRQ line
inline constexpr std::uint8_t kLoop = 0x10;
inline constexpr std::uint8_t kDefined = 0x1F;
}  // namespace mcr

// LSR (8.3).
namespace lsr {
inline constexpr std::uint8_t kDataReady = 0x01;
inline constexpr std::uint8_t kOverrun = 0x02;
inline constexpr std::uint8_t kThrEmpty = 0x20;          // THRE
inline constexpr std::uint8_t kTransmitterEmpty = 0x40;  // TEMT
}  // namespace lsr

// MSR (8.8): bits 0-3 the changes since the last read, bits 4-7 the inputs.
namespace msr {
inline constexpr std::uint8_t kDeltaCts = 0x01;
inline constexpr std::uint8_t kDeltaDsr = 0x02;
inline constexpr std::uint8_t kTrailingEdgeRi = 0x04;
inline constexpr std::uint8_t kDeltaDcd = 0x08;
inline constexpr std::uint8_t kDeltas = 0x0F;
inline constexpr std::uint8_t kCts = 0x10;
inline constexpr std::uint8_t kDsr = 0x20;
inline constexpr std::uint8_t kRi = 0x40;
inline constexpr std::uint8_t kDcd = 0x80;
}  // namespace msr

inline constexpr unsigned kFifoSize = 16;

}  // namespace softsynic::devices::uart
