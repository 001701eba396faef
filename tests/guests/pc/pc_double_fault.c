/* pc_double_fault: a real double fault (Intel SDM vol. 3, 6.15 "Interrupt
   8"). RSP points at a not-present page and a load from another
   not-present page raises #PF; pushing the #PF's frame faults again, a #PF
   during a #PF's delivery is a #DF, and the #DF gate switches to IST1 of
   the 64-bit TSS loaded with ltr, so its frame lands on a good stack. The
   handler checks vector 8, error code 0, that it runs on the IST stack and
   that CR2 holds the faulting stack address (not the load's), then exits
   (a #DF is an abort: no return).
   With TRIPLE (pc_triple_fault) the #DF gate has no IST: its delivery
   faults on the same stack, a triple fault, which ends the run with the
   runner's own status (123) instead of any handler running.
   Leaves out: #DF from two contributory faults (#GP delivering #GP), the
   #DF's saved RIP (undefined by the SDM), and returning from #DF. */
#include "pc/pc_paging.h"

#define BAD_STACK 0x0000008000002000ul /* PML4[1]: the boot map stops at 4 GiB */
#define BAD_LOAD 0x0000008000100000ul
#define FRAME_BYTES 48 /* SS, RSP, RFLAGS, CS, RIP, error code */
#ifdef TRIPLE
#define IS_TRIPLE 1
#else
#define IS_TRIPLE 0
#endif

static u8 ist_stack[16384] __attribute__((aligned(16)));

static void on_double_fault(struct interrupt_frame *frame) {
#ifdef TRIPLE
  printf("FAIL: #DF delivered although its stack is not mapped (frame at 0x%lx)\n", (u64)frame);
  guest_exit(1);
#else
  u64 cr2 = read_cr2(), at = (u64)frame;
  printf("pc_double_fault: #DF, error 0x%lx, frame at 0x%lx, cr2 0x%lx\n", frame->error_code, at, cr2);
  check_eq(frame->vector, 8, "the #PF raised delivering a #PF arrives as #DF");
  check_eq(frame->error_code, 0, "#DF's error code");
  check(at >= (u64)ist_stack && at < (u64)ist_stack + sizeof ist_stack, "the #DF frame is on the IST1 stack");
  check(cr2 >= BAD_STACK - FRAME_BYTES && cr2 < BAD_STACK, "CR2 is the stack push that faulted");
  guest_exit(failures ? 1 : 0);
#endif
}

static void on_page_fault(struct interrupt_frame *frame) {
  printf("FAIL: #PF handler ran on a stack that is not mapped (cr2 0x%lx)\n", read_cr2());
  (void)frame;
  guest_exit(1);
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  set_handler(8, on_double_fault);
  set_handler(14, on_page_fault);
  pc_load_tss(0, (u64)ist_stack + sizeof ist_stack);
#ifndef TRIPLE
  set_idt_ist(8, 1);
#endif
  printf("pc_double_fault: RSP 0x%lx, load from 0x%lx, #DF on %s\n", BAD_STACK, BAD_LOAD,
         IS_TRIPLE ? "the same stack" : "IST1");
  __asm__ volatile("mov %%rsp, %%rbx; mov %0, %%rsp; movl (%1), %%eax; mov %%rbx, %%rsp"
                   :
                   : "r"(BAD_STACK), "r"(BAD_LOAD)
                   : "rax", "rbx", "memory");
  printf("FAIL: the load from 0x%lx did not fault\n", BAD_LOAD);
  return 1;
}
