// FwCfg: see devices/pc/fw_cfg.h.
#include "devices/pc/fw_cfg.h"

namespace softsynic::devices {
namespace {

std::vector<std::uint8_t> little_endian(std::uint64_t value, unsigned bytes) {
  std::vector<std::uint8_t> out(bytes);
  for (unsigned i = 0; i < bytes; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
  return out;
}

}  // namespace

FwCfg::FwCfg(std::uint32_t cpus, std::uint64_t ram_bytes) {
  items_[kSignature] = {'Q', 'E', 'M', 'U'};
  items_[kId] = little_endian(1, 4);
  items_[kRamSize] = little_endian(ram_bytes, 8);
  items_[kNbCpus] = little_endian(cpus, 2);
  items_[kMaxCpus] = little_endian(cpus, 2);
}

void FwCfg::set_item(std::uint16_t key, std::vector<std::uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  items_[key] = std::move(bytes);
}

std::uint32_t FwCfg::io_read(std::uint32_t, std::uint16_t port, unsigned) {
  std::lock_guard lock(mutex_);
  if (port != kDataPort) return 0;
  auto it = items_.find(selector_);
  if (it == items_.end() || offset_ >= it->second.size()) return 0;
  return it->second[offset_++];
}

void FwCfg::io_write(std::uint32_t, std::uint16_t port, unsigned, std::uint32_t value) {
  std::lock_guard lock(mutex_);
  if (port != kSelectorPort) return;  // the data port is read-only here
  selector_ = static_cast<std::uint16_t>(value);
  offset_ = 0;
}

}  // namespace softsynic::devices
