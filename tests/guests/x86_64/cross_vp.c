/* Guest 4: cross-VP delivery on 4 VPs (in the spirit of kvm-unit-tests'
   hyperv_synic). Every VP enables SINT0-7 with vectors 0xB0+i (even SINTs
   auto-EOI, odd ones EOI'd through the APIC, which acts as EOM), then asks
   the host to post one message on SINTs 0-3 and to signal one event flag on
   SINTs 4-7 of the next VP. Each VP must take exactly one interrupt per
   vector, and only from its neighbour. */
#include "runtime/synic.h"

#define VPS 4
#define SINTS 8
#define MESSAGE_SINTS 4
#define BASE_VECTOR 0xB0

static volatile u32 ready;
static volatile u32 finished;
static volatile u32 counts[MAX_VPS][SINTS];
static volatile u32 totals[MAX_VPS];
static volatile u32 senders[MAX_VPS][SINTS];

static void on_flag(u32 vp, u32 flag) { senders[vp][MESSAGE_SINTS] |= 1u << flag; }

static void on_sint(struct interrupt_frame *frame) {
  u32 vp = (u32)rdmsr(HV_MSR_VP_INDEX);
  u32 sint = (u32)frame->vector - BASE_VECTOR;
  counts[vp][sint]++;
  if (sint < MESSAGE_SINTS) {
    struct hv_message m;
    if (synic_take_message(vp, sint, &m)) senders[vp][sint] = ((u32 *)m.payload)[1] + 1;
  } else {
    synic_scan_events(vp, sint, on_flag);
  }
  if (sint & 1) apic_eoi();
  totals[vp]++;
}

int guest_main(u32 vp, u32 vp_count) {
  if (vp_count != VPS) {
    printf("FAIL: cross_vp needs %u VPs, got %u\n", VPS, vp_count);
    return 2;
  }
  if (vp == 0) {
    printf("cross_vp: start\n");
    for (u32 s = 0; s < SINTS; ++s) set_handler((u8)(BASE_VECTOR + s), on_sint);
  }
  apic_enable();
  synic_init(vp, 0, BASE_VECTOR, 1);
  for (u32 s = 1; s < SINTS; ++s) synic_set_sint(s, (u8)(BASE_VECTOR + s), (s & 1) == 0);
  atomic_inc(&ready);
  wait_counter(&ready, VPS);

  u32 next = (vp + 1) % VPS;
  u32 failed_posts = 0;
  for (u32 s = 0; s < MESSAGE_SINTS; ++s)
    failed_posts += host_command(vp, HOST_COMMAND_BURST, next, s, 1, 0x100 + s, 0) != HV_STATUS_SUCCESS;
  for (u32 s = MESSAGE_SINTS; s < SINTS; ++s)
    failed_posts += host_command(vp, HOST_COMMAND_SIGNAL, next, s, 1, 0, vp) != HV_STATUS_SUCCESS;

  while (totals[vp] < SINTS) wait_for_interrupt();
  u32 prev = (vp + VPS - 1) % VPS;
  u32 wrong = failed_posts;
  for (u32 s = 0; s < SINTS; ++s) wrong += counts[vp][s] != 1;
  for (u32 s = 0; s < MESSAGE_SINTS; ++s) wrong += senders[vp][s] != prev + 1;
  wrong += senders[vp][MESSAGE_SINTS] != (1u << prev);
  printf("%s: vp%u took one interrupt per SINT, all from vp%u\n", wrong ? "FAIL" : "PASS", vp, prev);
  if (wrong) atomic_inc(&failures);
  atomic_inc(&finished);
  if (vp != 0) return 0;
  wait_counter(&finished, VPS);
  /* Nothing more may arrive: let the other VPs settle, then recount. */
  u32 total = 0;
  for (u32 v = 0; v < VPS; ++v) total += totals[v];
  check_eq(total, VPS * SINTS, "exactly 32 interrupts over 4 VPs");
  printf("cross_vp: %s\n", failures ? "FAILED" : "done");
  return 0;
}
