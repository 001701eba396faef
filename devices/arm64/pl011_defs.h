// PL011 UART register offsets and bits (Arm PrimeCell UART (PL011)
// Technical Reference Manual r1p5, "Summary of registers", "Register
// descriptions"). Definitions only; behaviour lives in Pl011 (pl011.h).
#pragma once

#include <cstdint>

namespace softsynic::devices::pl011 {

namespace reg {
inline constexpr std::uint32_t kDr = 0x000;
inline constexpr std::uint32_t kRsrEcr = 0x004;  // read RSR, write ECR (clears it)
inline constexpr std::uint32_t kFr = 0x018;
inline constexpr std::uint32_t kIlpr = 0x020;
inline constexpr std::uint32_t kIbrd = 0x024;
inline constexpr std::uint32_t kFbrd = 0x028;
inline constexpr std::uint32_t kLcrH = 0x02C;
inline constexpr std::uint32_t kCr = 0x030;
inline constexpr std::uint32_t kIfls = 0x034;
inline constexpr std::uint32_t kImsc = 0x038;
inline constexpr std::uint32_t kRis = 0x03C;
inline constexpr std::uint32_t kMis = 0x040;
inline constexpr std::uint32_t kIcr = 0x044;
inline constexpr std::uint32_t kDmacr = 0x048;
inline constexpr std::uint32_t kPeriphId0 = 0xFE0;  // PeriphID0-3 then CellID0-3, one byte per word
inline constexpr std::uint32_t kIdEnd = 0x1000;
inline constexpr std::uint64_t kWindowSize = 0x1000;
}  // namespace reg

// PeriphID 0x00341011 (part 0x011, designer 0x41 Arm, revision 3 = r1p5:
// 32-entry FIFOs) and the PrimeCell CellID 0xB105F00D, as the eight ID
// bytes at 0xFE0-0xFFC.
inline constexpr std::uint8_t kIdBytes[8] = {0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1};
inline constexpr unsigned kFifoDepth = 32;

// UARTFR: flags (read-only).
namespace fr {
inline constexpr std::uint32_t kCts = 1u << 0;
inline constexpr std::uint32_t kDsr = 1u << 1;
inline constexpr std::uint32_t kDcd = 1u << 2;
inline constexpr std::uint32_t kBusy = 1u << 3;
inline constexpr std::uint32_t kRxfe = 1u << 4;
inline constexpr std::uint32_t kTxff = 1u << 5;
inline constexpr std::uint32_t kRxff = 1u << 6;
inline constexpr std::uint32_t kTxfe = 1u << 7;
inline constexpr std::uint32_t kRi = 1u << 8;
}  // namespace fr

// Interrupt bits, the same in IMSC, RIS, MIS and ICR.
namespace irq {
inline constexpr std::uint32_t kRi = 1u << 0;
inline constexpr std::uint32_t kCts = 1u << 1;
inline constexpr std::uint32_t kDcd = 1u << 2;
inline constexpr std::uint32_t kDsr = 1u << 3;
inline constexpr std::uint32_t kRx = 1u << 4;
inline constexpr std::uint32_t kTx = 1u << 5;
inline constexpr std::uint32_t kRt = 1u << 6;  // receive timeout
inline constexpr std::uint32_t kFe = 1u << 7;
inline constexpr std::uint32_t kPe = 1u << 8;
inline constexpr std::uint32_t kBe = 1u << 9;
inline constexpr std::uint32_t kOe = 1u << 10;
inline constexpr std::uint32_t kAll = 0x7FF;
}  // namespace irq

// UARTLCR_H: BRK 0, PEN 1, EPS 2, STP2 3, FEN 4, WLEN 5-6, SPS 7.
class LcrHReg {
 public:
  static constexpr std::uint32_t kFen = 1u << 4;
  static constexpr std::uint32_t kWritable = 0xFF;
  constexpr LcrHReg() = default;
  constexpr explicit LcrHReg(std::uint32_t raw) : raw_(raw & kWritable) {}
  constexpr std::uint32_t raw() const { return raw_; }
  constexpr bool fifo_enabled() const { return (raw_ & kFen) != 0; }
  constexpr std::uint32_t word_length() const { return 5 + ((raw_ >> 5) & 3); }
  constexpr LcrHReg with_fifo_enabled(bool b) const { return LcrHReg(b ? raw_ | kFen : raw_ & ~kFen); }
  friend constexpr bool operator==(LcrHReg, LcrHReg) = default;

 private:
  std::uint32_t raw_ = 0;
};

// UARTCR: UARTEN 0, SIREN 1, SIRLP 2, LBE 7, TXE 8, RXE 9, DTR 10, RTS 11,
// OUT1 12, OUT2 13, RTSEn 14, CTSEn 15. Reset 0x0300 (TXE, RXE).
class CrReg {
 public:
  static constexpr std::uint32_t kUarten = 1u << 0;
  static constexpr std::uint32_t kLbe = 1u << 7;
  static constexpr std::uint32_t kTxe = 1u << 8;
  static constexpr std::uint32_t kRxe = 1u << 9;
  static constexpr std::uint32_t kWritable = 0xFF87;
  static constexpr std::uint32_t kReset = kTxe | kRxe;
  constexpr CrReg() = default;
  constexpr explicit CrReg(std::uint32_t raw) : raw_(raw & kWritable) {}
  constexpr std::uint32_t raw() const { return raw_; }
  constexpr bool enabled() const { return (raw_ & kUarten) != 0; }
  constexpr bool loopback() const { return (raw_ & kLbe) != 0; }
  constexpr CrReg with_loopback(bool b) const { return CrReg(b ? raw_ | kLbe : raw_ & ~kLbe); }
  friend constexpr bool operator==(CrReg, CrReg) = default;

 private:
  std::uint32_t raw_ = kReset;
};

// UARTIFLS: TXIFLSEL bits 0-2, RXIFLSEL bits 3-5; 0-4 select 1/8, 1/4,
// 1/2, 3/4, 7/8 of the FIFO. Reset 0x12 (both half full).
class IflsReg {
 public:
  static constexpr std::uint32_t kWritable = 0x3F;
  static constexpr std::uint32_t kReset = 0x12;
  constexpr IflsReg() = default;
  constexpr explicit IflsReg(std::uint32_t raw) : raw_(raw & kWritable) {}
  constexpr std::uint32_t raw() const { return raw_; }
  // The receive trigger in bytes (reserved selections act as 1/2).
  constexpr unsigned rx_trigger() const { return trigger_bytes((raw_ >> 3) & 7); }
  constexpr unsigned tx_trigger() const { return trigger_bytes(raw_ & 7); }
  constexpr IflsReg with_rx_select(std::uint32_t sel) const { return IflsReg((raw_ & ~0x38u) | ((sel & 7) << 3)); }
  friend constexpr bool operator==(IflsReg, IflsReg) = default;

 private:
  static constexpr unsigned trigger_bytes(std::uint32_t sel) {
    constexpr unsigned kEighths[5] = {1, 2, 4, 6, 7};
    return (sel < 5 ? kEighths[sel] : 4) * kFifoDepth / 8;
  }
  std::uint32_t raw_ = kReset;
};

}  // namespace softsynic::devices::pl011
