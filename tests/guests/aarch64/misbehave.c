/* Misbehaving aarch64 guests: the runner must end each with a clear
   message and its own exit status, never crash or hang. Which misdeed is
   chosen at build time (MISDEED):
   1 read from an address with no RAM (guest fault)
   2 read of a GIC system register nobody models (undefined instruction:
     the runtime's vectors report it)
   3 endless loop (timeout)
   4 WFI with no interrupt enabled (deadlock)
   5 HVC with an immediate that is not a hypercall (guest fault) */
#include "runtime/runtime.h"

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("misbehave: %d\n", MISDEED);
#if MISDEED == 1
  return (int)*(volatile u32 *)0xC0000000ul;
#elif MISDEED == 2
  return (int)read_sysreg("s3_0_c12_c11_7"); /* ICC_SGI0R_EL1: write-only, and not modelled */
#elif MISDEED == 3
  for (;;) barrier();
#elif MISDEED == 4
  for (;;) __asm__ volatile("msr daifset, #2\n\twfi" ::: "memory");
#else
  __asm__ volatile("hvc #5" ::: "memory");
  return 0;
#endif
}
