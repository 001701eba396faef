// The two pieces of x86 exception state that Unicorn 2.1 keeps but does not
// expose, reached through the CPU state inside a saved uc_context:
//  - the error code of the exception being raised (a #PF's P/W/U/I bits:
//    UC_HOOK_INTR passes only the vector);
//  - the "exception in flight" that the CPU's double-fault check reads.
//    Unicorn never delivers an exception itself, so it never clears it: a
//    second, unrelated #GP or #PF would be promoted to #DF, a third to a
//    triple fault.
// Their offsets are found once per process by a marker search (DR0/DR1
// sit at a fixed distance from both in QEMU's x86 CPU state) and proved by
// a self-test on a scratch engine: a real #PF of a write to an unmapped
// page must report error code 0x2 and set the in-flight state; once reset,
// a second #PF must arrive as #PF; without the reset it must arrive as #DF.
// When the self-test fails, engines refuse to start with the reason
// (x86_internals().failure), rather than run guests wrongly.
//
// This is the only file that knows Unicorn's internal layout.
//
// Threading: x86_internals() is thread-safe (computed once); an
// ExceptionState is engine-affine.
#pragma once

#include <unicorn/unicorn.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace softsynic::emu::x86 {

struct UnicornX86Layout {
  bool ok = false;
  std::string failure;            // why not, when !ok
  std::size_t error_code = 0;     // offset in the context blob
  std::size_t old_exception = 0;  // offset in the context blob
};

// The layout of the installed library, found and self-tested at first use.
const UnicornX86Layout& x86_internals();

// Per engine: a context buffer for the read-and-reset.
class ExceptionState {
 public:
  // Throws std::runtime_error with the self-test's reason when the layout
  // is unknown.
  explicit ExceptionState(uc_engine* uc);
  ~ExceptionState();
  ExceptionState(const ExceptionState&) = delete;
  ExceptionState& operator=(const ExceptionState&) = delete;

  // From UC_HOOK_INTR (or right after it): the raised exception's error
  // code; clears the in-flight exception so the next fault is judged on
  // its own. Costs a context save and restore (a few KiB copied).
  std::uint32_t take(uc_engine* uc);

 private:
  uc_context* context_ = nullptr;
};

}  // namespace softsynic::emu::x86
