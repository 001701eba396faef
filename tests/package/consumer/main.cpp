// Builds against the installed package: a host posts a message and the
// guest-side SIMP slot receives it.
#include <cstdio>
#include <cstring>

#include "synic/executor.h"
#include "synic/partition.h"

int main() {
  using namespace softsynic;
  RamGuestMemory memory(1 << 20);
  DeterministicExecutor exec;
  Partition partition(PartitionConfig{}, memory, exec.executor());
  auto& vp = partition.vp(0);
  int interrupts = 0;
  FunctionInterruptSink sink([&](std::uint32_t, bool) { ++interrupts; });
  vp.set_interrupt_sink(0, &sink);
  vp.write_register(0, HvRegisterName::simp, PageReg().with_enabled(true).with_gpn(0x10).raw());
  vp.write_register(0, HvRegisterName::scontrol, ScontrolReg().with_enabled(true).raw());
  vp.write_register(0, sint_register(2), SintReg().with_masked(false).with_vector(0x40).raw());
  const std::byte payload[4] = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  if (partition.post_message(0, 0, 2, 1, payload)) return 1;
  exec.run_until_idle();
  std::uint32_t type = 0;
  memory.read(0x10000 + 2 * 256, std::as_writable_bytes(std::span(&type, 1)));
  std::printf("consumer: type=%u interrupts=%d\n", type, interrupts);
  return (type == 1 && interrupts == 1) ? 0 : 1;
}
