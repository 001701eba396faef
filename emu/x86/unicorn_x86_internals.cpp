// Unicorn's hidden x86 exception state; see unicorn_x86_internals.h.
#include "emu/x86/unicorn_x86_internals.h"

#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "emu/unicorn/uc_engine.h"
#include "emu/x86/x86_boot.h"
#include "synic/guest_memory.h"

namespace softsynic::emu::x86 {
namespace {

// QEMU's CPUX86State: error_code, exception_is_int, exception_next_eip,
// dr[8], four breakpoint pointers, then old_exception.
constexpr std::size_t kErrorCodeBeforeDr0 = 16;
constexpr std::size_t kOldExceptionAfterDr0 = 8 * 8 + 4 * 8;
constexpr std::uint64_t kMarker0 = 0x5AF7'51C0'DE0D'4000;
constexpr std::uint64_t kMarker1 = 0x5AF7'51C0'DE0D'4001;
constexpr std::uint8_t kPageFault = 14;
constexpr std::uint8_t kDoubleFault = 8;

template <typename T>
T load(const std::uint8_t* blob, std::size_t offset) {
  T v;
  std::memcpy(&v, blob + offset, sizeof v);
  return v;
}

struct ScratchRun {
  int faults = 0;
  std::uint32_t vectors[2] = {};
  std::uint32_t first_error = 0;
  std::int32_t first_in_flight = 0;
  bool reset = true;
  std::size_t dr0 = 0;
  uc_context* context = nullptr;
  std::uint64_t retry_at = 0, done_at = 0;
};

void on_scratch_fault(uc_engine* uc, std::uint32_t intno, void* user) {
  auto& run = *static_cast<ScratchRun*>(user);
  if (run.faults < 2) run.vectors[run.faults] = intno;
  if (run.faults++ == 0) {
    uc_context_save(uc, run.context);
    auto* blob = static_cast<std::uint8_t*>(static_cast<void*>(run.context)) + 0;
    // The blob's CPU state follows Unicorn's header; offsets were found in
    // the same kind of blob, so they apply to the whole context object.
    run.first_error = static_cast<std::uint32_t>(load<std::int32_t>(blob, run.dr0 - kErrorCodeBeforeDr0));
    run.first_in_flight = load<std::int32_t>(blob, run.dr0 + kOldExceptionAfterDr0);
    if (run.reset) {
      const std::int32_t none = -1;
      std::memcpy(blob + run.dr0 + kOldExceptionAfterDr0, &none, sizeof none);
      uc_context_restore(uc, run.context);
    }
    uc_reg_write(uc, UC_X86_REG_RIP, &run.retry_at);
    return;
  }
  uc_reg_write(uc, UC_X86_REG_RIP, &run.done_at);
}

// One scratch run: a store to an address the boot tables leave unmapped,
// taken twice. Returns false with `why` when the engine cannot be set up.
bool scratch_run(ScratchRun& run, std::string& why) {
  uc_engine* raw = nullptr;
  if (uc_open(UC_ARCH_X86, UC_MODE_64, &raw) != UC_ERR_OK) {
    why = "uc_open failed";
    return false;
  }
  unicorn::UcHandle uc(raw);
  RamGuestMemory ram({{0, 0x20000}});
  write_boot_tables(ram);
  // 0x10000: mov rax, 0x100000000; mov byte [rax], 1; hlt
  const std::array<std::uint8_t, 14> code = {0x48, 0xB8, 0, 0, 0, 0, 1, 0, 0, 0, 0xC6, 0x00, 0x01, 0xF4};
  constexpr std::uint64_t kCode = 0x10000;
  if (!ram.write(kCode, std::as_bytes(std::span(code)))) {
    why = "scratch RAM";
    return false;
  }
  unicorn::map_guest_ram(uc.get(), ram);
  load_long_mode(uc.get(), kRamBootTables, kCode, 0x18000);
  run.retry_at = kCode + 10;
  run.done_at = kCode + 13;
  std::uint64_t m0 = kMarker0, m1 = kMarker1;
  uc_reg_write(uc.get(), UC_X86_REG_DR0, &m0);
  uc_reg_write(uc.get(), UC_X86_REG_DR1, &m1);
  if (uc_context_alloc(uc.get(), &run.context) != UC_ERR_OK) {
    why = "uc_context_alloc failed";
    return false;
  }
  // Find DR0 by its marker, DR1 right after it.
  uc_context_save(uc.get(), run.context);
  const auto* blob = reinterpret_cast<const std::uint8_t*>(run.context);
  const std::size_t size = uc_context_size(uc.get());
  bool found = false;
  for (std::size_t at = kErrorCodeBeforeDr0; at + kOldExceptionAfterDr0 + 4 <= size; ++at) {
    if (load<std::uint64_t>(blob, at) == kMarker0 && load<std::uint64_t>(blob, at + 8) == kMarker1) {
      run.dr0 = at;
      found = true;
      break;
    }
  }
  if (!found) {
    uc_context_free(run.context);
    why = "debug-register markers not found in the saved context";
    return false;
  }
  uc_hook h;
  uc_hook_add(uc.get(), &h, UC_HOOK_INTR, reinterpret_cast<void*>(&on_scratch_fault), &run, 1, 0);
  const uc_err err = uc_emu_start(uc.get(), kCode, 0, 0, 1000);
  uc_context_free(run.context);
  run.context = nullptr;
  if (err != UC_ERR_OK) {
    why = std::string("scratch run: ") + uc_strerror(err);
    return false;
  }
  return true;
}

UnicornX86Layout find_layout() {
  UnicornX86Layout layout;
  ScratchRun with_reset, without_reset;
  without_reset.reset = false;
  std::string why;
  if (!scratch_run(with_reset, why) || !scratch_run(without_reset, why)) {
    layout.failure = why;
    return layout;
  }
  if (with_reset.faults != 2 || with_reset.vectors[0] != kPageFault) {
    layout.failure = "the scratch store did not raise #PF";
  } else if (with_reset.first_error != 0x2) {
    layout.failure = "the #PF error code is not where expected (read " + std::to_string(with_reset.first_error) + ")";
  } else if (with_reset.first_in_flight != kPageFault) {
    layout.failure = "the in-flight exception is not where expected";
  } else if (with_reset.vectors[1] != kPageFault) {
    layout.failure = "a second #PF after the reset still arrived as vector " + std::to_string(with_reset.vectors[1]);
  } else if (without_reset.faults != 2 || without_reset.vectors[1] != kDoubleFault) {
    layout.failure = "without the reset a second #PF did not become #DF: the field is not the one the CPU reads";
  } else {
    layout.ok = true;
    layout.error_code = with_reset.dr0 - kErrorCodeBeforeDr0;
    layout.old_exception = with_reset.dr0 + kOldExceptionAfterDr0;
  }
  return layout;
}

}  // namespace

const UnicornX86Layout& x86_internals() {
  static const UnicornX86Layout layout = find_layout();
  return layout;
}

ExceptionState::ExceptionState(uc_engine* uc) {
  const UnicornX86Layout& layout = x86_internals();
  if (!layout.ok) {
    throw std::runtime_error("this Unicorn library's x86 exception state failed softsynic's self-test (" +
                             layout.failure + "); install Unicorn 2.1.1 (scripts/install-deps)");
  }
  unicorn::check(uc_context_alloc(uc, &context_), "uc_context_alloc");
}

ExceptionState::~ExceptionState() {
  if (context_ != nullptr) uc_context_free(context_);
}

std::uint32_t ExceptionState::take(uc_engine* uc) {
  const UnicornX86Layout& layout = x86_internals();
  uc_context_save(uc, context_);
  auto* blob = reinterpret_cast<std::uint8_t*>(context_);
  const auto error = static_cast<std::uint32_t>(load<std::int32_t>(blob, layout.error_code));
  const std::int32_t none = -1;
  if (load<std::int32_t>(blob, layout.old_exception) != none) {
    std::memcpy(blob + layout.old_exception, &none, sizeof none);
    uc_context_restore(uc, context_);
  }
  return error;
}

}  // namespace softsynic::emu::x86
