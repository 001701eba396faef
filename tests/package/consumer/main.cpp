// Builds against the installed package the way an emulator does: the
// SynIC core (a host post lands in the guest's SIMP slot), the CPU hooks
// (CPUID and the hypercall-page MSRs), the devices (a local APIC takes the
// SINT's vector) and the VMBus host (starts on the partition's host API).
#include <cstdio>
#include <cstring>
#include <memory>

#include "cpu_hooks/x86_hypervisor.h"
#include "devices/apic/local_apic.h"
#include "devices/vmbus/echo_device.h"
#include "devices/vmbus/server.h"
#include "synic/executor.h"
#include "synic/partition.h"
#include "synic/time_source.h"

int main() {
  using namespace softsynic;
  RamGuestMemory memory(1 << 20);
  DeterministicExecutor exec;
  Partition partition(PartitionConfig{}, memory, exec.executor());
  VirtualClock clock;
  X86Hypervisor hv(partition, HvConfig{}, clock);
  const auto leaf = hv.cpuid(0x40000000);
  if (!leaf || leaf->eax < 0x40000005) return 2;
  if (hv.wrmsr(0, 0, 0x40000000, 0x8100) != MsrResult::ok) return 3;  // GUEST_OS_ID

  auto& vp = partition.vp(0);
  devices::LocalApic apic;
  apic.mmio_write(0xF0, 0x1FF);  // SVR: software enable, spurious vector 0xFF
  apic.attach_synic(vp, 0);
  vp.set_interrupt_sink(0, &apic);
  vp.write_register(0, HvRegisterName::simp, PageReg().with_enabled(true).with_gpn(0x10).raw());
  vp.write_register(0, HvRegisterName::scontrol, ScontrolReg().with_enabled(true).raw());
  vp.write_register(0, sint_register(2), SintReg().with_masked(false).with_vector(0x40).raw());

  vmbus::VmbusServer server(partition);
  server.add_device(std::make_shared<vmbus::EchoDevice>());
  if (server.start()) return 4;

  const std::byte payload[4] = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  if (partition.post_message(0, 0, 2, 1, payload)) return 1;
  exec.run_until_idle();
  std::uint32_t type = 0;
  memory.read(0x10000 + 2 * 256, std::as_writable_bytes(std::span(&type, 1)));
  const auto vector = apic.pending_vector();
  std::printf("consumer: type=%u apic vector=0x%x\n", type, vector ? *vector : 0);
  return (type == 1 && vector == 0x40) ? 0 : 1;
}
