/* pc_user_page_faults: the user bit of the #PF error code (Intel SDM vol.
   3, 4.6 "Access Rights", 4.7 "Page-Fault Exceptions"): ring-3 code reads
   and writes a present supervisor page, 10^4 rounds of each. Every access
   must raise #PF with error U|P (0x5) for the read and U|W|P (0x7) for the
   write, CR2 the address and RIP the access, taken from ring 3 (frame CS
   0x23); the handler makes the page user-accessible and the retried access
   completes (the value read, the store landed). Before each access a
   system call makes the page supervisor-only again. (pc_page_faults covers
   the supervisor cases: U=0.) Leaves out: SMEP/SMAP, protection keys. */
#include "pc/pc_user.h"

#include "common/hv_guest.h"

#define ROUNDS 10000
#define SUPERVISOR_VA 0x0000500000000000ul
#define SYS_PROTECT 1

static u8 data_page[PAGE_SIZE] PAGE_ALIGNED;
static volatile u64 pf_count, bad, site;
static volatile u64 want_error, want_cr2;

static void on_page_fault(struct interrupt_frame *frame) {
  ++pf_count;
  u64 cr2 = read_cr2();
  if ((frame->error_code != want_error || frame->cs != USER_CS || frame->rip != site || cr2 != want_cr2) &&
      bad++ < 5)
    printf("FAIL: #PF from ring 3: error 0x%lx (want 0x%lx) cs 0x%lx rip 0x%lx (want 0x%lx) cr2 0x%lx (want 0x%lx)\n",
           frame->error_code, want_error, frame->cs, frame->rip, site, cr2, want_cr2);
  if (pf_count > 2 * ROUNDS) guest_exit(1);
  paging_map(SUPERVISOR_VA, (u64)data_page, PTE_P | PTE_W | PTE_U);
}

static u64 on_syscall(u64 nr, u64 arg) {
  if (nr != SYS_PROTECT) return ~0ul;
  want_error = arg;
  paging_map(SUPERVISOR_VA, (u64)data_page, PTE_P | PTE_W); /* no U */
  return 0;
}

/* Ring 3: each access with its address published first. */
static u64 load_user(u64 va) {
  u64 v;
  __asm__ volatile("lea 1f(%%rip), %%rax\n movq %%rax, (%1)\n1: movq (%2), %0" : "=r"(v) : "r"(&site), "r"(va) : "rax", "memory");
  return v;
}
static void store_user(u64 va, u64 v) {
  __asm__ volatile("lea 1f(%%rip), %%rax\n movq %%rax, (%0)\n1: movq %2, (%1)" : : "r"(&site), "r"(va), "r"(v) : "rax", "memory");
}

static u64 user_main(u64 rounds) {
  u64 wrong = 0;
  for (u64 i = 0; i < rounds; ++i) {
    u64 off = (i * 8) % PAGE_SIZE;
    want_cr2 = SUPERVISOR_VA + off;
    ((volatile u64 *)data_page)[off / 8] = 0; /* through the image's user mapping */
    user_syscall(SYS_PROTECT, PF_U | PF_W | PF_P);
    store_user(SUPERVISOR_VA + off, i);
    if (((volatile u64 *)data_page)[off / 8] != i) ++wrong;
    user_syscall(SYS_PROTECT, PF_U | PF_P);
    if (load_user(SUPERVISOR_VA + off) != i) ++wrong;
  }
  return wrong;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  user_init(on_syscall);
  set_handler(14, on_page_fault);
  u64 wrong = user_call(user_main, ROUNDS);
  printf("pc_user_page_faults: %lu #PFs from ring 3 on a supervisor page\n", pf_count);
  check_eq(wrong, 0, "every retried access completes");
  check_eq(pf_count, 2 * ROUNDS, "one #PF per ring-3 access to the supervisor page");
  check_eq(bad, 0, "error code U|P (read) and U|W|P (write), CR2 and RIP");
  printf("pc_user_page_faults: %s\n", failures ? "FAILED" : "done");
  return 0;
}
