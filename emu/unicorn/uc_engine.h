// Small helpers over the Unicorn 2 C API shared by the engines: an owning
// handle, error checks that throw, guest RAM mapping, and the slice
// controller that bounds a slice by a count of executed blocks.
//
// Unicorn facts this relies on (measured on 2.0.1): a UC_HOOK_BLOCK runs
// before the block's first instruction; uc_emu_stop() from it ends the run
// before that block executes, but the PC register may then be stale, so the
// caller resumes at the block address it recorded.
//
// Threading: SliceControl::request_stop() is thread-safe; the rest is
// engine-affine.
#pragma once

#include <unicorn/unicorn.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "emu/vp_engine.h"

namespace softsynic {
class RamGuestMemory;
}

namespace softsynic::emu::unicorn {

struct UcClose {
  void operator()(uc_engine* uc) const { uc_close(uc); }
};
using UcHandle = std::unique_ptr<uc_engine, UcClose>;

// Throws std::runtime_error naming `what` when err != UC_ERR_OK.
void check(uc_err err, const char* what);
UcHandle open_engine(uc_arch arch, uc_mode mode);

// The self-tests of Unicorn's internals (for tests of their fallbacks): when
// the environment variable `env` is "fail", the failure to report
// ("forced by <env>=fail"); otherwise nullopt, and the self-test runs.
std::optional<std::string> forced_selftest_failure(const char* env);

// For the self-tests' searches of Unicorn's state: copies up to `size`
// bytes of this process's memory at `address`, page by page, stopping at
// the first page that cannot be read (process_vm_readv fails instead of
// faulting). Returns how many bytes were copied.
std::size_t read_own_memory(std::uint64_t address, void* out, std::size_t size);

// Maps every region of `ram` at its guest physical address with
// uc_mem_map_ptr, so all engines and the SynIC share the same bytes.
// `offset` is added to each region's address (0 for identity).
void map_guest_ram(uc_engine* uc, RamGuestMemory& ram);

// Drops the cached translations of the code at virtual addresses
// [address, address + size) (Unicorn 2.1 translates the range through the
// CPU's current page tables).
void remove_cache(uc_engine* uc, std::uint64_t address, std::uint64_t size);
// Drops every cached translation. Its cost grows with the translation
// buffer, which open_engine keeps at kTranslationBufferBytes.
void flush_code(uc_engine* uc);
// Unicorn's default of 1 GiB per engine makes a flush take seconds (the
// buffer is cleared and its pages touched); a Linux kernel's hot code fits
// in far less, and a full buffer is flushed by Unicorn itself.
inline constexpr std::uint32_t kTranslationBufferBytes = 64u << 20;

// Block budget and stop requests for one engine.
class SliceControl {
 public:
  // Starts a slice; a yield requested before it is dropped (the slice
  // start takes interrupts anyway).
  void begin(std::uint64_t budget) {
    budget_ = budget;
    blocks_ = 0;
    resume_at_.reset();
    flags_.fetch_and(~kEarly, std::memory_order_acq_rel);
  }
  // What run_slice returns: `reason`, the blocks run, and for guest_fault
  // the engine's fault text.
  SliceResult result(StopReason reason, const std::optional<std::string>& fault) const {
    SliceResult r;
    r.reason = reason;
    r.blocks = blocks_;
    if (reason == StopReason::guest_fault || reason == StopReason::triple_fault) r.fault = fault.value_or("guest fault");
    return r;
  }
  // From the UC_HOOK_BLOCK callback, before the block at `address` runs.
  // Returns true when the slice must end now; the caller then calls
  // stop_before_block().
  bool on_block() { return ++blocks_ > budget_ || flags_.load(std::memory_order_acquire) != 0; }
  // Ends the run before the block at `address` executes; run_slice resumes
  // there. That block is not counted.
  void stop_before_block(uc_engine* uc, std::uint64_t address) {
    --blocks_;
    resume_at_ = address;
    uc_emu_stop(uc);
  }
  // Ends the run from an instruction hook that already moved the PC: the
  // next entry resumes at `pc`.
  void stop_at(uc_engine* uc, std::uint64_t pc) {
    resume_at_ = pc;
    uc_emu_stop(uc);
  }
  // Where the next uc_emu_start must begin, if a stop recorded it. Clears it.
  std::optional<std::uint64_t> take_resume() {
    auto r = resume_at_;
    resume_at_.reset();
    return r;
  }

  std::uint64_t blocks() const { return blocks_; }
  // Lowers the budget of the running slice (never raises it).
  void limit(std::uint64_t budget) {
    if (budget < budget_) budget_ = budget;
  }
  bool budget_spent() const { return blocks_ >= budget_; }

  // Thread-safe: the running (or next) slice ends with exit_requested.
  void request_stop() { flags_.fetch_or(kStop, std::memory_order_acq_rel); }
  bool stop_requested() const { return (flags_.load(std::memory_order_acquire) & kStop) != 0; }
  // Thread-safe: end the running slice early (an interrupt arrived) without
  // stopping the VP.
  void request_yield() { flags_.fetch_or(kEarly, std::memory_order_acq_rel); }
  bool take_yield() { return (flags_.fetch_and(~kEarly, std::memory_order_acq_rel) & kEarly) != 0; }
  // Thread-safe: the running slice ends at its next block boundary, and so
  // does every later one at its first, until clear_pause() (a debugger
  // stopping every VP; begin() keeps it).
  void request_pause() { flags_.fetch_or(kPause, std::memory_order_acq_rel); }
  void clear_pause() { flags_.fetch_and(~kPause, std::memory_order_acq_rel); }

 private:
  std::uint64_t budget_ = 0;
  std::uint64_t blocks_ = 0;
  std::optional<std::uint64_t> resume_at_;
  // One word, so that the block hook looks at every request with one load.
  static constexpr std::uint32_t kStop = 1;
  static constexpr std::uint32_t kEarly = 2;
  static constexpr std::uint32_t kPause = 4;
  std::atomic<std::uint32_t> flags_{0};
};

}  // namespace softsynic::emu::unicorn
