// InterruptSink: where the SynIC's interrupt requests leave it, one sink per
// (VP, VTL). devices/ implements it with a local APIC (x86-64) or the ARM64
// interrupt line; tests pass a lambda.
//
// Thread-safety: request_interrupt() must be thread-safe. The SynIC calls it
// from the VP's strand (message delivery, EOM, timers) and from any host
// thread (guest event ports).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

namespace softsynic {

class InterruptSink {
 public:
  virtual ~InterruptSink() = default;
  // Raise `vector` (x86-64: APIC vector; ARM64: PPI INTID) on the VP.
  // auto_eoi: the controller accepts it without an in-service entry, so no
  // EOI will follow (x86-64 only; always false on ARM64).
  virtual void request_interrupt(std::uint32_t vector, bool auto_eoi) = 0;
};

// Adapts any callable; handy in tests.
class FunctionInterruptSink final : public InterruptSink {
 public:
  explicit FunctionInterruptSink(std::function<void(std::uint32_t, bool)> f) : f_(std::move(f)) {}
  void request_interrupt(std::uint32_t vector, bool auto_eoi) override { f_(vector, auto_eoi); }

 private:
  std::function<void(std::uint32_t, bool)> f_;
};

}  // namespace softsynic
