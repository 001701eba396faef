// FakeTarget: a GdbTarget with no CPU behind it, for the stub's tests: N
// VPs whose registers hold distinct values, 64 KiB of "virtual" memory at
// 0x100000 and 64 KiB of "physical" memory at 0, and a log of every
// resume, breakpoint and stop request. Not thread-safe: the tests call it
// from the session's strand only (GdbServer's thread in the real-gdb
// test, whose main thread only waits).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "emu/gdb/target.h"
#include "emu/gdb/target_description.h"

namespace softsynic::gdb::test {

class FakeTarget : public GdbTarget {
 public:
  static constexpr std::uint64_t kVirtualBase = 0x100000;
  static constexpr std::uint64_t kPhysicalBase = 0;
  static constexpr std::size_t kMemorySize = 0x10000;

  explicit FakeTarget(std::uint32_t vps, TargetArch arch = TargetArch::x86_64)
      : arch_(arch), registers_(vps), virtual_(kMemorySize), physical_(kMemorySize) {
    const auto& d = target_description(arch);
    for (std::uint32_t vp = 0; vp < vps; ++vp) {
      // Register n of VP v holds 0x1000 * (v + 1) + n; the PC 0x100000 + 0x100 * v.
      for (unsigned n = 0; n < d.registers.size(); ++n) registers_[vp][n] = 0x1000ull * (vp + 1) + n;
      registers_[vp][d.pc_regno] = kVirtualBase + 0x100ull * vp;
    }
    for (std::size_t i = 0; i < kMemorySize; ++i) {
      virtual_[i] = static_cast<std::byte>(i);
      physical_[i] = static_cast<std::byte>(0xff - (i & 0xff));
    }
  }

  TargetArch arch() const override { return arch_; }
  std::uint32_t vp_count() const override { return static_cast<std::uint32_t>(registers_.size()); }

  bool read_register(std::uint32_t vp, unsigned regno, std::span<std::byte> value) override {
    if (unavailable.count(regno) != 0) return false;
    const std::uint64_t v = registers_.at(vp)[regno];
    for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<std::byte>(i < 8 ? v >> (8 * i) : 0);
    return true;
  }
  bool write_register(std::uint32_t vp, unsigned regno, std::span<const std::byte> value) override {
    if (unavailable.count(regno) != 0) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < value.size() && i < 8; ++i) v |= std::to_integer<std::uint64_t>(value[i]) << (8 * i);
    registers_.at(vp)[regno] = v;
    return true;
  }
  std::uint64_t reg(std::uint32_t vp, unsigned regno) { return registers_.at(vp)[regno]; }

  std::size_t read_memory(std::uint32_t, AddressSpace space, std::uint64_t address, std::span<std::byte> out) override {
    auto [mem, base] = memory(space);
    if (address < base || address - base >= kMemorySize) return 0;
    const std::size_t n = std::min<std::uint64_t>(out.size(), kMemorySize - (address - base));
    std::memcpy(out.data(), mem->data() + (address - base), n);
    return n;
  }
  std::size_t write_memory(std::uint32_t, AddressSpace space, std::uint64_t address,
                           std::span<const std::byte> bytes) override {
    auto [mem, base] = memory(space);
    if (address < base || address - base >= kMemorySize) return 0;
    const std::size_t n = std::min<std::uint64_t>(bytes.size(), kMemorySize - (address - base));
    std::memcpy(mem->data() + (address - base), bytes.data(), n);
    return n;
  }

  BreakpointResult insert_breakpoint(BreakpointType type, std::uint64_t address, std::uint64_t) override {
    if (type != BreakpointType::software && type != BreakpointType::hardware) return BreakpointResult::unsupported;
    if (address < kVirtualBase) return BreakpointResult::failed;
    breakpoints[address] += 1;
    return BreakpointResult::ok;
  }
  BreakpointResult remove_breakpoint(BreakpointType type, std::uint64_t address, std::uint64_t) override {
    if (type != BreakpointType::software && type != BreakpointType::hardware) return BreakpointResult::unsupported;
    auto it = breakpoints.find(address);
    if (it == breakpoints.end()) return BreakpointResult::failed;
    if (--it->second == 0) breakpoints.erase(it);
    return BreakpointResult::ok;
  }

  void resume(std::span<const ResumeAction> actions) override { resumes.emplace_back(actions.begin(), actions.end()); }
  void stop_all() override { ++stop_requests; }
  void kill() override { ++kills; }
  std::optional<std::string> monitor(std::string_view command) override {
    if (command == "help") return std::string("  synic                       the fake SynIC state\n");
    if (command == "synic") return std::string("vp0 SCONTROL=0x1 SIMP=0x5000 (fake)\n");
    return std::nullopt;
  }

  std::map<unsigned, int> unavailable;       // regno -> reported unavailable
  std::map<std::uint64_t, int> breakpoints;  // address -> insertions
  std::vector<std::vector<ResumeAction>> resumes;
  int stop_requests = 0;
  int kills = 0;

 private:
  std::pair<std::vector<std::byte>*, std::uint64_t> memory(AddressSpace space) {
    return space == AddressSpace::physical ? std::pair{&physical_, kPhysicalBase} : std::pair{&virtual_, kVirtualBase};
  }

  TargetArch arch_;
  std::vector<std::map<unsigned, std::uint64_t>> registers_;
  std::vector<std::byte> virtual_;
  std::vector<std::byte> physical_;
};

}  // namespace softsynic::gdb::test
