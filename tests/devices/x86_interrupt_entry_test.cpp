// x86-64 event delivery: the interrupt window, IDT gate lookup, the stack
// frame, RFLAGS/CS/RIP updates, IST and privilege stack switches, and the
// #GP/#NP/#TS/#DF/triple-fault outcomes of broken IDTs.
#include <doctest/doctest.h>

#include <string>

#include <array>
#include <cstring>

#include "devices/x86_interrupt_entry.h"
#include "synic/guest_memory.h"
#include "tests/devices/apic_rig.h"

using namespace softsynic::devices;

namespace {

constexpr std::uint64_t kIdt = 0x1000;
constexpr std::uint64_t kTss = 0x3000;
constexpr std::uint64_t kStackTop = 0x8008;  // deliberately not 16-byte aligned
constexpr std::uint64_t kIstTop = 0x6000;
constexpr std::uint64_t kRsp0 = 0x7000;
constexpr std::uint16_t kKernelCs = 0x08;
constexpr std::uint64_t kRflags = 0x202 | x86_rflags::kTf | x86_rflags::kRf | (1u << 0);  // IF, TF, RF, CF

struct Regs final : X86EntryRegisters {
  std::uint64_t rip_ = 0x4000, rsp_ = kStackTop, rflags_ = kRflags;
  std::uint16_t cs_ = kKernelCs, ss_ = 0x10;
  std::uint64_t rip() const override { return rip_; }
  void set_rip(std::uint64_t v) override { rip_ = v; }
  std::uint64_t rsp() const override { return rsp_; }
  void set_rsp(std::uint64_t v) override { rsp_ = v; }
  std::uint64_t rflags() const override { return rflags_; }
  void set_rflags(std::uint64_t v) override { rflags_ = v; }
  std::uint16_t cs() const override { return cs_; }
  void set_cs(std::uint16_t v) override { cs_ = v; }
  std::uint16_t ss() const override { return ss_; }
  void set_ss(std::uint16_t v) override { ss_ = v; }
  friend bool operator==(const Regs& a, const Regs& b) {
    return a.rip_ == b.rip_ && a.rsp_ == b.rsp_ && a.rflags_ == b.rflags_ && a.cs_ == b.cs_ && a.ss_ == b.ss_;
  }
};

struct Rig {
  softsynic::RamGuestMemory ram{0x10000};
  GuestMemoryLinear linear{ram};
  Regs regs;
  X86DescriptorTables tables{kIdt, 0xFFF, kTss};

  void gate(std::uint8_t vector, std::uint64_t handler, std::uint8_t type = 0xE, bool present = true,
            std::uint16_t selector = kKernelCs, unsigned ist = 0, unsigned dpl = 0) {
    std::array<std::byte, 16> d{};
    auto put = [&](unsigned at, std::uint64_t v, unsigned n) {
      for (unsigned i = 0; i < n; ++i) d[at + i] = static_cast<std::byte>(v >> (8 * i));
    };
    put(0, handler & 0xFFFF, 2);
    put(2, selector, 2);
    put(4, ist, 1);
    put(5, type | (dpl << 5) | (present ? 0x80u : 0u), 1);
    put(6, (handler >> 16) & 0xFFFF, 2);
    put(8, handler >> 32, 4);
    ram.write(kIdt + vector * 16u, d);
  }
  void u64(std::uint64_t gpa, std::uint64_t v) {
    std::array<std::byte, 8> b{};
    std::memcpy(b.data(), &v, 8);
    ram.write(gpa, b);
  }
  std::uint64_t u64(std::uint64_t gpa) {
    std::array<std::byte, 8> b{};
    ram.read(gpa, b);
    std::uint64_t v = 0;
    std::memcpy(&v, b.data(), 8);
    return v;
  }
  X86EntryResult deliver(X86Event e) { return x86_deliver_event(regs, linear, tables, e); }
};

constexpr X86Event external(std::uint8_t v) { return {v, X86EventKind::external_interrupt, 0}; }

}  // namespace

TEST_CASE("x86 window: IF set and no interrupt shadow") {
  CHECK(x86_interrupt_window_open(x86_rflags::kIf, false));
  CHECK_FALSE(x86_interrupt_window_open(x86_rflags::kIf, true));
  CHECK_FALSE(x86_interrupt_window_open(0x2, false));
}

TEST_CASE("x86 window: the APIC's vector is taken only through an open window") {
  test::EnabledApic t;
  t.apic.request_interrupt(0x40, false);
  CHECK(x86_take_interrupt(t.apic, 0x2, false) == std::nullopt);
  CHECK(x86_take_interrupt(t.apic, 0x202, true) == std::nullopt);
  CHECK(t.apic.irr().test(0x40));  // still pending
  CHECK(x86_take_interrupt(t.apic, 0x202, false) == 0x40);
  CHECK(t.apic.isr().test(0x40));
}

TEST_CASE("x86 entry: an external interrupt through an interrupt gate at CPL 0") {
  Rig r;
  r.gate(0xB0, 0xFFFF'8000'1234'5678);
  const X86EntryResult res = r.deliver(external(0xB0));
  REQUIRE(res.status == X86EntryStatus::delivered);
  CHECK(res.delivered.vector == 0xB0);
  const std::uint64_t frame = (kStackTop & ~0xFull) - 5 * 8;
  CHECK(r.regs.rsp_ == frame);
  CHECK(r.u64(frame + 0) == 0x4000);      // RIP
  CHECK(r.u64(frame + 8) == kKernelCs);   // CS
  CHECK(r.u64(frame + 16) == kRflags);    // RFLAGS as it was
  CHECK(r.u64(frame + 24) == kStackTop);  // RSP as it was
  CHECK(r.u64(frame + 32) == 0x10);       // SS
  CHECK(r.regs.rip_ == 0xFFFF'8000'1234'5678);
  CHECK(r.regs.cs_ == kKernelCs);
  CHECK(r.regs.ss_ == 0x10);                          // no privilege change: SS kept
  CHECK(r.regs.rflags_ == (0x2 | 1u));                // IF, TF, RF cleared; CF kept
}

TEST_CASE("x86 entry: a trap gate keeps IF") {
  Rig r;
  r.gate(0x80, 0x5000, 0xF);
  REQUIRE(r.deliver(external(0x80)).status == X86EntryStatus::delivered);
  CHECK(r.regs.rflags_ == (0x202 | 1u));
}

TEST_CASE("x86 entry: exceptions with an error code push it below RIP") {
  Rig r;
  r.gate(14, 0x5000);
  REQUIRE(r.deliver({14, X86EventKind::exception, 0x6}).status == X86EntryStatus::delivered);
  const std::uint64_t frame = (kStackTop & ~0xFull) - 6 * 8;
  CHECK(r.regs.rsp_ == frame);
  CHECK(r.u64(frame) == 0x6);
  CHECK(r.u64(frame + 8) == 0x4000);
  SUBCASE("but not for vectors without one") {
    Rig q;
    q.gate(6, 0x5000);
    REQUIRE(q.deliver({6, X86EventKind::exception, 0x6}).status == X86EntryStatus::delivered);
    CHECK(q.regs.rsp_ == (kStackTop & ~0xFull) - 5 * 8);
  }
}

TEST_CASE("x86 entry: an IST gate switches to the IST stack") {
  Rig r;
  r.gate(2, 0x5000, 0xE, true, kKernelCs, 3);
  r.u64(kTss + 0x24 + 2 * 8, kIstTop);  // IST3
  REQUIRE(r.deliver({2, X86EventKind::nmi, 0}).status == X86EntryStatus::delivered);
  CHECK(r.regs.rsp_ == kIstTop - 5 * 8);
  CHECK(r.u64(kIstTop - 2 * 8) == kStackTop);  // the old RSP
}

TEST_CASE("x86 entry: from CPL 3 the stack comes from RSP0 and SS becomes null") {
  Rig r;
  r.regs.cs_ = 0x33;
  r.regs.ss_ = 0x2B;
  r.gate(0x40, 0x5000);
  r.u64(kTss + 4, kRsp0);
  REQUIRE(r.deliver(external(0x40)).status == X86EntryStatus::delivered);
  CHECK(r.regs.rsp_ == kRsp0 - 5 * 8);
  CHECK(r.u64(kRsp0 - 8) == 0x2B);
  CHECK(r.u64(kRsp0 - 4 * 8) == 0x33);
  CHECK(r.regs.cs_ == kKernelCs);
  CHECK(r.regs.ss_ == 0);
}

TEST_CASE("x86 entry: broken IDT entries raise #GP or #NP with the IDT error code") {
  struct Row {
    const char* what;
    std::uint8_t type;
    bool present;
    std::uint16_t selector;
    std::uint16_t limit;
    std::uint8_t fault;
    std::uint32_t error;
  };
  const std::uint32_t idt_err = (0x41u << 3) | 2 | 1;
  const Row rows[] = {
      {"vector beyond the limit", 0xE, true, kKernelCs, 0x41 * 16 + 14, 13, idt_err},
      {"call gate type", 0xC, true, kKernelCs, 0xFFF, 13, idt_err},
      {"not present", 0xE, false, kKernelCs, 0xFFF, 11, idt_err},
      {"null selector", 0xE, true, 0, 0xFFF, 13, 1},
      {"outward privilege", 0xE, true, 0x0B, 0xFFF, 13, 0x08 | 1},
  };
  for (const Row& row : rows) {
    const std::string case_name = row.what;
    INFO(case_name);
    Rig r;
    r.tables.idt_limit = row.limit;
    r.gate(0x41, 0x5000, row.type, row.present, row.selector);
    const Regs before = r.regs;
    const X86EntryResult res = x86_enter_once(r.regs, r.linear, r.tables, external(0x41));
    REQUIRE(res.status == X86EntryStatus::fault);
    CHECK(res.fault.vector == row.fault);
    CHECK(res.fault.error_code == row.error);
    CHECK(r.regs == before);
  }
}

TEST_CASE("x86 entry: INT n checks the gate DPL, with EXT clear") {
  Rig r;
  r.regs.cs_ = 0x33;
  r.gate(0x80, 0x5000, 0xE, true, kKernelCs, 0, 0);
  const X86EntryResult res = x86_enter_once(r.regs, r.linear, r.tables, {0x80, X86EventKind::software_interrupt, 0});
  REQUIRE(res.status == X86EntryStatus::fault);
  CHECK(res.fault.vector == 13);
  CHECK(res.fault.error_code == ((0x80u << 3) | 2));
}

TEST_CASE("x86 entry: a fault while delivering an interrupt is delivered instead") {
  Rig r;
  r.gate(0x41, 0x5000, 0xE, false);  // not present
  r.gate(11, 0x6000);
  const X86EntryResult res = r.deliver(external(0x41));
  REQUIRE(res.status == X86EntryStatus::delivered);
  CHECK(res.delivered.vector == 11);
  CHECK(r.regs.rip_ == 0x6000);
  CHECK(r.u64(r.regs.rsp_) == ((0x41u << 3) | 2 | 1));  // #NP error code on the stack
}

TEST_CASE("x86 entry: contributory on contributory is #DF; a fault in #DF is a triple fault") {
  Rig r;
  r.gate(0x41, 0x5000, 0xE, false);  // -> #NP
  r.gate(11, 0x6000, 0xE, false);    // #NP -> #NP: #DF
  r.gate(8, 0x7000);
  X86EntryResult res = r.deliver(external(0x41));
  REQUIRE(res.status == X86EntryStatus::delivered);
  CHECK(res.delivered.vector == 8);
  CHECK(r.regs.rip_ == 0x7000);
  CHECK(r.u64(r.regs.rsp_) == 0);  // #DF error code

  Rig s;
  s.gate(0x41, 0x5000, 0xE, false);
  s.gate(11, 0x6000, 0xE, false);
  s.gate(8, 0x7000, 0xE, false);
  const Regs before = s.regs;
  res = s.deliver(external(0x41));
  CHECK(res.status == X86EntryStatus::triple_fault);
  CHECK(s.regs == before);

  Rig empty;
  empty.tables.idt_limit = 0;
  CHECK(empty.deliver(external(0x20)).status == X86EntryStatus::triple_fault);
}

TEST_CASE("x86 entry: a benign exception followed by #GP delivers the #GP") {
  Rig r;
  r.gate(6, 0x5000, 0x5);  // task gate type: #GP
  r.gate(13, 0x6000);
  const X86EntryResult res = r.deliver({6, X86EventKind::exception, 0});
  REQUIRE(res.status == X86EntryStatus::delivered);
  CHECK(res.delivered.vector == 13);
}

TEST_CASE("x86 entry: missing TSS, unreadable IDT and unwritable stack are reported") {
  Rig r;
  r.tables.tss_base.reset();
  r.gate(0x40, 0x5000, 0xE, true, kKernelCs, 1);
  X86EntryResult res = x86_enter_once(r.regs, r.linear, r.tables, external(0x40));
  REQUIRE(res.status == X86EntryStatus::fault);
  CHECK(res.fault.vector == x86_vector::kInvalidTss);

  Rig q;
  q.tables.idt_base = 0x4000'0000;
  res = q.deliver(external(0x40));
  CHECK(res.status == X86EntryStatus::memory_fault);
  CHECK(res.fault_address == 0x4000'0000 + 0x400);

  Rig s;
  s.gate(0x40, 0x5000);
  s.regs.rsp_ = 0x8000'0000;
  const Regs before = s.regs;
  res = s.deliver(external(0x40));
  CHECK(res.status == X86EntryStatus::memory_fault);
  CHECK(res.fault_address == 0x8000'0000 - 5 * 8);
  CHECK(s.regs == before);
}

TEST_CASE("x86 entry: a non-canonical handler address raises #GP(0)") {
  Rig r;
  r.gate(0x40, 0x0000'8000'0000'0000);
  const X86EntryResult res = x86_enter_once(r.regs, r.linear, r.tables, external(0x40));
  REQUIRE(res.status == X86EntryStatus::fault);
  CHECK(res.fault.vector == 13);
  CHECK(res.fault.error_code == 0);
}
