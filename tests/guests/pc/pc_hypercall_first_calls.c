/* pc_hypercall_first_calls: every VP's first hypercalls through the
   hypercall page. VP 0 enables the page (GUEST_OS_ID, HYPERCALL) and the
   other VPs, spinning until it has, all call at once: each VP's first
   instructions after the page is enabled are a fast HvSignalEvent to a
   connection nobody made, which must answer HV_STATUS_INVALID_CONNECTION_ID
   (a page the VP's engine has not noticed yet runs as plain bytes and
   answers something else or never returns), then CALLS more. ctest runs it
   on 2, 4 and 8 VPs with slices of 1, 7 and 1000 blocks and the default,
   so the first call meets a slice boundary at many places.
   Leaves out: slow (memory) hypercalls, VMCALL outside the page, and
   disabling or moving the page while other VPs call it. */
#include "pc/pc_runtime.h"
#include "runtime/synic.h"

#define CALLS 1000
#define NO_CONNECTION(vp) (0x7F00u + (vp)) /* the test device made none */

static volatile u32 page_enabled, finished;
static volatile u16 first_status[MAX_VPS];
static volatile u32 wrong[MAX_VPS];
static volatile u16 last_wrong[MAX_VPS];

int guest_main(u32 vp, u32 vp_count) {
  if (vp == 0) {
    printf("pc_hypercall_first_calls: %u VPs\n", vp_count);
    if (hv_enable_hypercall_page() != 0) {
      printf("FAIL: the hypercall page does not enable\n");
      return 1;
    }
    page_enabled = 1;
  } else {
    while (!page_enabled) cpu_relax();
  }
  first_status[vp] = hv_signal_event_fast(NO_CONNECTION(vp), 0);
  for (u32 i = 0; i < CALLS; ++i) {
    u16 status = hv_signal_event_fast(NO_CONNECTION(vp), (u16)i);
    if (status != HV_STATUS_INVALID_CONNECTION_ID) wrong[vp]++, last_wrong[vp] = status;
  }
  atomic_inc(&finished);
  if (vp != 0) return 0;
  wait_counter(&finished, vp_count);
  for (u32 v = 0; v < vp_count; ++v) {
    int ok = first_status[v] == HV_STATUS_INVALID_CONNECTION_ID && wrong[v] == 0;
    if (!ok) atomic_inc(&failures);
    printf("%s: vp%u first call status 0x%x, %u of %u more wrong (last 0x%x)\n", ok ? "PASS" : "FAIL", v,
           first_status[v], wrong[v], CALLS, last_wrong[v]);
  }
  printf("pc_hypercall_first_calls: %s\n", failures ? "FAILED" : "done");
  return 0;
}
