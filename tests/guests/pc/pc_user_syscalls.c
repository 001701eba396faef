/* pc_user_syscalls: ring-3 code makes 10^5 SYSCALL round trips (SDM vol.
   3, 5.8.8) while the local APIC timer interrupts it and it takes #PFs,
   all handled by ring-0 handlers and returned from (6.14):
     - every system call's result is checked in ring 3, and the kernel
       counts them: nothing lost, nothing repeated;
     - the periodic APIC timer (vector 0x40) counts the ticks taken in
       ring 3 (frame CS 0x23, SS 0x1b, the frame on TSS.RSP0, the handler
       at CPL 0 with SS null) and the tick count matches the reference time
       that passed (a lost or doubled tick would not);
     - every 100th round the user page is not present: the #PF (U=1, W=1,
       P=0; CR2 the address, RIP the store) is taken from ring 3 on RSP0,
       the handler maps the page and the retried store lands.
   Leaves out: SMEP/SMAP, SWAPGS, nested events in ring 3. */
#include "pc/pc_user.h"

#include "common/hv_guest.h"

#define ROUNDS 100000
#define PF_EVERY 100
#define TIMER_VECTOR 0x40
#define TIMER_PERIOD_TICKS 2000 /* reference time, 100 ns units */
#define APIC_TIMER_HZ 200000000ul
#define SYS_ADD 1
#define SYS_UNMAP 2
#define USER_VA 0x0000500000000000ul
#define HV_MSR_TIME_REF_COUNT 0x40000020u
#define APIC_LVT_TIMER 0xFEE00320ul
#define APIC_TIMER_INITIAL 0xFEE00380ul
#define APIC_TIMER_DIVIDE 0xFEE003E0ul
#define LVT_PERIODIC (1u << 17)
#define LVT_MASKED (1u << 16)
#define DIVIDE_BY_1 0xB

static u8 user_page[PAGE_SIZE] PAGE_ALIGNED;
static volatile u64 syscalls, ticks, ticks_in_ring3, bad_frames, pf_count, pf_bad;
static volatile u64 pf_expect_rip;

static void check_ring3_frame(struct interrupt_frame *frame) {
  u64 at = (u64)frame;
  int ok = frame->cs == USER_CS && frame->ss == USER_SS && read_cs() == KERNEL_CS && read_ss() == 0 &&
           at >= user_rsp0_bottom() && at < user_rsp0_top();
  if (!ok && bad_frames++ < 5)
    printf("FAIL: vector %lu from ring 3: cs 0x%lx ss 0x%lx, handler cs 0x%x ss 0x%x, frame 0x%lx\n", frame->vector,
           frame->cs, frame->ss, read_cs(), read_ss(), at);
}

static void on_timer(struct interrupt_frame *frame) {
  ++ticks;
  if (frame->cs & 3) {
    ++ticks_in_ring3;
    check_ring3_frame(frame);
  }
  apic_eoi();
}

static void on_page_fault(struct interrupt_frame *frame) {
  ++pf_count;
  u64 cr2 = read_cr2();
  check_ring3_frame(frame);
  if ((frame->error_code != (PF_U | PF_W) || cr2 != USER_VA || frame->rip != pf_expect_rip) && pf_bad++ < 5)
    printf("FAIL: #PF from ring 3: error 0x%lx (want 0x6) cr2 0x%lx rip 0x%lx (want 0x%lx)\n", frame->error_code, cr2,
           frame->rip, pf_expect_rip);
  if (pf_count > ROUNDS) guest_exit(1); /* a fault that repeats */
  paging_map(USER_VA, (u64)user_page, PTE_P | PTE_W | PTE_U);
}

static u64 on_syscall(u64 nr, u64 arg) {
  ++syscalls;
  if (nr == SYS_UNMAP) {
    paging_map(USER_VA, 0, 0);
    return 0;
  }
  return arg + 1;
}

/* Ring 3. */
/* The store, its address published first for the #PF handler. */
static void store_user(u64 value) {
  __asm__ volatile("lea 1f(%%rip), %%rax\n movq %%rax, (%0)\n1: movq %2, (%1)"
                   :
                   : "r"(&pf_expect_rip), "r"(USER_VA), "r"(value)
                   : "rax", "memory");
}

static u64 user_main(u64 rounds) {
  u64 wrong = 0;
  for (u64 i = 0; i < rounds; ++i) {
    if (user_syscall(SYS_ADD, i) != i + 1) ++wrong;
    if (i % PF_EVERY == 0) {
      user_syscall(SYS_UNMAP, 0);
      store_user(i);
      if (*(volatile u64 *)USER_VA != i) ++wrong;
    }
  }
  return wrong;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  user_init(on_syscall);
  set_handler(TIMER_VECTOR, on_timer);
  set_handler(14, on_page_fault);
  paging_map(USER_VA, (u64)user_page, PTE_P | PTE_W | PTE_U);

  apic_enable();
  *(volatile u32 *)APIC_TIMER_DIVIDE = DIVIDE_BY_1;
  *(volatile u32 *)APIC_LVT_TIMER = TIMER_VECTOR | LVT_PERIODIC;
  u64 start = rdmsr(HV_MSR_TIME_REF_COUNT);
  *(volatile u32 *)APIC_TIMER_INITIAL = (u32)(TIMER_PERIOD_TICKS * (APIC_TIMER_HZ / 10000000ul));
  u64 wrong = user_call(user_main, ROUNDS);
  u64 elapsed = rdmsr(HV_MSR_TIME_REF_COUNT) - start;
  *(volatile u32 *)APIC_LVT_TIMER = TIMER_VECTOR | LVT_MASKED;

  u64 expected_ticks = elapsed / TIMER_PERIOD_TICKS;
  u64 rounds_pf = (ROUNDS + PF_EVERY - 1) / PF_EVERY;
  printf("pc_user_syscalls: %lu system calls, %lu #PFs, %lu timer ticks (%lu in ring 3) in %lu reference ticks\n",
         syscalls, pf_count, ticks, ticks_in_ring3, elapsed);
  check_eq(wrong, 0, "every system call's result and every retried store in ring 3");
  check_eq(syscalls, ROUNDS + rounds_pf, "system calls taken");
  check_eq(pf_count, rounds_pf, "#PFs taken from ring 3");
  check_eq(pf_bad, 0, "#PF error codes U|W, CR2 and RIP");
  check_eq(bad_frames, 0, "events from ring 3 on RSP0 at CPL 0 with ring 3's CS and SS saved");
  check(ticks_in_ring3 > 0, "timer ticks taken in ring 3");
  check(ticks + 1 >= expected_ticks && ticks <= expected_ticks + 1, "one timer tick per period, none lost");
  printf("pc_user_syscalls: %s\n", failures ? "FAILED" : "done");
  return 0;
}
