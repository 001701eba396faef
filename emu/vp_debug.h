// VpDebug: what a debugger (the GDB stub, emu/gdb) reaches in one VP's
// CPU: registers by gdb number (the order of emu/gdb/target_description.h
// for the engine's architecture), memory by guest-virtual address through
// the VP's own translation or by guest-physical address, breakpoints and
// single steps. The runner's debug target (emu/debug_target.h) drives it.
//
// Threading: not thread-safe. Every method is called only while the VP is
// stopped (no slice running; the runner's debug mutex orders the calls
// after the slice that stopped it), from the debugger's thread.
// Breakpoints and steps take effect in the next slice; a slice that hits
// one ends with StopReason::breakpoint or StopReason::step.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "emu/gdb/target.h"

namespace softsynic::emu {

class VpDebug {
 public:
  virtual ~VpDebug() = default;

  // false: not available (gdb shows <unavailable>) or not written.
  virtual bool read_register(unsigned regno, std::span<std::byte> value) = 0;
  virtual bool write_register(unsigned regno, std::span<const std::byte> value) = 0;

  // Bytes transferred from the start before the first unmapped one.
  // Writes drop the translated code they cover.
  virtual std::size_t read_memory(gdb::AddressSpace space, std::uint64_t address, std::span<std::byte> out) = 0;
  virtual std::size_t write_memory(gdb::AddressSpace space, std::uint64_t address,
                                   std::span<const std::byte> bytes) = 0;

  // A code hook bounded to `address` (a guest-virtual PC); guest memory is
  // never written. false: cannot be placed.
  virtual bool insert_breakpoint(std::uint64_t address) = 0;
  virtual bool remove_breakpoint(std::uint64_t address) = 0;

  // On: the next slice ends after one instruction (StopReason::step).
  virtual void set_single_step(bool on) = 0;

  // The PC as gdb sees it (the address a breakpoint would name).
  virtual std::uint64_t pc() = 0;
};

// For implementations: moves `size` bytes at `address` page by page (4 KiB).
// `translate(page)` gives the guest-physical address of a page (nullopt:
// not mapped); `move(gpa, done, n)` moves n bytes between gpa and the
// caller's buffer at offset `done`, false when that is not RAM. Returns
// the bytes moved before the first failure.
template <class Translate, class Move>
std::size_t debug_copy_pages(std::uint64_t address, std::size_t size, Translate&& translate, Move&& move) {
  constexpr std::uint64_t kPage = 0x1000;
  std::size_t done = 0;
  while (done < size) {
    const std::uint64_t at = address + done;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, kPage - (at & (kPage - 1))));
    const std::optional<std::uint64_t> page = translate(at & ~(kPage - 1));
    if (!page || !move(*page + (at & (kPage - 1)), done, n)) break;
    done += n;
  }
  return done;
}

}  // namespace softsynic::emu
