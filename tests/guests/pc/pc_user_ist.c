/* pc_user_ist: an exception taken in ring 3 whose gate names an IST stack
   (Intel SDM vol. 3, 6.14.5 "Interrupt Stack Table"): UD2 in ring 3, 1000
   times; the #UD handler must run at CPL 0 (CS 0x08, SS null) with its
   frame on IST1, not on TSS.RSP0, holding ring 3's RIP (the UD2), CS 0x23,
   RSP and SS 0x1b; it steps over the UD2 and IRETQ returns to ring 3,
   which counts the returns. Leaves out: IST for interrupts, nested IST use. */
#include "pc/pc_user.h"

#define ROUNDS 1000

static volatile u64 ud_taken, bad;
static volatile u64 ud_site, user_rsp_at_ud;

static void on_invalid_opcode(struct interrupt_frame *frame) {
  ++ud_taken;
  u64 at = (u64)frame;
  int ok = at >= user_ist1_bottom() && at < user_ist1_top() && frame->cs == USER_CS &&
           frame->ss == USER_SS && frame->rip == ud_site && frame->rsp == user_rsp_at_ud && read_cs() == KERNEL_CS &&
           read_ss() == 0;
  if (!ok && bad++ < 5)
    printf("FAIL: #UD from ring 3: frame 0x%lx (IST1 0x%lx-0x%lx, RSP0 top 0x%lx) rip 0x%lx (want 0x%lx) cs 0x%lx "
           "ss 0x%lx rsp 0x%lx (want 0x%lx), handler cs 0x%x ss 0x%x\n",
           at, user_ist1_bottom(), user_ist1_top(), user_rsp0_top(), frame->rip, ud_site, frame->cs,
           frame->ss, frame->rsp, user_rsp_at_ud, read_cs(), read_ss());
  if (ud_taken > ROUNDS) guest_exit(1);
  frame->rip += 2;
}

static u64 on_syscall(u64 nr, u64 arg) { return nr + arg; }

/* Ring 3: UD2 with its address and RSP published first. */
static u64 user_main(u64 rounds) {
  u64 returned = 0;
  for (u64 i = 0; i < rounds; ++i) {
    __asm__ volatile("lea 1f(%%rip), %%rax\n movq %%rax, (%0)\n movq %%rsp, (%1)\n1: ud2"
                     :
                     : "r"(&ud_site), "r"(&user_rsp_at_ud)
                     : "rax", "memory");
    ++returned;
  }
  return returned;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  user_init(on_syscall);
  set_handler(6, on_invalid_opcode);
  set_idt_ist(6, 1);
  u64 returned = user_call(user_main, ROUNDS);
  printf("pc_user_ist: %lu #UD from ring 3, %lu returns to ring 3\n", ud_taken, returned);
  check_eq(returned, ROUNDS, "returns to ring 3 after each #UD");
  check_eq(ud_taken, ROUNDS, "#UD taken from ring 3");
  check_eq(bad, 0, "#UD from ring 3 on IST1 at CPL 0 with ring 3's RIP, CS, RSP and SS saved");
  printf("pc_user_ist: %s\n", failures ? "FAILED" : "done");
  return 0;
}
