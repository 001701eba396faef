// Serial16550: see devices/pc/serial_16550.h.
#include "devices/pc/serial_16550.h"

namespace softsynic::devices {
namespace {

// Register offsets and bits (PC16550D data sheet).
constexpr unsigned kData = 0;  // RBR / THR; DLL with DLAB
constexpr unsigned kIer = 1;   // DLM with DLAB
constexpr unsigned kIir = 2;   // FCR on write
constexpr unsigned kLcr = 3;
constexpr unsigned kMcr = 4;
constexpr unsigned kLsr = 5;
constexpr unsigned kMsr = 6;
constexpr unsigned kScr = 7;
constexpr std::uint8_t kLcrDlab = 0x80;
constexpr std::uint8_t kLsrThre = 0x20;  // transmit holding register empty
constexpr std::uint8_t kLsrTemt = 0x40;  // transmitter empty
constexpr std::uint8_t kIirNone = 0x01;  // no interrupt pending
constexpr std::uint8_t kMsrDcdDsrCts = 0xB0;

}  // namespace

std::uint32_t Serial16550::io_read(std::uint32_t, std::uint16_t port, unsigned) {
  std::lock_guard lock(mutex_);
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (static_cast<unsigned>(port - base_)) {
    case kData:
      return dlab ? dll_ : 0;
    case kIer:
      return dlab ? dlm_ : ier_;
    case kIir:
      return kIirNone;
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr:
      return kLsrThre | kLsrTemt;
    case kMsr:
      return kMsrDcdDsrCts;
    case kScr:
      return scr_;
    default:
      return 0xFF;
  }
}

void Serial16550::io_write(std::uint32_t vp, std::uint16_t port, unsigned, std::uint32_t value) {
  const auto byte = static_cast<std::uint8_t>(value);
  bool transmit = false;
  {
    std::lock_guard lock(mutex_);
    const bool dlab = (lcr_ & kLcrDlab) != 0;
    switch (static_cast<unsigned>(port - base_)) {
      case kData:
        if (dlab) {
          dll_ = byte;
        } else {
          transmit = true;
        }
        break;
      case kIer:
        (dlab ? dlm_ : ier_) = byte;
        break;
      case kLcr:
        lcr_ = byte;
        break;
      case kMcr:
        mcr_ = byte;
        break;
      case kScr:
        scr_ = byte;
        break;
      case kIir:  // FCR: FIFOs are not modelled
      case kLsr:
      case kMsr:
      default:
        break;
    }
  }
  if (transmit && out_) out_(vp, static_cast<char>(byte));
}

}  // namespace softsynic::devices
