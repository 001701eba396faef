// DebugHooks: breakpoints and single steps as code hooks; see debug_hooks.h.
#include "emu/unicorn/debug_hooks.h"

#include <utility>

#include "synic/guest_memory.h"

namespace softsynic::emu::unicorn {

bool DebugHooks::insert(std::uint64_t address) {
  if (breakpoints_.contains(address)) return true;
  uc_hook hook;
  if (uc_hook_add(uc_, &hook, UC_HOOK_CODE, reinterpret_cast<void*>(&DebugHooks::on_breakpoint), this, address,
                  address) != UC_ERR_OK) {
    return false;
  }
  breakpoints_.emplace(address, hook);
  // The block holding it was translated without the hook.
  remove_cache(uc_, address, 1);
  return true;
}

bool DebugHooks::remove(std::uint64_t address) {
  auto it = breakpoints_.find(address);
  if (it == breakpoints_.end()) return false;
  uc_hook_del(uc_, it->second);
  breakpoints_.erase(it);
  remove_cache(uc_, address, 1);
  return true;
}

void DebugHooks::set_step(bool on) {
  first_.reset();
  if (on == stepping()) return;
  if (on) {
    uc_hook hook;
    check(uc_hook_add(uc_, &hook, UC_HOOK_CODE, reinterpret_cast<void*>(&DebugHooks::on_instruction), this, 1, 0),
          "single-step hook");
    step_hook_ = hook;
  } else {
    uc_hook_del(uc_, *step_hook_);
    step_hook_.reset();
  }
  flush_code(uc_);
}

void DebugHooks::stop(StopReason reason) {
  stop_ = reason;
  // The PC register, not the hook's address: a hook before this one may
  // have emulated the instruction and moved it.
  slice_.stop_at(uc_, pc_());
}

void DebugHooks::on_breakpoint(uc_engine*, std::uint64_t address, std::uint32_t, void* user) {
  auto& self = *static_cast<DebugHooks*>(user);
  if (self.stop_) return;
  // A step's own first instruction runs (whichever hook comes first).
  if (self.stepping() && (!self.first_ || *self.first_ == address)) return;
  self.stop(StopReason::breakpoint);
}

void DebugHooks::on_instruction(uc_engine*, std::uint64_t address, std::uint32_t, void* user) {
  auto& self = *static_cast<DebugHooks*>(user);
  const bool reentered = std::exchange(self.entered_, false);
  if (self.stop_) return;
  if (!self.first_ || (reentered && *self.first_ == address)) {
    self.first_ = address;
    return;
  }
  self.first_.reset();
  self.stop(StopReason::step);
}

void UnicornVpDebug::attach_debug(uc_engine* uc, SliceControl& slice, std::function<std::uint64_t()> pc,
                                  RamGuestMemory& ram, EngineHost& host, std::uint32_t vp) {
  hooks_.emplace(uc, slice, std::move(pc));
  ram_ = &ram;
  host_ = &host;
  vp_ = vp;
}

std::size_t UnicornVpDebug::read_memory(gdb::AddressSpace space, std::uint64_t address, std::span<std::byte> out) {
  return debug_copy_pages(
      address, out.size(), [&](std::uint64_t page) { return debug_page(space, page); },
      [&](std::uint64_t gpa, std::size_t done, std::size_t n) { return ram_->read(gpa, out.subspan(done, n)); });
}

std::size_t UnicornVpDebug::write_memory(gdb::AddressSpace space, std::uint64_t address,
                                         std::span<const std::byte> bytes) {
  return debug_copy_pages(
      address, bytes.size(), [&](std::uint64_t page) { return debug_page(space, page); },
      [&](std::uint64_t gpa, std::size_t done, std::size_t n) {
        if (!ram_->write(gpa, bytes.subspan(done, n))) return false;
        host_->code_written(vp_, gpa, n);  // translated code there is stale
        return true;
      });
}

}  // namespace softsynic::emu::unicorn
