/* VMBus guest (aarch64): the Linux driver's SynIC start-up through
   HvSetVpRegisters over SMCCC (SINT2 = a PPI), then the common VMBus
   driver against the host's echo device (softsynic-run --device
   vmbus-echo). */
#include "common/vmbus_driver.h"
#include "runtime/synic.h"

#ifndef VMBUS_PACKETS
#define VMBUS_PACKETS 100000
#endif

static void on_sint2(u32 intid) { (void)intid; }

void vmbus_arch_wait(void) { wait_for_interrupt(); }

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("vmbus_echo: start\n");
  CHECK(hv_detect());
  set_irq_handler(SINT_INTID, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_INTID), 0, "SynIC started");
  int r = vmbus_echo_run(vp, VMBUS_PACKETS);
  printf("vmbus_echo: %s\n", r == 0 && failures == 0 ? "done" : "FAILED");
  return r;
}
