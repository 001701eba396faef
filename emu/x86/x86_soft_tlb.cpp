// The engine's TLB fill and the write protection of translated code; see
// x86_soft_tlb.h.
#include "emu/x86/x86_soft_tlb.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "emu/unicorn/uc_engine.h"
#include "emu/x86/unicorn_x86_registers.h"
#include "synic/guest_memory.h"

namespace softsynic::emu::x86 {
namespace {

constexpr std::uint64_t kPageSize = 0x1000;
constexpr std::uint64_t kPageMask = ~(kPageSize - 1);
constexpr std::uint32_t kEferMsr = 0xC000'0080;

// --- Self-test ---------------------------------------------------------

// How much of Unicorn's engine state the offset search reads (the field
// sits in its first few KiB); read through unicorn::read_own_memory so that
// a smaller allocation makes the search fail instead of the process.
constexpr std::size_t kEngineStateScan = 16 * 1024;

struct ScratchFill {
  std::uint64_t refuse_page = ~std::uint64_t{0};
  std::uint64_t read_only_page = ~std::uint64_t{0};
  std::vector<std::pair<std::uint64_t, uc_mem_type>> seen;
};

bool scratch_fill(uc_engine*, std::uint64_t page, uc_mem_type type, uc_tlb_entry* entry, void* user) {
  auto& s = *static_cast<ScratchFill*>(user);
  s.seen.emplace_back(page, type);
  if (page == s.refuse_page) return false;
  entry->paddr = page;
  entry->perms = static_cast<uc_prot>(page == s.read_only_page && type != UC_MEM_WRITE ? UC_PROT_READ | UC_PROT_EXEC
                                                                                              : UC_PROT_ALL);
  return true;
}

std::vector<std::size_t> offsets_holding(uc_engine* uc, std::uint64_t value) {
  std::vector<std::byte> copy(kEngineStateScan);
  const std::size_t got = unicorn::read_own_memory(reinterpret_cast<std::uintptr_t>(uc), copy.data(), copy.size());
  std::vector<std::size_t> found;
  for (std::size_t at = 0; at + 8 <= got; at += 8) {
    std::uint64_t v = 0;
    std::memcpy(&v, copy.data() + at, 8);
    if (v == value) found.push_back(at);
  }
  return found;
}

// `nop; mov [disp32], rax; hlt` at 0x1000.
std::string run_store(uc_engine* uc, std::uint32_t address, uc_err& err, std::uint64_t& rip) {
  std::array<std::uint8_t, 10> code = {0x90, 0x48, 0x89, 0x04, 0x25, 0, 0, 0, 0, 0xF4};
  std::memcpy(code.data() + 5, &address, 4);
  if (uc_mem_write(uc, 0x1000, code.data(), code.size()) != UC_ERR_OK) return "cannot write the scratch code";
  uc_ctl_flush_tb(uc);
  err = uc_emu_start(uc, 0x1000, 0x1000 + code.size(), 0, 0);
  uc_reg_read(uc, UC_X86_REG_RIP, &rip);
  return {};
}

X86SoftTlbSupport run_selftest() {
  X86SoftTlbSupport s;
  if (auto forced = unicorn::forced_selftest_failure(kSoftTlbSelftestEnv)) {
    s.failure = *forced;
    return s;
  }
  try {
    unicorn::UcHandle uc = unicorn::open_engine(UC_ARCH_X86, UC_MODE_64);
    unicorn::check(uc_mem_map(uc.get(), 0, 0x40'0000, UC_PROT_ALL), "scratch RAM");
    if (uc_ctl_tlb_mode(uc.get(), UC_TLB_VIRTUAL) != UC_ERR_OK) {
      s.failure = "UC_TLB_VIRTUAL refused";
      return s;
    }
    ScratchFill fill;
    uc_hook h;
    unicorn::check(uc_hook_add(uc.get(), &h, UC_HOOK_TLB_FILL, reinterpret_cast<void*>(&scratch_fill), &fill, 1, 0),
                   "scratch TLB fill hook");
    // A refused fill: the run stops with UC_ERR_EXCEPTION, RIP on the store,
    // and the store's exact address sits at one offset of the engine state.
    std::vector<std::size_t> candidates;
    for (std::uint32_t address : {0x2006B8u, 0x200A40u}) {
      fill.refuse_page = address & kPageMask;
      uc_err err = UC_ERR_OK;
      std::uint64_t rip = 0;
      if (auto why = run_store(uc.get(), address, err, rip); !why.empty()) {
        s.failure = why;
        return s;
      }
      if (err != UC_ERR_EXCEPTION || rip != 0x1001) {
        s.failure = std::string("a refused fill ended the run with ") + uc_strerror(err) + " at rip " +
                    std::to_string(rip) + " (want UC_ERR_EXCEPTION at 4097)";
        return s;
      }
      std::vector<std::size_t> here = offsets_holding(uc.get(), address);
      if (candidates.empty() && address == 0x2006B8u) {
        candidates = here;
      } else {
        std::vector<std::size_t> both;
        std::set_intersection(candidates.begin(), candidates.end(), here.begin(), here.end(), std::back_inserter(both));
        candidates = both;
      }
    }
    if (candidates.empty()) {
      s.failure = "the faulting address is not in Unicorn's engine state";
      return s;
    }
    // A read-only entry: the store after a load comes back as a write fill.
    fill.refuse_page = ~std::uint64_t{0};
    fill.read_only_page = 0x30'0000;
    fill.seen.clear();
    const std::array<std::uint8_t, 17> code = {0x48, 0x8B, 0x04, 0x25, 0x10, 0x00, 0x30, 0x00,   // mov rax, [0x300010]
                                               0x48, 0x89, 0x04, 0x25, 0x20, 0x00, 0x30, 0x00,   // mov [0x300020], rax
                                               0xF4};
    unicorn::check(uc_mem_write(uc.get(), 0x2000, code.data(), code.size()), "scratch code");
    uc_err err = uc_emu_start(uc.get(), 0x2000, 0x2000 + code.size(), 0, 0);
    const bool read_then_write =
        std::find(fill.seen.begin(), fill.seen.end(), std::pair{std::uint64_t{0x30'0000}, UC_MEM_READ}) !=
            fill.seen.end() &&
        std::find(fill.seen.begin(), fill.seen.end(), std::pair{std::uint64_t{0x30'0000}, UC_MEM_WRITE}) !=
            fill.seen.end();
    if (err != UC_ERR_OK || !read_then_write) {
      s.failure = "a store through a read-only entry did not come back as a write fill";
      return s;
    }
    s.ok = true;
    s.fault_address_offset = candidates.front();
  } catch (const std::exception& e) {
    s.failure = e.what();
  }
  return s;
}

}  // namespace

const X86SoftTlbSupport& x86_soft_tlb_support() {
  static const X86SoftTlbSupport support = run_selftest();
  return support;
}

// --- The fill ----------------------------------------------------------

X86SoftTlb::X86SoftTlb(uc_engine* uc, RamGuestMemory& ram, GuestMemory& tables, UnicornX86Registers& regs,
                       X86CodeFrames* shared, std::uint32_t vp)
    : uc_(uc), ram_(ram), tables_(tables), regs_(regs), shared_(shared), vp_(vp) {
  std::uint64_t end = 0;
  for (const auto& region : ram.regions()) end = std::max(end, region.gpa + region.size);
  frames_.assign(static_cast<std::size_t>(end / kPageSize), 0);
  if (shared_ != nullptr && shared_->frame_count() < frames_.size()) shared_ = nullptr;
  unicorn::check(uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL), "virtual TLB");
  uc_hook h;
  unicorn::check(uc_hook_add(uc, &h, UC_HOOK_TLB_FILL, reinterpret_cast<void*>(&fill_hook), this, 1, 0),
                 "TLB fill hook");
}

bool X86SoftTlb::fill_hook(uc_engine*, std::uint64_t page, uc_mem_type type, uc_tlb_entry* entry, void* user) {
  return static_cast<X86SoftTlb*>(user)->fill(page, type, *entry);
}

std::uint8_t* X86SoftTlb::frame_state(std::uint64_t gpa) {
  const std::uint64_t index = gpa / kPageSize;
  return index < frames_.size() ? &frames_[static_cast<std::size_t>(index)] : nullptr;
}

void X86SoftTlb::flush() {
  uc_ctl_flush_tlb(uc_);
  ++counters_.flushes;
  for (std::uint32_t index : granted_) {
    if (shared_ != nullptr && (frames_[index] & kWriteGranted) != 0) shared_->revoke_write(index);
    frames_[index] &= kHoldsCode | kWatched;
  }
  granted_.clear();
}

void X86SoftTlb::grant(std::uint8_t* state, std::uint64_t gpa, std::uint8_t bit) {
  if (state == nullptr || (*state & bit) != 0) return;
  if ((*state & (kWriteGranted | kExecGranted)) == 0) granted_.push_back(static_cast<std::uint32_t>(gpa / kPageSize));
  *state |= bit;
  if (bit == kWriteGranted && shared_ != nullptr) {
    // Counted before the holders are looked at (x86_code_frames.h): their
    // code is dropped now, since this VP's stores will not fill again.
    shared_->grant_write(gpa / kPageSize);
    shared_->written(vp_, gpa / kPageSize, (*state & kHoldsCode) != 0);
  }
}

// At CPL 3, the CPU still reads the descriptor tables and the TSS with
// supervisor rights (SDM vol. 3, 4.6.1).
bool X86SoftTlb::supervisor_table_page(std::uint64_t page) const {
  for (int reg : {UC_X86_REG_GDTR, UC_X86_REG_IDTR, UC_X86_REG_TR, UC_X86_REG_LDTR}) {
    uc_x86_mmr table{};
    uc_reg_read(uc_, reg, &table);
    if (table.limit == 0 && table.base == 0) continue;
    if (page <= table.base + table.limit && table.base < page + kPageSize) return true;
  }
  return false;
}

bool X86SoftTlb::fill(std::uint64_t page, uc_mem_type type, uc_tlb_entry& entry) {
  ++counters_.fills;
  if (dropping_code_) {
    // uc_ctl_remove_cache translating the page whose code is being dropped.
    entry.paddr = dropping_frame_;
    entry.perms = static_cast<uc_prot>(UC_PROT_READ | UC_PROT_EXEC);
    return true;
  }
  const X86Access access = type == UC_MEM_WRITE ? X86Access::write
                           : type == UC_MEM_FETCH ? X86Access::fetch
                                                  : X86Access::read;
  X86PagingState state;
  state.cr0 = regs_.cr0();
  if ((state.cr0 & (1ull << 31)) != 0) {
    state.cr3 = regs_.cr3();
    state.cr4 = regs_.cr4();
    state.efer = regs_.msr(kEferMsr);
  }
  const bool user = (state.cr0 & (1ull << 31)) != 0 && (regs_.cs() & 3) == 3;
  X86Walk w = x86_walk(tables_, state, page, access, user, true);
  if (!w.gpa && user && !w.general_protection && (w.error_code & pf_error::kPresent) != 0 &&
      supervisor_table_page(page)) {
    w = x86_walk(tables_, state, page, access, false, true);
  }
  if (!w.gpa && until_ != 0 && access == X86Access::fetch && page == (until_ & kPageMask)) {
    entry.paddr = page;
    entry.perms = static_cast<uc_prot>(UC_PROT_READ | UC_PROT_EXEC);
    until_granted_ = true;
    return true;
  }
  if (!w.gpa) {
    refused_ = X86TlbFault{w.general_protection, w.error_code, page};
    return false;
  }
  if (*w.gpa >= X86CodeShadow::kBase) {
    // Above the CPU model's 40 physical address bits: reserved bits in the
    // entry (and where the shadow pages live).
    refused_ = X86TlbFault{false,
                           pf_error::kPresent | pf_error::kReserved |
                               (access == X86Access::write ? pf_error::kWrite : 0u) | (user ? pf_error::kUser : 0u) |
                               (access == X86Access::fetch ? pf_error::kFetch : 0u),
                           page};
    return false;
  }
  const std::uint64_t frame = *w.gpa & kPageMask;
  std::uint8_t* st = frame_state(frame);
  const bool shadowed = shadow_ != nullptr && shadow_->active(frame);
  entry.paddr = frame;
  std::uint32_t perms = UC_PROT_READ;
  switch (access) {
    case X86Access::fetch:
      // Writable entries of this frame must go before code is translated
      // from it.
      if (st != nullptr && (*st & kWriteGranted) != 0) flush();
      if (st != nullptr && (*st & kHoldsCode) == 0) {
        *st |= kHoldsCode;
        if (shared_ != nullptr) {
          shared_->hold(frame / kPageSize);
          // Another VP may store here through an entry it already has.
          if (shared_->other_writers(frame / kPageSize, false) && (*st & kWatched) == 0) {
            *st |= kWatched;
            watched_.push_back(frame / kPageSize);
          }
        }
      }
      grant(st, frame, kExecGranted);
      perms |= UC_PROT_EXEC;
      if (auto [known, inserted] = exec_frames_.try_emplace(page, frame); !inserted && known->second != frame) {
        // The page maps another frame now: what was learnt from its old
        // code does not hold here.
        if (on_drop_) on_drop_(known->second);
        known->second = frame;
      }
      if (shadowed) {
        if (auto shadow_page = shadow_->exec_page(frame)) {
          // Execute only: loads of this page fill again and get the frame.
          entry.paddr = *shadow_page;
          perms = UC_PROT_EXEC;
        }
      }
      exec_pages_[(page >> 12) % kExecEntries] = ExecEntry{page, entry.paddr};
      break;
    case X86Access::write:
      if (st != nullptr && (*st & kHoldsCode) != 0) {
        drop_code(frame, true);
        ++counters_.code_writes;
      }
      grant(st, frame, kWriteGranted);
      perms |= UC_PROT_WRITE;
      break;
    case X86Access::read:
    default:
      if (st != nullptr && (*st & kHoldsCode) != 0) {
        if (w.executable && !shadowed) {
          grant(st, frame, kExecGranted);
          perms |= UC_PROT_EXEC;
        }
      } else if (w.writable && w.dirty) {
        // Writable only once dirty: the first store must come here to set D.
        grant(st, frame, kWriteGranted);
        perms |= UC_PROT_WRITE;
      }
      break;
  }
  entry.perms = static_cast<uc_prot>(perms);
  return true;
}

// Drops the frame's translated code, whichever alias made it: with the
// TLB empty, uc_ctl_remove_cache's own fetch fill for linear 0 is answered
// with the frame (dropping_code_), and Unicorn drops every block there by
// physical address. The TLB is dropped again after (that entry, and every
// alias's execute rights).
void X86SoftTlb::drop_code(std::uint64_t frame, bool changed) {
  flush();
  dropping_code_ = true;
  dropping_frame_ = frame;
  uc_ctl_remove_cache(uc_, 0, kPageSize);
  if (auto shadow_page = shadow_ != nullptr ? shadow_->page_of(frame) : std::nullopt) {
    // The code translated from the frame's execution view goes too.
    flush();
    dropping_frame_ = *shadow_page;
    uc_ctl_remove_cache(uc_, 0, kPageSize);
    shadow_->dropped(frame, changed);
  }
  dropping_code_ = false;
  flush();
  exec_pages_.assign(kExecEntries, ExecEntry{});
  if (std::uint8_t* st = frame_state(frame); st != nullptr && (*st & kHoldsCode) != 0) {
    *st &= static_cast<std::uint8_t>(~kHoldsCode);
    if (shared_ != nullptr) shared_->release(frame / kPageSize);
  }
  if (on_drop_) on_drop_(frame);
}

void X86SoftTlb::apply_remote_drops() {
  if (shared_ == nullptr) return;
  auto drop = [&](std::uint64_t index, bool changed) {
    const std::uint8_t* st = frame_state(index * kPageSize);
    if (st == nullptr || (*st & kHoldsCode) == 0) return;
    drop_code(index * kPageSize, changed);
    ++counters_.remote_drops;
  };
  if (!watched_.empty()) {
    for (std::uint64_t index : std::exchange(watched_, {})) {
      frames_[static_cast<std::size_t>(index)] &= static_cast<std::uint8_t>(~kWatched);
      drop(index, false);
    }
  }
  if (shared_->pending(vp_)) {
    for (std::uint64_t index : shared_->take(vp_)) drop(index, true);
  }
}

void X86SoftTlb::end_run() {
  if (std::exchange(until_granted_, false)) flush();
}

std::optional<X86TlbFault> X86SoftTlb::take_fault(uc_err err) {
  if (err != UC_ERR_EXCEPTION || !refused_) return std::nullopt;
  X86TlbFault fault = *refused_;
  if (!fault.general_protection) {
    // The exact address Unicorn stopped for; the refused page when the two
    // disagree (they cannot, unless the library changed under the test).
    std::uint64_t exact = 0;
    std::memcpy(&exact, reinterpret_cast<const std::byte*>(uc_) + x86_soft_tlb_support().fault_address_offset, 8);
    if ((exact & kPageMask) == refused_->address) fault.address = exact;
  }
  refused_.reset();
  return fault;
}

}  // namespace softsynic::emu::x86
