/* Guest (x86-64 and aarch64) for the GDB stub's end-to-end tests
   (tests/gdb/gdb_session.sh), built with debug information: functions the
   debugger breaks at, a variable it reads, SynIC state it dumps through
   `monitor`. VP 0 enables its SynIC (SINT2), waits until every other VP
   spins in gdb_spin, calls gdb_first_stop and gdb_second_stop, then lets
   the others go. A debugger that sets gdb_hold keeps VP 0 running in
   gdb_busy until it clears it (to interrupt a running guest). Run
   without a debugger it passes on its own. */
#include "runtime/synic.h"

#define MAX_VPS 8

#if defined(__x86_64__)
#define SINT_VECTOR_ARGS 0xF3, 1
#else
#define SINT_VECTOR_ARGS SINT_INTID
#endif

volatile u64 gdb_counter;
volatile u64 gdb_spins[MAX_VPS];
volatile u32 gdb_release;
volatile u32 gdb_hold; /* a debugger sets it to keep VP 0 busy in gdb_busy until it clears it */

__attribute__((noinline)) void gdb_first_stop(u64 value) {
  gdb_counter = value;
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void gdb_busy(void) {
  while (gdb_hold) cpu_relax();
}

__attribute__((noinline)) u64 gdb_second_stop(u64 value) {
  gdb_counter += value;
  return gdb_counter;
}

__attribute__((noinline)) void gdb_spin(u32 vp) {
  while (!gdb_release) {
    gdb_spins[vp]++;
    cpu_relax();
  }
}

int guest_main(u32 vp, u32 vp_count) {
  if (vp != 0) {
    if (vp < MAX_VPS) gdb_spin(vp);
    return 0;
  }
  CHECK(hv_detect());
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_VECTOR_ARGS), 0, "SynIC enabled");
  for (u32 other = 1; other < vp_count && other < MAX_VPS; ++other) {
    while (gdb_spins[other] == 0) cpu_relax();
  }
  gdb_first_stop(0x1234);
  gdb_busy();
  check_eq(gdb_second_stop(0x10), 0x1244, "counter");
  gdb_release = 1;
  printf("gdb_target: %s\n", failures ? "FAILED" : "done");
  return 0;
}
