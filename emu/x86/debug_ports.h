// The bare platform's two debug devices (emu/debug_devices.h) on the x86
// port bus: a console byte per OUT to 0xE9, and the exit device at 0xF4,
// whose 32-bit code is the run's exit status as written.
//
// Threading: io_read/io_write are thread-safe (they only call the host).
#pragma once

#include <cstdint>

#include "devices/pc/io_port_device.h"
#include "emu/debug_devices.h"
#include "emu/vp_engine.h"

namespace softsynic::emu::x86 {

class DebugConsolePort final : public devices::IoPortDevice {
 public:
  explicit DebugConsolePort(EngineHost& host) : host_(host) {}
  std::uint32_t io_read(std::uint32_t, std::uint16_t, unsigned) override { return 0xFFFF'FFFF; }
  void io_write(std::uint32_t vp, std::uint16_t, unsigned, std::uint32_t value) override {
    host_.console_write(vp, static_cast<char>(value & 0xFF));
  }

 private:
  EngineHost& host_;
};

class DebugExitPort final : public devices::IoPortDevice {
 public:
  explicit DebugExitPort(EngineHost& host) : host_(host) {}
  std::uint32_t io_read(std::uint32_t, std::uint16_t, unsigned) override { return 0xFFFF'FFFF; }
  void io_write(std::uint32_t vp, std::uint16_t, unsigned, std::uint32_t value) override { host_.guest_exit(vp, value); }

 private:
  EngineHost& host_;
};

}  // namespace softsynic::emu::x86
