// x86-64 IA-32e event delivery through the IDT (Intel SDM vol. 3
// "Interrupt and Exception Handling"). See devices/x86_interrupt_entry.h
// for what is supported.
#include "devices/x86_interrupt_entry.h"

#include <array>

#include "devices/apic/local_apic.h"
#include "synic/guest_memory.h"

namespace softsynic::devices {

bool GuestMemoryLinear::read(std::uint64_t linear, std::span<std::byte> out) { return memory_.read(linear, out); }
bool GuestMemoryLinear::write(std::uint64_t linear, std::span<const std::byte> in) { return memory_.write(linear, in); }

namespace {

constexpr std::uint8_t kInterruptGate = 0xE;
constexpr std::uint8_t kTrapGate = 0xF;
constexpr std::uint64_t kGateSize = 16;
constexpr std::uint64_t kTssRsp0 = 0x04;
constexpr std::uint64_t kTssIst1 = 0x24;
constexpr std::uint32_t kIdtErrorBit = 2;  // error code refers to the IDT

// A 64-bit IDT gate descriptor, decoded.
struct Gate {
  std::uint64_t offset;
  std::uint16_t selector;
  unsigned ist;
  std::uint8_t type;
  unsigned dpl;
  bool present;
};

std::uint64_t load_le(const std::byte* p, unsigned n) {
  std::uint64_t v = 0;
  for (unsigned i = n; i-- > 0;) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

Gate decode_gate(const std::array<std::byte, kGateSize>& d) {
  Gate g{};
  g.offset = load_le(&d[0], 2) | (load_le(&d[6], 2) << 16) | (load_le(&d[8], 4) << 32);
  g.selector = static_cast<std::uint16_t>(load_le(&d[2], 2));
  g.ist = std::to_integer<unsigned>(d[4]) & 7;
  g.type = std::to_integer<std::uint8_t>(d[5]) & 0xF;
  g.dpl = (std::to_integer<unsigned>(d[5]) >> 5) & 3;
  g.present = (std::to_integer<unsigned>(d[5]) & 0x80) != 0;
  return g;
}

constexpr bool canonical(std::uint64_t a) {
  const std::uint64_t top = a >> 47;
  return top == 0 || top == 0x1FFFF;
}

X86EntryResult raise(std::uint8_t vector, std::uint32_t error_code) {
  X86EntryResult r;
  r.status = X86EntryStatus::fault;
  r.fault = X86Event{vector, X86EventKind::exception, error_code};
  return r;
}

X86EntryResult memory_fault(std::uint64_t address) {
  X86EntryResult r;
  r.status = X86EntryStatus::memory_fault;
  r.fault_address = address;
  return r;
}

enum class FaultClass { benign, contributory, page_fault };

FaultClass classify(const X86Event& e) {
  if (e.kind != X86EventKind::exception) return FaultClass::benign;
  switch (e.vector) {
    case 0:
    case x86_vector::kInvalidTss:
    case x86_vector::kSegmentNotPresent:
    case x86_vector::kStackFault:
    case x86_vector::kGeneralProtection: return FaultClass::contributory;
    case x86_vector::kPageFault: return FaultClass::page_fault;
    default: return FaultClass::benign;
  }
}

}  // namespace

bool x86_exception_has_error_code(std::uint8_t vector) {
  switch (vector) {
    case 8: case 10: case 11: case 12: case 13: case 14: case 17: case 21: case 29: case 30: return true;
    default: return false;
  }
}

std::optional<std::uint8_t> x86_take_interrupt(LocalApic& apic, std::uint64_t rflags, bool interrupt_shadow) {
  if (!x86_interrupt_window_open(rflags, interrupt_shadow)) return std::nullopt;
  return apic.accept();
}

X86EntryResult x86_enter_once(X86EntryRegisters& regs, X86LinearMemory& memory, const X86DescriptorTables& tables,
                              const X86Event& event) {
  const std::uint32_t ext = event.kind == X86EventKind::software_interrupt ? 0 : 1;
  const std::uint32_t idt_error = (std::uint32_t{event.vector} << 3) | kIdtErrorBit | ext;
  const std::uint64_t gate_offset = std::uint64_t{event.vector} * kGateSize;
  if (gate_offset + kGateSize - 1 > tables.idt_limit) return raise(x86_vector::kGeneralProtection, idt_error);

  std::array<std::byte, kGateSize> raw{};
  if (!memory.read(tables.idt_base + gate_offset, raw)) return memory_fault(tables.idt_base + gate_offset);
  const Gate gate = decode_gate(raw);
  const unsigned cpl = regs.cs() & 3;
  if (gate.type != kInterruptGate && gate.type != kTrapGate) return raise(x86_vector::kGeneralProtection, idt_error);
  if (event.kind == X86EventKind::software_interrupt && gate.dpl < cpl)
    return raise(x86_vector::kGeneralProtection, idt_error);
  if (!gate.present) return raise(x86_vector::kSegmentNotPresent, idt_error);
  if ((gate.selector & 0xFFFC) == 0) return raise(x86_vector::kGeneralProtection, ext);
  // Without the GDT the selector's RPL stands for the code segment's DPL.
  const unsigned new_cpl = gate.selector & 3;
  if (new_cpl > cpl) return raise(x86_vector::kGeneralProtection, (gate.selector & 0xFFFCu) | ext);
  if (!canonical(gate.offset)) return raise(x86_vector::kGeneralProtection, 0);

  std::uint64_t rsp = regs.rsp();
  if (gate.ist != 0 || new_cpl < cpl) {
    if (!tables.tss_base) return raise(x86_vector::kInvalidTss, ext);
    const std::uint64_t slot = *tables.tss_base + (gate.ist != 0 ? kTssIst1 + 8 * (gate.ist - 1) : kTssRsp0 + 8 * new_cpl);
    std::array<std::byte, 8> v{};
    if (!memory.read(slot, v)) return memory_fault(slot);
    rsp = load_le(v.data(), 8);
  }
  rsp &= ~std::uint64_t{0xF};

  // Frame, lowest address first: [error code], RIP, CS, RFLAGS, RSP, SS.
  const bool push_error = event.kind == X86EventKind::exception && x86_exception_has_error_code(event.vector);
  std::array<std::uint64_t, 6> frame{};
  unsigned n = 0;
  if (push_error) frame[n++] = event.error_code;
  frame[n++] = regs.rip();
  frame[n++] = regs.cs();
  frame[n++] = regs.rflags();
  frame[n++] = regs.rsp();
  frame[n++] = regs.ss();
  std::array<std::byte, 6 * 8> bytes{};
  for (unsigned i = 0; i < n * 8; ++i) bytes[i] = static_cast<std::byte>(frame[i / 8] >> (8 * (i % 8)));
  const std::uint64_t new_rsp = rsp - std::uint64_t{n} * 8;
  if (!memory.write(new_rsp, std::span<const std::byte>(bytes.data(), n * 8))) return memory_fault(new_rsp);

  std::uint64_t rflags = regs.rflags() & ~(x86_rflags::kTf | x86_rflags::kNt | x86_rflags::kRf);
  if (gate.type == kInterruptGate) rflags &= ~x86_rflags::kIf;
  // A privilege change loads SS with a null selector whose RPL is the new CPL.
  const auto cs = static_cast<std::uint16_t>((gate.selector & 0xFFFC) | new_cpl);
  if (new_cpl != cpl) {
    regs.switch_privilege(cs, static_cast<std::uint16_t>(new_cpl));
  } else {
    regs.set_cs(cs);
  }
  regs.set_rsp(new_rsp);
  regs.set_rflags(rflags);
  regs.set_rip(gate.offset);
  X86EntryResult r;
  r.delivered = event;
  return r;
}

X86EntryResult x86_deliver_event(X86EntryRegisters& regs, X86LinearMemory& memory, const X86DescriptorTables& tables,
                                 const X86Event& event) {
  X86Event current = event;
  // At most: the event, a contributory fault, #DF; a fault in #DF is shutdown.
  for (int attempt = 0; attempt < 4; ++attempt) {
    const X86EntryResult r = x86_enter_once(regs, memory, tables, current);
    if (r.status != X86EntryStatus::fault) return r;
    if (current.kind == X86EventKind::exception && current.vector == x86_vector::kDoubleFault) break;
    const FaultClass first = classify(current), second = classify(r.fault);
    const bool double_fault = (first == FaultClass::contributory && second == FaultClass::contributory) ||
                              (first == FaultClass::page_fault && second != FaultClass::benign);
    current = double_fault ? X86Event{x86_vector::kDoubleFault, X86EventKind::exception, 0} : r.fault;
  }
  X86EntryResult r;
  r.status = X86EntryStatus::triple_fault;
  return r;
}

}  // namespace softsynic::devices
