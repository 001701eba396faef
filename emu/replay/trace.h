// Trace: the in-memory form of a softsynic trace document (format
// "softsynic-trace", version 1; docs/TRACE_FORMAT.md). The loader fills it
// from JSON, the replayer runs it, the recorder builds it and the writer
// turns it back into JSON. Values are already validated and typed here:
// register and MSR names are resolved to numbers, error and status names to
// their enums.
//
// Threading: plain values; no synchronisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "synic/defs/status.h"
#include "synic/defs/vtl.h"
#include "synic/errors.h"

namespace softsynic::replay {

using Bytes = std::vector<std::byte>;

// A register value as a trace spells it: 64 bits, or 128 for XMM registers.
struct RegValue128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  friend bool operator==(const RegValue128&, const RegValue128&) = default;
};

enum class TraceArch { x86_64, aarch64 };
enum class TraceVendor { intel, amd };

struct MemoryRegion {
  std::uint64_t gpa = 0;
  std::uint64_t size = 0;
};

struct Machine {
  TraceArch arch = TraceArch::x86_64;
  TraceVendor vendor = TraceVendor::intel;
  std::uint32_t vp_count = 1;
  Vtl vtl_count = 1;
  std::vector<MemoryRegion> memory;
  // x86_64, optional: the guest TSC runs at this rate derived from
  // reference time, and the reference TSC page (REFERENCE_TSC) is offered.
  // 0: no TSC source, no page.
  std::uint64_t tsc_frequency_hz = 0;
};

// One named register of a hypercall step, in the order of the document.
// x86_64: rax..r15, xmm0..xmm5; aarch64: x0..x17 and "imm".
struct NamedReg {
  std::string name;
  RegValue128 value;
  friend bool operator==(const NamedReg&, const NamedReg&) = default;
};

// ---- Guest-side steps ----
struct WriteStep {
  std::uint64_t gpa = 0;
  Bytes bytes;
};
struct ExpectMemoryStep {
  std::uint64_t gpa = 0;
  Bytes bytes;
  std::optional<Bytes> mask;  // same length as bytes
};
struct WrmsrStep {
  std::uint32_t vp = 0;
  Vtl vtl = 0;
  std::uint32_t msr = 0;
  std::uint64_t value = 0;
  bool expect_gp = false;
};
struct RdmsrStep {
  std::uint32_t vp = 0;
  Vtl vtl = 0;
  std::uint32_t msr = 0;
  bool expect_gp = false;
  std::uint64_t expect_value = 0;  // when !expect_gp
};
struct HypercallStep {
  std::uint32_t vp = 0;
  Vtl vtl = 0;
  bool long_mode = true;  // x86_64: false selects the 32-bit convention
  std::vector<NamedReg> regs;
  std::optional<HvStatus> expect_status;
  std::vector<NamedReg> expect_regs;
};
struct ExpectInterruptStep {
  std::uint32_t vp = 0;
  Vtl vtl = 0;
  std::uint32_t vector = 0;
};
struct ExpectNoInterruptStep {
  std::uint32_t vp = 0;
  Vtl vtl = 0;
};
struct EoiStep {
  std::uint32_t vp = 0;
  Vtl vtl = 0;
};

// ---- Host-side steps ----
struct AddMessagePortStep {
  std::string id;
  std::uint32_t connection_id = 0;
  Vtl minimum_vtl = 0;
  std::uint32_t capacity = 64;
  Error expect = Error::ok;
};
struct AddEventPortStep {
  std::string id;
  std::uint32_t connection_id = 0;
  Vtl minimum_vtl = 0;
  Error expect = Error::ok;
};
struct RemovePortStep {
  std::string id;
};
struct PortMessage {
  std::uint32_t type = 0;
  Bytes payload;
  friend bool operator==(const PortMessage&, const PortMessage&) = default;
};
struct ExpectPortMessagesStep {
  std::string id;
  std::vector<PortMessage> messages;
};
struct ExpectPortEventsStep {
  std::string id;
  std::vector<std::uint16_t> flags;
};
struct TakePortMessageStep {
  std::string id;
  std::uint32_t count = 1;
};
struct PostMessageStep {
  Vtl vtl = 0;
  std::uint32_t vp = 0;
  std::uint8_t sint = 0;
  std::uint32_t type = 0;
  Bytes payload;
  Error expect = Error::ok;
};
struct NewGuestEventPortStep {
  std::string id;
  Vtl vtl = 0;
  std::uint32_t vp = 0;
  std::uint8_t sint = 0;
  std::uint16_t flag = 0;
  Error expect = Error::ok;
};
struct SignalGuestEventStep {
  std::string id;
  std::optional<Error> expect;  // not checked when absent
};
struct AdvanceTimeStep {
  std::uint64_t ticks_100ns = 0;
};

using StepOp = std::variant<WriteStep, ExpectMemoryStep, WrmsrStep, RdmsrStep, HypercallStep, ExpectInterruptStep,
                            ExpectNoInterruptStep, EoiStep, AddMessagePortStep, AddEventPortStep, RemovePortStep,
                            ExpectPortMessagesStep, ExpectPortEventsStep, TakePortMessageStep, PostMessageStep,
                            NewGuestEventPortStep, SignalGuestEventStep, AdvanceTimeStep>;

struct Step {
  StepOp op;
  std::string note;
};

struct Trace {
  std::string description;
  Machine machine;
  std::vector<Step> steps;
};

// The op name a step is spelled with ("write", "hypercall", ...).
std::string_view op_name(const StepOp& op);

}  // namespace softsynic::replay
