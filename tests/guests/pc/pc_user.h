/* Ring 3 for pc kernels (Intel SDM vol. 3, 5.8.8 "Fast System Calls in
   64-Bit Mode", 6.14 "Exception and Interrupt Handling in 64-bit Mode"):
   SYSCALL/SYSRET through STAR, LSTAR and FMASK, events from ring 3 on the
   TSS's RSP0 (or an IST stack), and user_call, which runs a C function of
   the image in ring 3 (entered by IRETQ) until it returns.
   Runs on VP 0 only: the syscall path keeps its state in globals. Leaves out: SWAPGS, per-VP
   kernel stacks, signals. */
#ifndef SOFTSYNIC_PC_USER_H
#define SOFTSYNIC_PC_USER_H

#include "pc/pc_paging.h"

#define USER_CS 0x23 /* GDT 0x20, RPL 3: STAR[63:48] + 16 */
#define USER_SS 0x1B /* GDT 0x18, RPL 3: STAR[63:48] + 8 */
#define KERNEL_CS 0x08
#define SYS_EXIT 0 /* handled by the entry code: user_call returns */

/* The kernel's side of a system call: nr in RAX, arg in RDI, result in RAX. */
typedef u64 (*syscall_handler)(u64 nr, u64 arg);

/* VP 0: paging_init, then a TSS with RSP0 and IST1 (stacks of this
   file's), EFER.SCE, STAR, LSTAR (the entry code), FMASK (IF, TF, DF, AC). */
void user_init(syscall_handler handler);
/* Runs fn(arg) in ring 3 on its own user stack, RFLAGS.IF set; returns
   what fn returned (fn's return is a SYS_EXIT system call). */
u64 user_call(u64 (*fn)(u64), u64 arg);
/* The RSP0 and IST1 stacks' bounds, for handlers that check where they run. */
u64 user_rsp0_top(void);
u64 user_rsp0_bottom(void);
u64 user_ist1_top(void);
u64 user_ist1_bottom(void);

static inline u64 user_syscall(u64 nr, u64 arg) {
  u64 ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(arg) : "rcx", "r11", "memory");
  return ret;
}
static inline u16 read_cs(void) {
  u16 v;
  __asm__ volatile("mov %%cs, %0" : "=r"(v));
  return v;
}
static inline u16 read_ss(void) {
  u16 v;
  __asm__ volatile("mov %%ss, %0" : "=r"(v));
  return v;
}

#endif
