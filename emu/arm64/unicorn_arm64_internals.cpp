// Unicorn's hidden ARM64 exception state; see unicorn_arm64_internals.h.
#include "emu/arm64/unicorn_arm64_internals.h"

#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "devices/arm64/irq_entry.h"
#include "emu/arm64/unicorn_arm64_registers.h"
#include "emu/unicorn/uc_engine.h"

namespace softsynic::emu::arm64 {
namespace {

// QEMU's exception struct: syndrome, fsr (AArch32 format), vaddress,
// target_el.
constexpr std::size_t kVaddressAfterSyndrome = 8;
constexpr std::size_t kTargetElAfterSyndrome = 16;
constexpr std::size_t kExceptionSize = 20;

// QEMU's exception numbers as UC_HOOK_INTR reports them.
constexpr std::uint32_t kExcpUdef = 1, kExcpSvc = 2, kExcpDataAbort = 4, kExcpBkpt = 7;

template <typename T>
T load(const std::uint8_t* blob, std::size_t offset) {
  T v;
  std::memcpy(&v, blob + offset, sizeof v);
  return v;
}

// The scratch machine: 128 KiB of RAM at 0; a level-1 table whose entry 0
// points at a level-2 table mapping VA 0-2 MiB to PA 0 read-only and
// executable at EL0 and EL1 (AP 0b11), and VA 2-4 MiB to PA 0 read-write
// at both, never executable; every other VA is unmapped (T0SZ 25: 39-bit
// VAs from level 1).
constexpr std::uint64_t kRam = 0x20000, kLevel1 = 0x1000, kLevel2 = 0x2000;
// The handlers log at VA 0x20'C000, kLogPa through the read-write alias.
constexpr std::uint64_t kKernelStack = 0xF000, kUserStack = 0x20'8000, kLogPa = 0xC000;
constexpr std::uint64_t kCode = 0x10000;  // also VBAR_EL1
constexpr std::uint64_t kTable = 0x3, kBlock = 0x1, kAf = 1u << 10, kInnerShareable = 3u << 8;
constexpr std::uint64_t kApAllReadOnly = 3u << 6, kApAllReadWrite = 1u << 6;
constexpr std::uint64_t kPxn = std::uint64_t{1} << 53, kUxn = std::uint64_t{1} << 54;
constexpr std::uint64_t kTcrT0sz25 = 25, kTcrEpd1 = 1u << 23, kMairNormal = 0xFF, kSctlrM = 1;
constexpr std::uint64_t kBadLoad = 0x7A'5A5A'5008, kBadStore = 0x6B'4B4B'4010;  // level-1 entries 0x1E9 and 0x1AD
constexpr std::uint32_t kSvcMarker = 0x5600'5A5A;                               // ESR of SVC #0x5A5A from AArch64

// At kCode (EL1h, SP = kKernelStack):
//   0x000 start:   adr x0, user; msr elr_el1, x0; msr spsr_el1, xzr;
//                  mov x1, #kUserStack; msr sp_el0, x1; mov x19, #0x20C000; eret
//   0x024 kabort:  ldr x5, [x6]                (EL1 data abort)
//   0x028 done:    b done
//   0x02C log:     mrs x10..x15 <- esr_el1, far_el1, elr_el1, sp, spsr_el1,
//                  currentel; stp them to [x19], 48 bytes on; ret
//   0x054 user:    svc #0x5a5a; ldr x5, [x6]; str x5, [x7]; udf #0;
//                  brk #0x77; svc #0
//   0x200 (current EL, SP_ELx, sync): bl log; b done
//   0x400 (lower EL, sync): bl log; an SVC #0 goes on to kabort at EL1,
//                  another SVC returns, anything else returns past it
constexpr std::array<std::uint32_t, 27> kCodeWords = {
    0x100002a0, 0xd5184020, 0xd518401f, 0xd2a00401, 0xf2900001, 0xd5184101, 0xd2a00413, 0xf2980013, 0xd69f03e0,
    0xf94000c5, 0x14000000, 0xd538520a, 0xd538600b, 0xd538402c, 0x910003ed, 0xd538400e, 0xd538424f, 0xa8812e6a,
    0xa881366c, 0xa8813e6e, 0xd65f03c0, 0xd40b4b41, 0xf94000c5, 0xf90000e5, 0x00000000, 0xd4200ee0, 0xd4000001};
constexpr std::array<std::uint32_t, 2> kCurrentElSync = {0x97ffff8b, 0x17ffff89};
constexpr std::array<std::uint32_t, 10> kLowerElSync = {0x97ffff0b, 0xd35afd50, 0xf100561f, 0x54000081, 0xf2403d5f,
                                                         0x54ffe080, 0xd69f03e0, 0x9100118c, 0xd518402c, 0xd69f03e0};
constexpr std::uint64_t kKernelAbort = kCode + 0x24, kDone = kCode + 0x28, kUser = kCode + 0x54;

struct Event {
  std::uint32_t intno = 0;
  std::uint64_t pc = 0;
  RaisedException raised;
};

struct ScratchRun {
  UnicornArm64Registers* regs = nullptr;
  uc_context* context = nullptr;
  std::size_t size = 0;
  std::size_t exception = 0;  // found at the first event
  std::vector<Event> events;
  std::string failure;
};

// The marker search: the one place holding the SVC's syndrome with
// target_el 1 after it.
std::string find_exception(const std::uint8_t* blob, std::size_t size, std::size_t& at) {
  int found = 0;
  for (std::size_t i = 0; i + kExceptionSize <= size; ++i) {
    if (load<std::uint32_t>(blob, i) == kSvcMarker && load<std::uint32_t>(blob, i + kTargetElAfterSyndrome) == 1) {
      at = i;
      ++found;
    }
  }
  if (found == 0) return "the SVC's syndrome was not found in the saved context";
  if (found > 1) return "the SVC's syndrome was found in more than one place in the saved context";
  return {};
}

RaisedException read_at(const std::uint8_t* blob, std::size_t at) {
  return {load<std::uint32_t>(blob, at), load<std::uint64_t>(blob, at + kVaddressAfterSyndrome),
          load<std::uint32_t>(blob, at + kTargetElAfterSyndrome)};
}

void on_scratch_exception(uc_engine* uc, std::uint32_t intno, void* user) {
  auto& run = *static_cast<ScratchRun*>(user);
  Event event{intno, run.regs->pc(), {}};
  uc_context_save(uc, run.context);
  const auto* blob = reinterpret_cast<const std::uint8_t*>(run.context);
  if (run.events.empty() && run.failure.empty()) run.failure = find_exception(blob, run.size, run.exception);
  if (!run.failure.empty() || run.events.size() >= 8) {
    if (run.failure.empty()) run.failure = "more exceptions than the scratch code raises";
    uc_emu_stop(uc);
    return;
  }
  event.raised = read_at(blob, run.exception);
  run.events.push_back(event);
  // As the engine delivers.
  if (devices::arm64_take_sync(*run.regs, {event.raised.syndrome, event.raised.vaddress}).status !=
      devices::Arm64EntryStatus::taken) {
    run.failure = "the entry refused PSTATE " + std::to_string(run.regs->pstate());
    uc_emu_stop(uc);
  }
}

struct Expected {
  const char* what;
  std::uint32_t intno;
  std::uint64_t pc;  // where Unicorn leaves it: the preferred return address
  std::uint32_t syndrome;
  std::uint64_t far;  // 0: not an abort
  bool from_el0;
};

constexpr std::uint32_t syndrome(std::uint32_t ec, std::uint32_t iss) {
  return (ec << devices::esr::kEcShift) | devices::esr::kIl | iss;
}

constexpr std::uint32_t kTranslationLevel1 = devices::esr::kFscTranslation + 1;
const Expected kExpected[] = {
    {"SVC #0x5A5A from EL0", kExcpSvc, kUser + 4, kSvcMarker, 0, true},
    {"a load from an unmapped VA at EL0", kExcpDataAbort, kUser + 4,
     syndrome(devices::esr::kEcDataAbortLower, kTranslationLevel1), kBadLoad, true},
    {"a store to an unmapped VA at EL0", kExcpDataAbort, kUser + 8,
     syndrome(devices::esr::kEcDataAbortLower, devices::esr::kWnR | kTranslationLevel1), kBadStore, true},
    {"UDF at EL0", kExcpUdef, kUser + 12, syndrome(devices::esr::kEcUnknown, 0), 0, true},
    {"BRK #0x77 at EL0", kExcpBkpt, kUser + 16, syndrome(devices::esr::kEcBrk64, 0x77), 0, true},
    {"SVC #0 from EL0", kExcpSvc, kUser + 24, syndrome(devices::esr::kEcSvc64, 0), 0, true},
    {"a load from an unmapped VA at EL1", kExcpDataAbort, kKernelAbort,
     syndrome(devices::esr::kEcDataAbortSame, kTranslationLevel1), kBadLoad, false},
};
constexpr std::size_t kEvents = sizeof kExpected / sizeof kExpected[0];
constexpr std::uint64_t kCurrentEl1 = 1u << 2;
constexpr std::uint64_t kEl1hMasked = devices::pstate::kEl1h | devices::pstate::kDaif;

// What the guest's handler logged: ESR, FAR, ELR, SP, SPSR, CurrentEL.
std::string check_log(const std::uint64_t (&log)[kEvents][6]) {
  for (std::size_t i = 0; i < kEvents; ++i) {
    const Expected& e = kExpected[i];
    const std::string what = std::string(" (") + e.what + ")";
    if (log[i][5] != kCurrentEl1) return "the handler did not run at EL1" + what;
    if (log[i][0] != e.syndrome) return "the handler read a wrong ESR_EL1" + what;
    if (e.far != 0 && log[i][1] != e.far) return "the handler read a wrong FAR_EL1" + what;
    if (log[i][2] != e.pc) return "the handler read a wrong ELR_EL1" + what;
    if (log[i][3] != kKernelStack) return "the handler did not run on SP_EL1" + what;
    // (NZCV is whatever the code before left.)
    if ((log[i][4] & ~devices::pstate::kNzcv) != (e.from_el0 ? devices::pstate::kEl0t : kEl1hMasked))
      return "the handler read a wrong SPSR_EL1" + what;
  }
  return {};
}

std::string check_run(const ScratchRun& run, UnicornArm64Registers& regs, uc_engine* uc) {
  if (!run.failure.empty()) return run.failure;
  if (run.events.size() != kEvents)
    return std::to_string(run.events.size()) + " exceptions reached the hook, not " + std::to_string(kEvents) +
           " (ERET to EL0 or a handler's system register access went wrong)";
  for (std::size_t i = 0; i < kEvents; ++i) {
    const Expected& e = kExpected[i];
    const Event& got = run.events[i];
    const std::string what = std::string(" (") + e.what + ")";
    if (got.intno != e.intno) return "exception number " + std::to_string(got.intno) + what;
    if (got.pc != e.pc) return "the PC at the hook is not the preferred return address" + what;
    if (got.raised.syndrome != e.syndrome) return "the syndrome read " + std::to_string(got.raised.syndrome) + what;
    if (e.far != 0 && got.raised.vaddress != e.far) return "the fault address is not where expected" + what;
    if (got.raised.target_el != 1) return "the target EL is not where expected" + what;
  }
  std::uint64_t log[kEvents][6] = {};
  if (uc_mem_read(uc, kLogPa, log, sizeof log) != UC_ERR_OK) return "the scratch log is unreadable";
  if (std::string failure = check_log(log); !failure.empty()) return failure;
  if (regs.pc() != kDone || (regs.pstate() & devices::pstate::kModeMask) != devices::pstate::kEl1h)
    return "the scratch run did not end in its EL1 handler";
  if (regs.get(UC_ARM64_REG_SP_EL0) != kUserStack) return "SP_EL0 was not kept across the entries";
  return {};
}

void put(uc_engine* uc, std::uint64_t address, const void* data, std::size_t size, std::string& failure) {
  if (failure.empty() && uc_mem_write(uc, address, data, size) != UC_ERR_OK) failure = "scratch RAM";
}

UnicornArm64Layout run_selftest() {
  UnicornArm64Layout layout;
  if (auto forced = unicorn::forced_selftest_failure(kExceptionSelftestEnv)) {
    layout.failure = *forced;
    return layout;
  }
  try {
    unicorn::UcHandle uc = unicorn::open_engine(UC_ARCH_ARM64, UC_MODE_ARM);
    unicorn::check(uc_ctl_set_cpu_model(uc.get(), UC_CPU_ARM64_A72), "ARM64 CPU model");
    unicorn::check(uc_mem_map(uc.get(), 0, kRam, UC_PROT_ALL), "scratch RAM");
    const std::uint64_t level1 = kLevel2 | kTable;
    const std::uint64_t level2[2] = {0 | kBlock | kAf | kInnerShareable | kApAllReadOnly,
                                     0 | kBlock | kAf | kInnerShareable | kApAllReadWrite | kPxn | kUxn};
    std::string failure;
    put(uc.get(), kLevel1, &level1, sizeof level1, failure);
    put(uc.get(), kLevel2, level2, sizeof level2, failure);
    put(uc.get(), kCode, kCodeWords.data(), sizeof kCodeWords, failure);
    put(uc.get(), kCode + devices::arm64_vector_offset::kSyncCurrentElSpx, kCurrentElSync.data(),
        sizeof kCurrentElSync, failure);
    put(uc.get(), kCode + devices::arm64_vector_offset::kSyncLowerElAarch64, kLowerElSync.data(), sizeof kLowerElSync,
        failure);
    if (!failure.empty()) {
      layout.failure = failure;
      return layout;
    }
    UnicornArm64Registers regs(uc.get());
    prepare_non_secure_el1(regs);
    regs.set_sysreg(3, 0, 10, 2, 0, kMairNormal);              // MAIR_EL1
    regs.set_sysreg(3, 0, 2, 0, 2, kTcrT0sz25 | kTcrEpd1);     // TCR_EL1
    regs.set_sysreg(3, 0, 2, 0, 0, kLevel1);                   // TTBR0_EL1
    regs.set_sysreg(3, 0, 1, 0, 0, regs.get_sysreg(3, 0, 1, 0, 0) | kSctlrM);  // SCTLR_EL1
    regs.set(UC_ARM64_REG_VBAR_EL1, kCode);
    regs.set_sp(kKernelStack);
    regs.set_x(6, kBadLoad);
    regs.set_x(7, kBadStore);
    ScratchRun run;
    run.regs = &regs;
    unicorn::check(uc_context_alloc(uc.get(), &run.context), "uc_context_alloc");
    run.size = uc_context_size(uc.get());
    uc_hook h;
    unicorn::check(
        uc_hook_add(uc.get(), &h, UC_HOOK_INTR, reinterpret_cast<void*>(&on_scratch_exception), &run, 1, 0),
        "exception hook");
    const uc_err err = uc_emu_start(uc.get(), kCode, kDone, 0, 1000);
    uc_context_free(run.context);
    if (err != UC_ERR_OK) {
      layout.failure = std::string("scratch run: ") + uc_strerror(err);
      return layout;
    }
    layout.failure = check_run(run, regs, uc.get());
    layout.exception = run.exception;
  } catch (const std::exception& e) {
    layout.failure = e.what();
  }
  layout.ok = layout.failure.empty();
  return layout;
}

}  // namespace

const UnicornArm64Layout& arm64_internals() {
  static const UnicornArm64Layout layout = run_selftest();
  return layout;
}

ExceptionReader::ExceptionReader() = default;

ExceptionReader::~ExceptionReader() {
  if (context_ != nullptr) uc_context_free(context_);
}

RaisedException ExceptionReader::read(uc_engine* uc) {
  if (!arm64_internals().ok) return {};
  // Allocated at first use: allocating initialises the CPU, after which
  // the engine could no longer choose its model.
  if (context_ == nullptr) unicorn::check(uc_context_alloc(uc, &context_), "uc_context_alloc");
  uc_context_save(uc, context_);
  return read_at(reinterpret_cast<const std::uint8_t*>(context_), arm64_internals().exception);
}

}  // namespace softsynic::emu::arm64
