// The execution view of patched code frames; see x86_code_shadow.h.
#include "emu/x86/x86_code_shadow.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "emu/unicorn/uc_engine.h"
#include "synic/guest_memory.h"

namespace softsynic::emu::x86 {
namespace {

constexpr std::uint8_t kSyscall[2] = {0x0F, 0x05};
constexpr std::uint8_t kCsPrefix = 0x2E;  // ignored by SYSCALL: pads it to 3 bytes

}  // namespace

X86CodeShadow::X86CodeShadow(uc_engine* uc, RamGuestMemory& ram) : ram_(ram) {
  // Anonymous memory: a page costs nothing until a shadow is built in it.
  void* p = mmap(nullptr, 2 * kSlots * kPageSize, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  pages_ = static_cast<std::uint8_t*>(p);
  basis_ = pages_ + kSlots * kPageSize;
  unicorn::check(uc_mem_map_ptr(uc, kBase, kSlots * kPageSize, UC_PROT_ALL, pages_), "code shadow pages");
}

X86CodeShadow::~X86CodeShadow() { munmap(pages_, 2 * kSlots * kPageSize); }


bool X86CodeShadow::add(std::uint64_t frame, const Patch& patch) {
  if (patch.offset + patch.length > kPageSize || (patch.length != 2 && patch.length != 3)) return false;
  std::uint8_t now[kPageSize];
  if (!ram_.read(frame, std::as_writable_bytes(std::span{now}))) return false;
  TrappedSite site{};
  if (!decode_patchable_site({now + patch.offset, patch.length}, site) || site.instruction != patch.instruction ||
      site.length != patch.length)
    return false;  // not what the frame holds
  auto it = by_frame_.find(frame);
  if (it == by_frame_.end()) {
    if (slots_.size() >= kSlots) return false;
    it = by_frame_.emplace(frame, slots_.size()).first;
    slots_.push_back(Slot{frame, false, {}});
  }
  Slot& slot = slots_[it->second];
  if (slot.unseen_changes >= kMaxUnseenChanges) return false;
  std::uint8_t* basis = basis_ + it->second * kPageSize;
  // Found in other bytes than the earlier patches: those go.
  if (!slot.patches.empty() && std::memcmp(now, basis, kPageSize) != 0) {
    slot.patches.clear();
    ++slot.unseen_changes;
  }
  if (slot.patches.empty()) std::memcpy(basis, now, kPageSize);
  for (const Patch& p : slot.patches) {
    // Overlapping patches cannot both start instructions.
    if (p.offset < patch.offset + patch.length && patch.offset < p.offset + p.length) return p.offset == patch.offset;
  }
  slot.patches.push_back(patch);
  slot.current = false;
  return true;
}

bool X86CodeShadow::patched(std::uint64_t frame, std::uint16_t offset) const {
  auto it = by_frame_.find(frame);
  if (it == by_frame_.end()) return false;
  const auto& patches = slots_[it->second].patches;
  return std::any_of(patches.begin(), patches.end(), [&](const Patch& p) { return p.offset == offset; });
}

std::optional<std::uint64_t> X86CodeShadow::page_of(std::uint64_t frame) const {
  auto it = by_frame_.find(frame);
  if (it == by_frame_.end()) return std::nullopt;
  return kBase + it->second * kPageSize;
}

std::optional<std::uint64_t> X86CodeShadow::exec_page(std::uint64_t frame) {
  auto it = by_frame_.find(frame);
  if (it == by_frame_.end() || slots_[it->second].patches.empty()) return std::nullopt;
  if (!slots_[it->second].current) rebuild(it->second);
  if (slots_[it->second].patches.empty()) return std::nullopt;  // the guest's bytes changed under them all
  return kBase + it->second * kPageSize;
}

void X86CodeShadow::dropped(std::uint64_t frame, bool changed) {
  auto it = by_frame_.find(frame);
  if (it == by_frame_.end()) return;
  Slot& slot = slots_[it->second];
  slot.current = false;
  if (changed) slot.patches.clear();
}

const X86CodeShadow::Patch* X86CodeShadow::patch_at(std::uint64_t page, std::uint16_t offset) const {
  if (!in_shadow(page)) return nullptr;
  const Slot& slot = slots_[static_cast<std::size_t>((page - kBase) / kPageSize)];
  if (!slot.current) return nullptr;
  for (const Patch& p : slot.patches)
    if (p.offset == offset) return &p;
  return nullptr;
}

// The frame's bytes with the patches, when the bytes are still those the
// patches were found in; else the patches go.
void X86CodeShadow::rebuild(std::size_t index) {
  Slot& slot = slots_[index];
  std::uint8_t* page = pages_ + index * kPageSize;
  if (!ram_.read(slot.frame, std::as_writable_bytes(std::span{page, kPageSize})) ||
      std::memcmp(page, basis_ + index * kPageSize, kPageSize) != 0) {
    slot.patches.clear();
    ++slot.unseen_changes;
    slot.current = true;
    return;
  }
  for (const Patch& p : slot.patches) {
    std::uint8_t* at = page + p.offset;
    if (p.length == 3) *at++ = kCsPrefix;
    std::memcpy(at, kSyscall, sizeof kSyscall);
  }
  slot.current = true;
}

}  // namespace softsynic::emu::x86
