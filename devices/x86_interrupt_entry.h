// x86-64 event delivery on a generic register file: the interrupt window
// ("may the CPU take an external interrupt now?") and the IA-32e mode
// delivery of an interrupt or exception through the IDT (Intel SDM vol. 3
// "Interrupt and Exception Handling": "64-Bit Mode IDT", "64-Bit Mode Stack
// Frame", "Interrupt Stack Table", "Exception and Interrupt Handling in
// 64-bit Mode", "Interrupt 8 Double Fault Exception").
//
// Supported: 64-bit interrupt (type 0xE) and trap (type 0xF) gates; the
// 16-byte aligned frame SS, RSP, RFLAGS, CS, RIP (+ error code for the
// exceptions that have one); IST stacks and privilege-raising stack
// switches (RSP0-2) when the caller gives the 64-bit TSS base, CS and SS
// then loaded together (X86EntryRegisters::switch_privilege); IF cleared
// for interrupt gates; TF, NT, RF cleared; the gate DPL check for software
// INT n; #GP/#NP with the IDT error code for a vector beyond the IDT limit,
// a bad gate type, a null or outward selector and a non-present gate;
// #TS(EXT) when an IST gate or a privilege change needs a TSS the caller
// did not give; #GP(0) for a non-canonical handler address; #DF and triple
// fault by the SDM's benign / contributory / page-fault classes.
// Not supported: legacy (32-bit / real mode) delivery; the GDT is not read,
// so the new CPL is the gate selector's RPL and code-segment checks (#GP on
// a non-code or conforming segment) are not made; #SS and #PF are not
// raised here: an IDT/TSS read or frame write that fails returns
// memory_fault and the emulator decides (usually #PF or #SS). Shadow stacks and FRED are
// ignored.
//
// Threading: plain functions; run them on the VP's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace softsynic {
class GuestMemory;
}

namespace softsynic::devices {

class LocalApic;

// The registers event delivery reads and writes. Segment selectors only:
// in 64-bit mode CS base/limit do not matter and SS may be null.
class X86EntryRegisters {
 public:
  virtual ~X86EntryRegisters() = default;
  virtual std::uint64_t rip() const = 0;
  virtual void set_rip(std::uint64_t value) = 0;
  virtual std::uint64_t rsp() const = 0;
  virtual void set_rsp(std::uint64_t value) = 0;
  virtual std::uint64_t rflags() const = 0;
  virtual void set_rflags(std::uint64_t value) = 0;
  virtual std::uint16_t cs() const = 0;
  virtual void set_cs(std::uint16_t selector) = 0;
  virtual std::uint16_t ss() const = 0;
  virtual void set_ss(std::uint16_t selector) = 0;
  // An entry that raises the privilege level loads SS and CS together; the
  // new CPL is CS's RPL. A CPU whose selector writes cannot change the CPL
  // (Unicorn's) overrides this.
  virtual void switch_privilege(std::uint16_t cs, std::uint16_t ss) {
    set_ss(ss);
    set_cs(cs);
  }
};

// Linear-address access for the IDT, TSS and stack. An emulator with paging
// translates; GuestMemoryLinear maps linear = physical.
class X86LinearMemory {
 public:
  virtual ~X86LinearMemory() = default;
  virtual bool read(std::uint64_t linear, std::span<std::byte> out) = 0;
  virtual bool write(std::uint64_t linear, std::span<const std::byte> in) = 0;
};

class GuestMemoryLinear final : public X86LinearMemory {
 public:
  explicit GuestMemoryLinear(GuestMemory& memory) : memory_(memory) {}
  bool read(std::uint64_t linear, std::span<std::byte> out) override;
  bool write(std::uint64_t linear, std::span<const std::byte> in) override;

 private:
  GuestMemory& memory_;
};

struct X86DescriptorTables {
  std::uint64_t idt_base = 0;
  std::uint16_t idt_limit = 0;
  // Linear base of the 64-bit TSS; needed only for IST gates and for
  // interrupts taken at a lower privilege (CPL 3 -> 0).
  std::optional<std::uint64_t> tss_base;
};

namespace x86_rflags {
inline constexpr std::uint64_t kTf = 1u << 8;
inline constexpr std::uint64_t kIf = 1u << 9;
inline constexpr std::uint64_t kNt = 1u << 14;
inline constexpr std::uint64_t kRf = 1u << 16;
}  // namespace x86_rflags

namespace x86_vector {
inline constexpr std::uint8_t kDoubleFault = 8;
inline constexpr std::uint8_t kInvalidTss = 10;
inline constexpr std::uint8_t kSegmentNotPresent = 11;
inline constexpr std::uint8_t kStackFault = 12;
inline constexpr std::uint8_t kGeneralProtection = 13;
inline constexpr std::uint8_t kPageFault = 14;
}  // namespace x86_vector

enum class X86EventKind {
  external_interrupt,  // from the APIC (EXT = 1 in fault error codes)
  nmi,
  exception,           // hardware exception; error code pushed when the vector has one
  software_interrupt,  // INT n: gate DPL is checked against CPL, EXT = 0
};

struct X86Event {
  std::uint8_t vector = 0;
  X86EventKind kind = X86EventKind::external_interrupt;
  std::uint32_t error_code = 0;  // exceptions with an error code only
};

// Does exception `vector` push an error code (8, 10-14, 17, 21, 29, 30)?
bool x86_exception_has_error_code(std::uint8_t vector);

enum class X86EntryStatus {
  delivered,     // registers now point at the handler
  fault,         // delivery raised `fault` (#GP, #NP or #TS); registers unchanged
  memory_fault,  // an IDT/TSS read or frame write failed at `fault_address`
  triple_fault,  // deliver_event only: shutdown
};

struct X86EntryResult {
  X86EntryStatus status = X86EntryStatus::delivered;
  X86Event delivered{};          // delivered: the event that reached its handler
  X86Event fault{};              // fault: the exception delivery raised
  std::uint64_t fault_address = 0;
};

// The interrupt window: IF set and no STI / MOV SS shadow.
constexpr bool x86_interrupt_window_open(std::uint64_t rflags, bool interrupt_shadow) {
  return (rflags & x86_rflags::kIf) != 0 && !interrupt_shadow;
}

// At an instruction boundary: if the window is open and the APIC has a
// deliverable vector, accepts it (IRR -> ISR) and returns it; the caller
// then calls deliver_event with an external_interrupt. Strand-affine.
std::optional<std::uint8_t> x86_take_interrupt(LocalApic& apic, std::uint64_t rflags, bool interrupt_shadow);

// One delivery attempt: on failure nothing is written and the fault is
// returned (not delivered).
X86EntryResult x86_enter_once(X86EntryRegisters& regs, X86LinearMemory& memory, const X86DescriptorTables& tables,
                              const X86Event& event);

// Full delivery: faults raised while delivering are delivered in turn, or
// become #DF, or a triple fault, by the SDM's rules. memory_fault is
// returned as is.
X86EntryResult x86_deliver_event(X86EntryRegisters& regs, X86LinearMemory& memory, const X86DescriptorTables& tables,
                                 const X86Event& event);

}  // namespace softsynic::devices
