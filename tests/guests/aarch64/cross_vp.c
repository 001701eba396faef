/* Guest 4 (aarch64): cross-VP delivery with 4 VPs. Every VP runs the start-up
   sequence for its own SIMP/SIEFP and SINT2, then asks the host command
   port for a burst of messages and a set of event signals aimed at the
   next VP. Each VP must receive exactly the messages (from the previous
   VP, in order) and the event flag aimed at it; nothing else. */
#include "runtime/synic.h"

#define VPS 4
#define PER_VP 8
#define CROSS_TYPE 0x77

static struct hv_message message[MAX_VPS];
static volatile u32 received[MAX_VPS];
static volatile u32 wrong[MAX_VPS];
static volatile u32 flag_hits[MAX_VPS][VPS];
static volatile u32 ready;
static volatile u32 finished;

static void on_flag(u32 vp, u32 flag) {
  if (flag < VPS) flag_hits[vp][flag]++;
  else wrong[vp]++;
}

static void on_sint2(u32 intid) {
  (void)intid;
  u32 vp = current_vp();
  while (synic_take_message(vp, REPLY_SINT, &message[vp])) {
    const u32 *p = (const u32 *)message[vp].payload;
    u32 index = p[0], sender = p[1];
    if (message[vp].message_type != CROSS_TYPE || index != received[vp] || sender != (vp + VPS - 1) % VPS) wrong[vp]++;
    received[vp]++;
  }
  synic_scan_events(vp, REPLY_SINT, on_flag);
}

int guest_main(u32 vp, u32 vp_count) {
  if (vp_count != VPS) {
    if (vp == 0) printf("FAIL: cross_vp needs --vps %u (got %u)\n", VPS, vp_count);
    return vp == 0 ? 2 : 0;
  }
  if (vp == 0) {
    printf("cross_vp: start\n");
    set_irq_handler(SINT_INTID, on_sint2);
  }
  int rc = synic_init(vp, REPLY_SINT, SINT_INTID);
  if (rc != 0) printf("FAIL: vp%u start-up status 0x%x\n", vp, rc);
  atomic_inc(&ready);
  wait_counter(&ready, VPS); /* every SIMP is live before anyone sends */

  u32 target = (vp + 1) % VPS;
  u16 s1 = host_command(vp, HOST_COMMAND_BURST, target, REPLY_SINT, PER_VP, CROSS_TYPE, 0);
  u16 s2 = host_command(vp, HOST_COMMAND_SIGNAL, target, REPLY_SINT, 1, 0, vp);
  if (s1 != HV_STATUS_SUCCESS || s2 != HV_STATUS_SUCCESS) {
    atomic_inc(&failures);
    printf("FAIL: vp%u host commands 0x%x 0x%x\n", vp, s1, s2);
  }
  u32 from = (vp + VPS - 1) % VPS;
  while (received[vp] < PER_VP || flag_hits[vp][from] == 0) wait_for_interrupt();
  atomic_inc(&finished);
  if (vp != 0) return 0;

  wait_counter(&finished, VPS);
  for (u32 v = 0; v < VPS; ++v) {
    printf("cross_vp: vp%u received %u messages, flags", v, received[v]);
    for (u32 f = 0; f < VPS; ++f) printf(" %u", flag_hits[v][f]);
    printf("\n");
    check_eq(received[v], PER_VP, "messages aimed at the VP, each once");
    check_eq(wrong[v], 0, "no message out of order or from the wrong sender");
    for (u32 f = 0; f < VPS; ++f)
      check_eq(flag_hits[v][f], f == (v + VPS - 1) % VPS ? 1 : 0, "exactly the event flag aimed at the VP");
    check_eq(eom_writes[v], pending_seen[v], "EOM only with message_pending");
  }
  printf("cross_vp: %s\n", failures ? "FAILED" : "done");
  return 0;
}
