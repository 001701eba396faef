// FwCfg: QEMU's firmware configuration device, legacy port interface
// (selector at 0x510, 16-bit write; data at 0x511, one byte per read, the
// offset advancing). Guests written for QEMU read the CPU count and RAM
// size from it. Items are little-endian byte strings set by the machine;
// an unknown key, or reading past an item's end, reads 0.
// Not supported: the DMA interface (0x514), the file directory, writes
// to items.
//
// Threading: set_item before the machine runs; io_read/io_write are
// thread-safe (one mutex; the selector and offset are shared by all VPs,
// as on the real device).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "devices/pc/io_port_device.h"

namespace softsynic::devices {

class FwCfg final : public IoPortDevice {
 public:
  static constexpr std::uint16_t kSelectorPort = 0x510;
  static constexpr std::uint16_t kDataPort = 0x511;
  static constexpr std::uint16_t kPortCount = 2;
  // Keys (QEMU's fw_cfg interface specification).
  static constexpr std::uint16_t kSignature = 0x00;  // "QEMU"
  static constexpr std::uint16_t kId = 0x01;         // feature bits: 1 = traditional interface
  static constexpr std::uint16_t kRamSize = 0x03;    // u64 bytes
  static constexpr std::uint16_t kNbCpus = 0x05;     // u16
  static constexpr std::uint16_t kMaxCpus = 0x0F;    // u16

  // The signature and ID, the CPU counts and the RAM size.
  FwCfg(std::uint32_t cpus, std::uint64_t ram_bytes);

  void set_item(std::uint16_t key, std::vector<std::uint8_t> bytes);

  std::uint32_t io_read(std::uint32_t vp, std::uint16_t port, unsigned size) override;
  void io_write(std::uint32_t vp, std::uint16_t port, unsigned size, std::uint32_t value) override;

 private:
  std::mutex mutex_;
  std::map<std::uint16_t, std::vector<std::uint8_t>> items_;
  std::uint16_t selector_ = 0;
  std::size_t offset_ = 0;
};

}  // namespace softsynic::devices
