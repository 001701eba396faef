// AcpiPmDevice: the PC platform's ACPI power-management ports, just enough
// for an ACPI power-off (ACPI 6.3, 4.8.3.1 PM1 event registers, 4.8.3.2
// PM1 control registers, 4.8.3.7 sleep control and status registers;
// 7.4.2 "\_Sx (System States)"). The ports come from acpi::PmLayout, the
// same value the FADT is built from (devices/pc/acpi_tables.h):
//  - PM1a event block: status (write 1 to clear; nothing ever sets a bit,
//    as no fixed event is modelled) and enable (keeps what was written);
//  - PM1a control: SCI_EN reads 1 (always ACPI mode), the other bits read
//    back as written, SLP_EN reads 0; a write with SLP_EN and SLP_TYP equal
//    to the S5 type calls `power_off`;
//  - the hardware-reduced sleep control register: a write with SLP_EN and
//    the S5 SLP_TYP calls `power_off`; the sleep status register reads 0.
// Both power-off paths are always decoded, whichever FADT the tables have.
// A sleep request for another state (S1-S4) calls `unsupported_sleep` with
// the SLP_TYP value and is otherwise ignored: the guest keeps running.
// Not supported: sleep states other than S5, the PM timer, GPEs, SCI
// delivery, wake events, the power and sleep buttons.
//
// Threading: io_read/io_write are thread-safe (atomics).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "devices/pc/acpi_defs.h"
#include "devices/pc/io_port_device.h"

namespace softsynic::devices {

class AcpiPmDevice final : public IoPortDevice {
 public:
  using PowerOff = std::function<void(std::uint32_t vp)>;
  using UnsupportedSleep = std::function<void(std::uint32_t vp, std::uint8_t sleep_type)>;

  AcpiPmDevice(const acpi::PmLayout& layout, PowerOff power_off, UnsupportedSleep unsupported_sleep = {})
      : layout_(layout), power_off_(std::move(power_off)), unsupported_(std::move(unsupported_sleep)) {}

  // Registers every port of the layout on `bus`.
  void attach(IoPortBus& bus) {
    bus.add(layout_.pm1a_event, acpi::kPm1EvtLength, *this);
    bus.add(layout_.pm1a_control, acpi::kPm1CntLength, *this);
    bus.add(layout_.sleep_control, 1, *this);
    bus.add(layout_.sleep_status, 1, *this);
  }

  std::uint32_t io_read(std::uint32_t, std::uint16_t port, unsigned size) override {
    std::uint32_t value = 0;
    // Byte-wise, so a 16- or 32-bit access across registers reads each.
    for (unsigned i = 0; i < size; ++i) value |= std::uint32_t{read_byte(static_cast<std::uint16_t>(port + i))} << (8 * i);
    return value;
  }

  void io_write(std::uint32_t vp, std::uint16_t port, unsigned size, std::uint32_t value) override {
    if (port == layout_.pm1a_control && size >= 2) {
      write_pm1_control(vp, static_cast<std::uint16_t>(value));
      return;
    }
    for (unsigned i = 0; i < size; ++i) write_byte(vp, static_cast<std::uint16_t>(port + i), static_cast<std::uint8_t>(value >> (8 * i)));
  }

 private:
  std::uint8_t read_byte(std::uint16_t port) const {
    const unsigned evt = static_cast<std::uint16_t>(port - layout_.pm1a_event);
    const unsigned cnt = static_cast<std::uint16_t>(port - layout_.pm1a_control);
    if (evt < 2) return 0;  // status: no event is ever pending
    if (evt < acpi::kPm1EvtLength) return static_cast<std::uint8_t>(enable_.load() >> (8 * (evt - 2)));
    if (cnt < acpi::kPm1CntLength) {
      const std::uint16_t v = static_cast<std::uint16_t>((control_.load() & ~acpi::kPm1CntSlpEn) | acpi::kPm1CntSciEn);
      return static_cast<std::uint8_t>(v >> (8 * cnt));
    }
    return 0;  // sleep control (write-only bits) and sleep status (never woken)
  }

  void write_byte(std::uint32_t vp, std::uint16_t port, std::uint8_t value) {
    const unsigned evt = static_cast<std::uint16_t>(port - layout_.pm1a_event);
    const unsigned cnt = static_cast<std::uint16_t>(port - layout_.pm1a_control);
    if (evt >= 2 && evt < acpi::kPm1EvtLength) {
      const unsigned shift = 8 * (evt - 2);
      enable_.store(static_cast<std::uint16_t>((enable_.load() & ~(0xFFu << shift)) | (unsigned{value} << shift)));
    } else if (cnt < acpi::kPm1CntLength) {
      // A byte write to the control register: merge it into the last value.
      const unsigned shift = 8 * cnt;
      write_pm1_control(vp, static_cast<std::uint16_t>((control_.load() & ~(0xFFu << shift)) | (unsigned{value} << shift)));
    } else if (port == layout_.sleep_control && (value & acpi::kSleepCtlSlpEn) != 0) {
      sleep(vp, (value >> acpi::kSleepCtlSlpTypShift) & acpi::kSlpTypMask);
    }
    // Status registers (write 1 to clear) hold nothing to clear.
  }

  void write_pm1_control(std::uint32_t vp, std::uint16_t value) {
    control_.store(static_cast<std::uint16_t>(value & ~acpi::kPm1CntSlpEn));
    if ((value & acpi::kPm1CntSlpEn) != 0) sleep(vp, (value >> acpi::kPm1CntSlpTypShift) & acpi::kSlpTypMask);
  }

  void sleep(std::uint32_t vp, unsigned sleep_type) {
    if (sleep_type == layout_.s5_sleep_type) {
      if (power_off_) power_off_(vp);
    } else if (unsupported_) {
      unsupported_(vp, static_cast<std::uint8_t>(sleep_type));
    }
  }

  acpi::PmLayout layout_;
  PowerOff power_off_;
  UnsupportedSleep unsupported_;
  std::atomic<std::uint16_t> enable_{0};
  std::atomic<std::uint16_t> control_{0};
};

}  // namespace softsynic::devices
