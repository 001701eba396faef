/* VMBus guest (x86-64): the Linux driver's SynIC start-up (SINT2 on vector
   0xF3 with auto-EOI), then the common VMBus driver against the host's
   echo device (softsynic-run --device vmbus-echo). */
#include "common/vmbus_driver.h"
#include "runtime/synic.h"

#ifndef VMBUS_PACKETS
#define VMBUS_PACKETS 100000
#endif
#define SINT_VECTOR 0xF3

static void on_sint2(struct interrupt_frame *frame) { (void)frame; }

void vmbus_arch_wait(void) { wait_for_interrupt(); }

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("vmbus_echo: start\n");
  if (!hv_detect()) {
    printf("vmbus_echo: no Hyper-V interface (CPUID)\n");
    return 3;
  }
  apic_enable();
  set_handler(SINT_VECTOR, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_VECTOR, 1), 0, "SynIC started");
  int r = vmbus_echo_run(vp, VMBUS_PACKETS);
  printf("vmbus_echo: %s\n", r == 0 && failures == 0 ? "done" : "FAILED");
  return r;
}
