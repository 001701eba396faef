// On a Unicorn x86-64 engine (libunicorn, the reference emulator's CPU): a
// guest loop of N trapped instructions per uc_emu_start, so the emulator's
// own cost of a trap sits beside the SynIC's hypercall (TLFS "Hypercall
// Interface": the hypercall page). Loop body: mov rcx, control; mov rdx,
// input; TRAP; dec r12; jnz. Variants of TRAP:
//  - emulator/nop: a NOP (the loop alone, no trap);
//  - emulator/out_trap: OUT to an unused port, hooked by a callback that
//    does nothing (UC_HOOK_INSN);
//  - emulator/cpuid_trap: CPUID replaced by a callback that does nothing;
//  - emulator/hypercall_trap: CALL into the hypercall page, whose first
//    byte a code hook traps and skips to its RET, doing nothing else (the
//    trap the reference emulator uses, without a hypervisor behind it);
//  - emulator/hypercall_trap_regs: the same trap, also reading RCX, RDX and
//    R8 and writing RAX through the Unicorn API (what any hypercall
//    handler must do, without a hypervisor behind it);
//  - emulator/hypercall_synic: the same trap running a fast HvSignalEvent
//    through X86Hypervisor::hypercall (registers read and RAX written
//    through the Unicorn API by the reference emulator's adapter, the port
//    called).
// Guest RAM is the SynicRig's, mapped with uc_mem_map_ptr; the hypercall
// page is the one the HYPERCALL MSR write filled.
// Not measured: interrupt delivery into the guest (the runner's job).
#include <unicorn/unicorn.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/label.h"
#include "bench/rig.h"
#ifdef SOFTSYNIC_BENCH_HAVE_CPU_HOOKS
#include "bench/x86_guest.h"
#endif
#ifdef SOFTSYNIC_BENCH_HAVE_EMU
#include "emu/x86/unicorn_x86_registers.h"
#endif

namespace softsynic::bench {
namespace {

constexpr std::uint64_t kCodeGpa = 0x3000;
constexpr std::uint64_t kStackTop = 0xF0000;
constexpr std::uint64_t kLoops = 1000;  // trapped instructions per uc_emu_start
constexpr std::uint64_t kHypercallPage = 0x1000;
constexpr std::uint32_t kConnection = kEventConnection + 5;
constexpr std::uint16_t kFlag = 3;

enum class Trap { nop, out, cpuid, hypercall, hypercall_regs };

void check(uc_err err, const char* what) {
  if (err != UC_ERR_OK) throw std::runtime_error(std::string("unicorn: ") + what + ": " + uc_strerror(err));
}

std::vector<std::uint8_t> loop_code(Trap trap) {
  std::vector<std::uint8_t> c;
  auto imm = [&c](std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) c.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  const std::uint64_t control = 0x5D | (1u << 16);  // HvSignalEvent, fast
  c.insert(c.end(), {0x48, 0xC7, 0xC1});            // mov rcx, imm32
  imm(control, 4);
  c.insert(c.end(), {0x48, 0xBA});  // mov rdx, imm64
  imm(kConnection | (std::uint64_t{kFlag} << 32), 8);
  switch (trap) {
    case Trap::nop:
      c.push_back(0x90);
      break;
    case Trap::out:
      c.insert(c.end(), {0xE6, 0x80});  // out 0x80, al
      break;
    case Trap::cpuid:
      c.insert(c.end(), {0x0F, 0xA2});
      break;
    case Trap::hypercall:
    case Trap::hypercall_regs: {
      c.push_back(0xE8);  // call rel32
      const auto next = static_cast<std::int64_t>(kCodeGpa + c.size() + 4);
      imm(static_cast<std::uint64_t>(static_cast<std::int64_t>(kHypercallPage) - next), 4);
      break;
    }
    default:
      break;
  }
  c.insert(c.end(), {0x49, 0xFF, 0xCC});  // dec r12
  c.push_back(0x75);                      // jnz loop
  c.push_back(static_cast<std::uint8_t>(-static_cast<int>(c.size() + 1)));
  c.push_back(0xF4);  // hlt
  return c;
}

// One engine over the rig's RAM, running the loop of `trap`.
class GuestLoop {
 public:
  GuestLoop(SynicRig& rig, Trap trap) {
    check(uc_open(UC_ARCH_X86, UC_MODE_64, &uc_), "uc_open");
    std::byte* ram = rig.ram().host_pointer(0, kRamBytes);
    if (ram == nullptr) throw std::runtime_error("bench: rig RAM too small for the guest loop");
    check(uc_mem_map_ptr(uc_, 0, kRamBytes, UC_PROT_ALL, ram), "uc_mem_map_ptr");
    const auto code = loop_code(trap);
    check(uc_mem_write(uc_, kCodeGpa, code.data(), code.size()), "uc_mem_write");
    if (trap == Trap::out) add_insn_hook(UC_X86_INS_OUT, reinterpret_cast<void*>(&on_out));
    if (trap == Trap::cpuid) add_insn_hook(UC_X86_INS_CPUID, reinterpret_cast<void*>(&on_cpuid));
  }
  ~GuestLoop() { uc_close(uc_); }
  GuestLoop(const GuestLoop&) = delete;
  GuestLoop& operator=(const GuestLoop&) = delete;

  uc_engine* engine() { return uc_; }

  // Traps the hypercall page's first byte with `callback(uc, addr, size, user)`.
  void hook_hypercall_page(void* callback, void* user) {
    uc_hook h;
    check(uc_hook_add(uc_, &h, UC_HOOK_CODE, callback, user, kHypercallPage, kHypercallPage), "uc_hook_add code");
  }

  // Runs kLoops iterations; false if the loop did not finish.
  bool run() {
    std::uint64_t r12 = kLoops, rsp = kStackTop;
    uc_reg_write(uc_, UC_X86_REG_R12, &r12);
    uc_reg_write(uc_, UC_X86_REG_RSP, &rsp);
    if (uc_emu_start(uc_, kCodeGpa, 0, 0, 0) != UC_ERR_OK) return false;
    uc_reg_read(uc_, UC_X86_REG_R12, &r12);
    return r12 == 0;
  }

  std::uint64_t traps = 0;

 private:
  static constexpr std::size_t kRamBytes = 0x100000;

  void add_insn_hook(int insn, void* callback) {
    uc_hook h;
    check(uc_hook_add(uc_, &h, UC_HOOK_INSN, callback, this, 1, 0, insn), "uc_hook_add insn");
  }
  static void on_out(uc_engine*, std::uint32_t, int, std::uint32_t, void* user) {
    ++static_cast<GuestLoop*>(user)->traps;
  }
  static int on_cpuid(uc_engine*, void* user) {
    ++static_cast<GuestLoop*>(user)->traps;
    return 1;  // replace the instruction
  }

  uc_engine* uc_ = nullptr;
};

// The page's `ret` follows the 3-byte VMCALL.
void skip_to_ret(uc_engine* uc) {
  std::uint64_t rip = kHypercallPage + 3;
  uc_reg_write(uc, UC_X86_REG_RIP, &rip);
}

void run_loop(benchmark::State& state, GuestLoop& loop) {
  bool ok = true;
  for (auto _ : state) ok &= loop.run();
  expect(state, ok, "guest loop did not finish");
}

void emulator_trap(benchmark::State& state, Trap trap) {
  SynicRig rig({});
  // The hypercall page's bytes, as the HYPERCALL MSR write would fill them.
  const std::uint8_t page[] = {0x0F, 0x01, 0xC1, 0xC3};
  rig.ram().write(kHypercallPage, std::as_bytes(std::span(page)));
  GuestLoop loop(rig, trap);
  if (trap == Trap::hypercall) {
    loop.hook_hypercall_page(reinterpret_cast<void*>(+[](uc_engine* uc, std::uint64_t, std::uint32_t, void* user) {
                               ++static_cast<GuestLoop*>(user)->traps;
                               skip_to_ret(uc);
                             }),
                             &loop);
  }
  if (trap == Trap::hypercall_regs) {
    loop.hook_hypercall_page(reinterpret_cast<void*>(+[](uc_engine* uc, std::uint64_t, std::uint32_t, void* user) {
                               std::uint64_t rcx = 0, rdx = 0, r8 = 0;
                               uc_reg_read(uc, UC_X86_REG_RCX, &rcx);
                               uc_reg_read(uc, UC_X86_REG_RDX, &rdx);
                               uc_reg_read(uc, UC_X86_REG_R8, &r8);
                               benchmark::DoNotOptimize(rcx ^ rdx ^ r8);
                               std::uint64_t rax = 0;  // HV_STATUS_SUCCESS
                               uc_reg_write(uc, UC_X86_REG_RAX, &rax);
                               ++static_cast<GuestLoop*>(user)->traps;
                               skip_to_ret(uc);
                             }),
                             &loop);
  }
  run_loop(state, loop);
  if (trap != Trap::nop) expect(state, loop.traps == iterations(state) * kLoops, "trap hook not called once per loop");
  if (trap == Trap::hypercall || trap == Trap::hypercall_regs) {
    describe(state, {"emulator/out_trap", 0}, kLoops);
  } else {
    describe_floor(state, kLoops);
  }
}
BENCHMARK_CAPTURE(emulator_trap, nop, Trap::nop)->Name("emulator/nop");
BENCHMARK_CAPTURE(emulator_trap, out, Trap::out)->Name("emulator/out_trap");
BENCHMARK_CAPTURE(emulator_trap, cpuid, Trap::cpuid)->Name("emulator/cpuid_trap");
BENCHMARK_CAPTURE(emulator_trap, hypercall, Trap::hypercall)->Name("emulator/hypercall_trap");
BENCHMARK_CAPTURE(emulator_trap, hypercall_regs, Trap::hypercall_regs)->Name("emulator/hypercall_trap_regs");

#ifdef SOFTSYNIC_BENCH_HAVE_CPU_HOOKS
#ifdef SOFTSYNIC_BENCH_HAVE_EMU
// The reference emulator's own register adapter (batched reads).
using UnicornRegisters = emu::x86::UnicornX86Registers;
#else
// X86Registers over the engine's CPU state, read and written on demand.
class UnicornRegisters final : public X86Registers {
 public:
  explicit UnicornRegisters(uc_engine* uc) : uc_(uc) {}
  std::uint64_t get(X86Reg reg) const override {
    std::uint64_t v = 0;
    uc_reg_read(uc_, uc_reg(reg), &v);
    return v;
  }
  void set(X86Reg reg, std::uint64_t value) override { uc_reg_write(uc_, uc_reg(reg), &value); }
  Uint128 get_xmm(unsigned n) const override {
    Uint128 v;
    uc_reg_read(uc_, UC_X86_REG_XMM0 + static_cast<int>(n), &v);
    return v;
  }
  void set_xmm(unsigned n, Uint128 value) override { uc_reg_write(uc_, UC_X86_REG_XMM0 + static_cast<int>(n), &value); }
  bool long_mode() const override { return true; }  // a UC_MODE_64 engine

 private:
  static int uc_reg(X86Reg reg) {
    static constexpr int kMap[kX86RegCount] = {
        UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
        UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
        UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_EFLAGS};
    return kMap[static_cast<unsigned>(reg) % kX86RegCount];
  }
  uc_engine* uc_;
};
#endif

static_assert(X86Guest::kHypercallPageGpa == kHypercallPage);

struct SynicTrap {
  X86Hypervisor* hv;
  std::uint64_t failures = 0;
};

void emulator_hypercall_synic(benchmark::State& state) {
  SynicRig rig({});
  X86Guest guest(rig);  // enables the page at kHypercallPage and fills it
  GuestLoop loop(rig, Trap::hypercall);
  SynicTrap trap{&guest.hypervisor()};
  loop.hook_hypercall_page(reinterpret_cast<void*>(+[](uc_engine* uc, std::uint64_t, std::uint32_t, void* user) {
                             auto* t = static_cast<SynicTrap*>(user);
                             UnicornRegisters regs(uc);
                             const HypercallOutcome o = t->hv->hypercall(0, 0, regs);
                             t->failures += o.status == HvStatus::success ? 0 : 1;
                             skip_to_ret(uc);
                           }),
                           &trap);
  run_loop(state, loop);
  expect(state, trap.failures == 0 && rig.event_port().total() == iterations(state) * kLoops,
         "HvSignalEvent did not reach the port once per loop");
  describe(state, {"emulator/hypercall_trap", 1.15}, kLoops);
}
BENCHMARK(emulator_hypercall_synic)->Name("emulator/hypercall_synic");
#endif

}  // namespace
}  // namespace softsynic::bench
