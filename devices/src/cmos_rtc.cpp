// The CMOS real-time clock; see devices/pc/cmos_rtc.h.
#include "devices/pc/cmos_rtc.h"

#include "synic/time_source.h"

namespace softsynic::devices {
namespace {

constexpr std::uint8_t bcd(unsigned v) { return static_cast<std::uint8_t>(((v / 10) << 4) | (v % 10)); }

struct Civil {
  unsigned year, month, day, hour, minute, second, weekday;  // weekday: 1 = Sunday
};

// Unix seconds to a proleptic Gregorian date and time (the usual era /
// day-of-era arithmetic over 400-year cycles).
Civil civil_from_unix(std::uint64_t t) {
  const std::uint64_t days = t / 86400, secs = t % 86400;
  const std::int64_t z = static_cast<std::int64_t>(days) + 719468;
  const std::int64_t era = z / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  Civil c{};
  c.year = static_cast<unsigned>(y);
  c.month = static_cast<unsigned>(m);
  c.day = static_cast<unsigned>(d);
  c.hour = static_cast<unsigned>(secs / 3600);
  c.minute = static_cast<unsigned>(secs / 60 % 60);
  c.second = static_cast<unsigned>(secs % 60);
  c.weekday = static_cast<unsigned>((days + 4) % 7) + 1;  // 1970-01-01 was a Thursday
  return c;
}

}  // namespace

std::uint8_t CmosRtc::read_register(std::uint8_t index, std::uint64_t now) const {
  const Civil c = civil_from_unix(start_ + now / 10'000'000);
  switch (index) {
    case 0x00: return bcd(c.second);
    case 0x02: return bcd(c.minute);
    case 0x04: return bcd(c.hour);
    case 0x06: return bcd(c.weekday);
    case 0x07: return bcd(c.day);
    case 0x08: return bcd(c.month);
    case 0x09: return bcd(c.year % 100);
    case 0x32: return bcd(c.year / 100);
    case 0x0A: return 0x26;  // 32.768 kHz divider, 1024 Hz rate, no update in progress
    case 0x0B: return 0x02;  // 24-hour, BCD, no interrupts
    case 0x0C: return 0x00;  // no interrupt flags
    case 0x0D: return 0x80;  // time and RAM valid
    default: return 0;
  }
}

std::uint32_t CmosRtc::io_read(std::uint32_t, std::uint16_t port, unsigned) {
  std::lock_guard lock(mutex_);
  if (port == kIndexPort) return index_;
  return read_register(index_, time_.now());
}

void CmosRtc::io_write(std::uint32_t, std::uint16_t port, unsigned, std::uint32_t value) {
  std::lock_guard lock(mutex_);
  // Bit 7 of the index port is the NMI mask on a PC: not an index bit.
  if (port == kIndexPort) index_ = static_cast<std::uint8_t>(value & 0x7F);
}

}  // namespace softsynic::devices
