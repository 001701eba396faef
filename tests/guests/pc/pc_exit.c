/* A pc-platform kernel that prints its command line and exits with
   EXIT_CODE through isa-debug-exit (status (EXIT_CODE << 1) | 1): the
   runner script's PASS (0), FAIL (1) and SKIP (38, kvm-unit-tests'
   "all skipped") cases. With HANG it never exits (the timeout case). */
#include "pc/pc_runtime.h"

#ifndef EXIT_CODE
#define EXIT_CODE 0
#endif

int guest_main(u32 vp, u32 vp_count) {
  if (vp != 0) return 0;
  printf("pc_exit: %u VPs, cmdline '%s'\n", vp_count, (const char *)(u64)pc_boot_info()->cmdline);
#ifdef HANG
  for (;;) cpu_relax();
#endif
  if (EXIT_CODE == 0) printf("PASS: pc_exit\n");
  return EXIT_CODE;
}
