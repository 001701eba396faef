/* Misbehaving guests: the runner must end each with a clear message and
   its own exit status, never crash or hang. Which misdeed is chosen at
   build time (MISDEED):
   1 read from an address with no RAM (guest fault)
   2 triple fault: an empty IDT, then INT3 (guest fault)
   3 endless loop (timeout)
   4 halt with interrupts off (deadlock) */
#include "runtime/runtime.h"

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("misbehave: %d\n", MISDEED);
#if MISDEED == 1
  return (int)*(volatile u32 *)0xC0000000ul;
#elif MISDEED == 2
  struct __attribute__((packed)) {
    u16 limit;
    u64 base;
  } idtr = {0, 0};
  __asm__ volatile("lidt %0; int3" ::"m"(idtr));
  return 0;
#elif MISDEED == 3
  for (;;) barrier();
#else
  for (;;) __asm__ volatile("cli; hlt");
#endif
}
