// Unicorn helpers shared by the engines.
#include "emu/unicorn/uc_engine.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "synic/guest_memory.h"

namespace softsynic::emu::unicorn {

void check(uc_err err, const char* what) {
  if (err != UC_ERR_OK) throw std::runtime_error(std::string(what) + ": " + uc_strerror(err));
}

UcHandle open_engine(uc_arch arch, uc_mode mode) {
  uc_engine* uc = nullptr;
  check(uc_open(arch, mode, &uc), "uc_open");
  UcHandle handle(uc);
  check(uc_ctl_set_tcg_buffer_size(uc, kTranslationBufferBytes), "translation buffer size");
  return handle;
}

std::optional<std::string> forced_selftest_failure(const char* env) {
  const char* value = std::getenv(env);
  if (value == nullptr || std::string_view(value) != "fail") return std::nullopt;
  return std::string("forced by ") + env + "=fail";
}

void map_guest_ram(uc_engine* uc, RamGuestMemory& ram) {
  for (const auto& region : ram.regions()) {
    std::byte* host = ram.host_pointer(region.gpa, region.size);
    if (host == nullptr) throw std::runtime_error("guest RAM region has no host pointer");
    check(uc_mem_map_ptr(uc, region.gpa, region.size, UC_PROT_ALL, host), "uc_mem_map_ptr");
  }
}

void remove_cache(uc_engine* uc, std::uint64_t address, std::uint64_t size) {
  if (size == 0) return;
  // Unicorn's end bound is exclusive.
  uc_ctl_remove_cache(uc, address, address + size);
}

void flush_code(uc_engine* uc) { uc_ctl_flush_tb(uc); }

std::size_t read_own_memory(std::uint64_t address, void* out, std::size_t size) {
  constexpr std::size_t kPage = 4096;
  std::vector<iovec> remote;
  std::size_t planned = 0;
  while (planned < size) {
    const std::uint64_t at = address + planned;
    const std::size_t chunk = std::min(size - planned, kPage - static_cast<std::size_t>(at % kPage));
    remote.push_back({reinterpret_cast<void*>(static_cast<std::uintptr_t>(at)), chunk});
    planned += chunk;
  }
  iovec local{out, planned};
  const ssize_t got = process_vm_readv(getpid(), &local, 1, remote.data(), remote.size(), 0);
  return got > 0 ? static_cast<std::size_t>(got) : 0;
}

}  // namespace softsynic::emu::unicorn
