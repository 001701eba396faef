// DebugHooks: a debugger's breakpoints and single steps on one Unicorn
// engine, made with code hooks (never by writing guest memory):
//  - a breakpoint is a UC_HOOK_CODE bounded to its address; the block
//    holding it is translated again so the hook is seen. When it fires the
//    run stops with the PC on the instruction, which has not executed.
//  - a single step is a UC_HOOK_CODE over every address, present while
//    the VP steps: the first instruction runs, the run stops before the
//    second. Adding or removing it drops every translation.
// The engine calls enter() before each uc_emu_start of a slice and
// take_stop() after it; a stop is StopReason::breakpoint or ::step.
//
// Threading: engine-affine (the slice's thread, or the debugger's while
// the VP is stopped).
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "emu/unicorn/uc_engine.h"
#include "emu/vp_debug.h"
#include "emu/vp_engine.h"

namespace softsynic {
class RamGuestMemory;
}

namespace softsynic::emu::unicorn {

class DebugHooks {
 public:
  // `pc` reads the PC register (where a stop resumes, as SliceControl::stop_at
  // takes it).
  DebugHooks(uc_engine* uc, SliceControl& slice, std::function<std::uint64_t()> pc)
      : uc_(uc), slice_(slice), pc_(std::move(pc)) {}
  // The hooks go with the engine (uc_close): an engine's members, its
  // Unicorn handle among them, may be gone before this.
  ~DebugHooks() = default;
  DebugHooks(const DebugHooks&) = delete;
  DebugHooks& operator=(const DebugHooks&) = delete;

  bool insert(std::uint64_t address);
  bool remove(std::uint64_t address);
  void set_step(bool on);
  bool stepping() const { return step_hook_.has_value(); }

  // Before each uc_emu_start.
  void enter() { entered_ = true; }
  // After uc_emu_start: the stop a hook made, once.
  std::optional<StopReason> take_stop() {
    auto s = stop_;
    stop_.reset();
    return s;
  }

 private:
  static void on_breakpoint(uc_engine*, std::uint64_t address, std::uint32_t, void* user);
  static void on_instruction(uc_engine*, std::uint64_t address, std::uint32_t, void* user);
  void stop(StopReason reason);

  uc_engine* uc_;
  SliceControl& slice_;
  std::function<std::uint64_t()> pc_;
  std::map<std::uint64_t, uc_hook> breakpoints_;
  std::optional<uc_hook> step_hook_;
  // The step's first instruction, once its hook ran; a hook at the same
  // address right after a re-entry (the run stopped before executing it)
  // is that instruction again, not the next one.
  std::optional<std::uint64_t> first_;
  bool entered_ = false;
  std::optional<StopReason> stop_;
};

// The part of VpDebug every Unicorn engine shares: breakpoints and steps
// through DebugHooks, memory page by page through the engine's
// debug_page(); writes drop the translated code they cover (through
// EngineHost::code_written, on every engine). The engine calls
// attach_debug() in its constructor and feeds debug_hooks() to its slice
// loop. Threading: as VpDebug says.
class UnicornVpDebug : public VpDebug {
 public:
  std::size_t read_memory(gdb::AddressSpace space, std::uint64_t address, std::span<std::byte> out) override;
  std::size_t write_memory(gdb::AddressSpace space, std::uint64_t address, std::span<const std::byte> bytes) override;
  bool insert_breakpoint(std::uint64_t address) override { return hooks_->insert(address); }
  bool remove_breakpoint(std::uint64_t address) override { return hooks_->remove(address); }
  void set_single_step(bool on) override { hooks_->set_step(on); }

 protected:
  // `pc`: as DebugHooks takes it. `host` and `vp`: whom code_written names.
  void attach_debug(uc_engine* uc, SliceControl& slice, std::function<std::uint64_t()> pc, RamGuestMemory& ram,
                    EngineHost& host, std::uint32_t vp);
  DebugHooks& debug_hooks() { return *hooks_; }
  // The guest-physical address of `page` (4 KiB aligned) in `space`;
  // nullopt: not mapped.
  virtual std::optional<std::uint64_t> debug_page(gdb::AddressSpace space, std::uint64_t page) const = 0;

 private:
  std::optional<DebugHooks> hooks_;
  RamGuestMemory* ram_ = nullptr;
  EngineHost* host_ = nullptr;
  std::uint32_t vp_ = 0;
};

}  // namespace softsynic::emu::unicorn
