/* pc_page_faults: the #PF error code, CR2 and saved RIP (Intel SDM vol. 3,
   4.7 "Page-Fault Exceptions") for three faults, each taken, checked,
   fixed by the handler and retried ROUNDS times at a different offset:
     - a read of a not-present page: error 0 (P=0, W=0, U=0, I=0);
     - a write to a present read-only page with CR0.WP=1: P|W (0x3);
     - a fetch from a present XD page with EFER.NXE=1: P|I (0x11), RIP and
       CR2 both the fetched address.
   The retried access must then complete (the value loaded, the store
   landed, the code run), so a fault that is delivered but not architected
   (a stale translation, a wrong RIP) fails too, and each access must
   fault exactly once. A data read from the XD page must not fault.
   Leaves out: the user bit (U/S) case, taken from ring 3 in
   pc_user_page_faults, reserved-bit faults,
   SMEP/SMAP and protection keys (not advertised). */
#include "pc/pc_paging.h"

#include "common/hv_guest.h"

#define NP_VA 0x0000600000000000ul
#define RO_VA 0x0000600000001000ul
#define NX_VA 0x0000600000002000ul
#define ROUNDS 10000
#define CODE_SLOT 8 /* mov eax, imm32; ret, padded */

static u8 data_page[PAGE_SIZE] PAGE_ALIGNED;
static u8 ro_page[PAGE_SIZE] PAGE_ALIGNED;
static u8 nx_page[PAGE_SIZE] PAGE_ALIGNED;

/* What the handler saw, and the entry it installs to let the retry pass. */
static volatile u64 seen_vector, seen_error, seen_cr2, seen_rip;
static volatile u32 pf_count;
static u64 fix_va, fix_pte;

static void on_page_fault(struct interrupt_frame *frame) {
  seen_vector = frame->vector;
  seen_error = frame->error_code;
  seen_cr2 = read_cr2();
  seen_rip = frame->rip;
  /* A retry that faults again would loop forever: stop instead. */
  if (++pf_count > 3 * ROUNDS + 100) {
    printf("FAIL: page faults do not stop (error 0x%lx, cr2 0x%lx)\n", frame->error_code, seen_cr2);
    guest_exit(1);
  }
  *paging_pte(fix_va) = fix_pte;
  invlpg(fix_va);
}

/* The access, and its own address for the saved RIP. */
static u32 load32(u64 va, u64 *site) {
  u32 v;
  __asm__ volatile("lea 1f(%%rip), %1\n1: movl (%2), %0" : "=&r"(v), "=&r"(*site) : "r"(va) : "memory");
  return v;
}
static void store32(u64 va, u32 v, u64 *site) {
  __asm__ volatile("lea 1f(%%rip), %0\n1: movl %2, (%1)" : "=&r"(*site) : "r"(va), "r"(v) : "memory");
}

struct tally {
  const char *what;
  u32 bad;
};

/* One fault's record against what the SDM says. */
static void expect_fault(struct tally *t, u32 round, u32 count_before, u64 error, u64 cr2, u64 rip, int completed) {
  int ok = pf_count == count_before + 1 && seen_vector == 14 && seen_error == error && seen_cr2 == cr2 &&
           seen_rip == rip && completed;
  if (ok) return;
  if (t->bad++ < 5)
    printf("FAIL: %s, round %u: %u faults, vector %lu error 0x%lx (want 0x%lx) cr2 0x%lx (want 0x%lx) rip 0x%lx "
           "(want 0x%lx), access %s\n",
           t->what, round, pf_count - count_before, seen_vector, seen_error, error, seen_cr2, cr2, seen_rip, rip,
           completed ? "completed" : "lost");
}

static void report(const struct tally *t) {
  if (t->bad) atomic_inc(&failures);
  printf("%s: %s: %u of %u rounds wrong\n", t->bad ? "FAIL" : "PASS", t->what, t->bad, ROUNDS);
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  paging_init();
  write_cr0(read_cr0() | CR0_WP);
  CHECK((read_cr0() & CR0_WP) && (rdmsr(MSR_EFER) & EFER_NXE));
  set_handler(14, on_page_fault);
  for (u32 slot = 0; slot < PAGE_SIZE / CODE_SLOT; ++slot) {
    u8 *p = nx_page + slot * CODE_SLOT;
    p[0] = 0xB8;
    for (int i = 0; i < 4; ++i) p[1 + i] = (u8)((0xC0DE0000u + slot) >> (8 * i));
    p[5] = 0xC3;
  }

  /* Reading an XD page is allowed. */
  paging_map(NX_VA, (u64)nx_page, PTE_P | PTE_XD);
  u64 site;
  u32 count = pf_count;
  check(load32(NX_VA, &site) == *(volatile u32 *)nx_page && pf_count == count, "a data read from an XD page does not fault");

  struct tally np = {"not-present read", 0}, ro = {"write to a read-only page", 0}, nx = {"fetch from an XD page", 0};
  for (u32 round = 0; round < ROUNDS; ++round) {
    u32 off = (round * 4) % PAGE_SIZE;

    ((volatile u32 *)data_page)[off / 4] = round;
    paging_map(NP_VA, 0, 0);
    fix_va = NP_VA, fix_pte = (u64)data_page | PTE_P | PTE_W | PTE_XD;
    count = pf_count;
    u32 got = load32(NP_VA + off, &site);
    expect_fault(&np, round, count, 0, NP_VA + off, site, got == round);

    paging_map(RO_VA, (u64)ro_page, PTE_P | PTE_XD);
    fix_va = RO_VA, fix_pte = (u64)ro_page | PTE_P | PTE_W | PTE_XD;
    count = pf_count;
    store32(RO_VA + off, ~round, &site);
    expect_fault(&ro, round, count, PF_P | PF_W, RO_VA + off, site, ((volatile u32 *)ro_page)[off / 4] == ~round);

    u32 slot = round % (PAGE_SIZE / CODE_SLOT);
    u64 code = NX_VA + slot * CODE_SLOT;
    paging_map(NX_VA, (u64)nx_page, PTE_P | PTE_XD);
    fix_va = NX_VA, fix_pte = (u64)nx_page | PTE_P;
    count = pf_count;
    u32 ran = ((u32(*)(void))code)();
    expect_fault(&nx, round, count, PF_P | PF_I, code, code, ran == 0xC0DE0000u + slot);
  }
  report(&np);
  report(&ro);
  report(&nx);
  check_eq(pf_count, 3 * ROUNDS, "page faults taken");
  printf("pc_page_faults: %s\n", failures ? "FAILED" : "done");
  return 0;
}
