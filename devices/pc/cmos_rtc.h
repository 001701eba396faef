// CmosRtc: the PC's MC146818-style real-time clock at ports 0x70 (index)
// and 0x71 (data), read-only time: seconds, minutes, hours, weekday, day,
// month, year and century (register 0x32), in BCD and 24-hour mode (status
// B 0x02), never "update in progress" (status A bit 7 clear), time valid
// (status D bit 7). The time is a fixed start (unix seconds) plus the
// reference time, so a virtual-clock run reads the same date every time
// and the clock moves as the guest's reference time does.
// Not supported: setting the time (writes to the time registers are
// ignored), alarms, periodic and update interrupts, binary or 12-hour
// mode, the rest of the CMOS RAM (reads 0).
//
// Threading: io_read/io_write are thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <mutex>

#include "devices/pc/io_port_device.h"

namespace softsynic {
class TimeSource;
}

namespace softsynic::devices {

class CmosRtc final : public IoPortDevice {
 public:
  static constexpr std::uint16_t kIndexPort = 0x70;
  static constexpr std::uint16_t kPortCount = 2;
  static constexpr std::uint64_t kStart2024 = 1'704'067'200;  // 2024-01-01 00:00:00 UTC

  explicit CmosRtc(const TimeSource& time, std::uint64_t start_unix_seconds = kStart2024)
      : time_(time), start_(start_unix_seconds) {}

  std::uint32_t io_read(std::uint32_t vp, std::uint16_t port, unsigned size) override;
  void io_write(std::uint32_t vp, std::uint16_t port, unsigned size, std::uint32_t value) override;

  // The register `index` at reference time `now` (100 ns units).
  std::uint8_t read_register(std::uint8_t index, std::uint64_t now) const;

 private:
  const TimeSource& time_;
  std::uint64_t start_;
  std::mutex mutex_;
  std::uint8_t index_ = 0;  // guarded by mutex_
};

}  // namespace softsynic::devices
