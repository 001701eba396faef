/* pc_cross_vp_patch: code rewritten by another VP (Intel SDM vol. 3, 8.1.3
   "Handling Self- and Cross-Modifying Code"). VP 1 calls a function in a
   page of its own (mov eax, imm32; ret) in a loop with interrupts on, so
   its translation is hot in VP 1's engine; VP 0, which never runs that
   page, rewrites the immediate and then sends VP 1 a fixed IPI, as Linux's
   text_poke_sync() does. The interrupt's entry and IRET serialize: the
   first call VP 1 makes after its handler ran must return the new value.
   ROUNDS rounds for each way of writing:
     - through a temporary alias at the top of the address space, mapped
       for the store and unmapped (invlpg) after it, as text_poke() does;
     - through the function's own mapping (the boot map's 2 MiB page), the
       same linear address VP 1 runs, round after round, after a load from
       the page.
   Each is printed as "<way>: N of ROUNDS stale". The command line may
   name the ways to run (way=alias, way=own); by default both run.
   Leaves out: more than one executing VP, a rewrite of the block the
   other VP is running at that moment, and rewrites not followed by an
   interrupt (the SDM gives no guarantee then). */
#include "pc/pc_runtime.h"

#define ROUNDS 200
#define IPI_VECTOR 0x31
#define HOT_CALLS 100     /* calls by VP 1 between its check and the next store */
#define SPIN_LIMIT 200000000ul
#define ALIAS_VA 0xFFFFFFFF80000000ul /* pml4[511] -> pdpt[510] -> pd[0] -> pt[0] */

/* The patched function alone in its page: VP 0 never holds code from it.
   WITH_SITE (kernel pc_cross_vp_patch_site): an RDMSR of TSC_FREQUENCY
   first, which the engine patches in VP 1's execution view of the page
   (emu/x86/x86_code_shadow.h); the function returns 0xBAD when the RDMSR
   did not read 10^9, so the rewritten page must run both trapped and new. */
#ifdef WITH_SITE
__asm__(".pushsection .text.cross_vp_patch, \"ax\"\n"
        ".p2align 12\n"
        ".globl patched_fn\n"
        "patched_fn:\n"
        "push %rcx\n"
        "push %rdx\n"
        "movl $0x40000022, %ecx\n"
        "rdmsr\n"
        "cmpl $1000000000, %eax\n"
        "jne 1f\n"
        "movl $0, %eax\n"
        "pop %rdx\n"
        "pop %rcx\n"
        "ret\n"
        "1: movl $0xBAD, %eax\n"
        "pop %rdx\n"
        "pop %rcx\n"
        "ret\n"
        ".p2align 12\n"
        ".popsection\n");
#define IMM_OFFSET 17 /* push, push, mov ecx (5), rdmsr (2), cmp eax (5), jne (2), then B8 imm32 */
#else
__asm__(".pushsection .text.cross_vp_patch, \"ax\"\n"
        ".p2align 12\n"
        ".globl patched_fn\n"
        "patched_fn:\n"
        "movl $0, %eax\n"
        "ret\n"
        ".p2align 12\n"
        ".popsection\n");
#define IMM_OFFSET 1 /* B8 imm32 */
#endif
u32 patched_fn(void);

extern u64 pml4[512], high_pdpt[512], high_pd[512], high_pt[512];

/* VP 0 -> VP 1: the value the next IPI stands for, and the end. */
static volatile u32 expected, done, vp1_ready;
/* VP 1 -> VP 0. */
static volatile u32 ipis, checked, calls, stale;
/* The first stale call of the current way (VP 0 clears `stale_noted`). */
static volatile u32 stale_noted, first_stale_got, first_stale_want;

static void on_ipi(struct interrupt_frame *frame) {
  (void)frame;
  ipis++;
  apic_eoi();
}

static void run_patched(void) {
  apic_enable();
  sti();
  vp1_ready = 1;
  while (!done) {
    /* An IPI taken before this read was taken before the call below. */
    u32 seen = ipis;
    u32 want = expected;
    u32 got = patched_fn();
    calls++;
    if (seen != checked) {
      if (got != want) {
        ++stale;
        if (!stale_noted) first_stale_got = got, first_stale_want = want, stale_noted = 1;
      }
      checked = seen;
    }
  }
  cli();
}

static int spin_until(volatile u32 *counter, u32 target, const char *what) {
  for (u64 spins = 0; *counter < target; ++spins) {
    if (spins > SPIN_LIMIT) {
      printf("FAIL: vp0 timed out waiting for %s (%u of %u)\n", what, *counter, target);
      atomic_inc(&failures);
      return 0;
    }
    cpu_relax();
  }
  return 1;
}

static void store_temporary_alias(u32 value) {
  high_pt[0] = ((u64)patched_fn & ~0xFFFul) | 3;
  __asm__ volatile("invlpg (%0)" ::"r"(ALIAS_VA) : "memory");
  *(volatile u32 *)(ALIAS_VA + IMM_OFFSET) = value;
  high_pt[0] = 0;
  __asm__ volatile("invlpg (%0)" ::"r"(ALIAS_VA) : "memory");
}

/* A load from the page first (its first round: a read fill of the page,
   which may come back writable). */
static void store_own_mapping(u32 value) {
  (void)*(volatile u8 *)((u64)patched_fn + 0x800);
  *(volatile u32 *)((u64)patched_fn + IMM_OFFSET) = value;
}

typedef void (*store_fn)(u32);
static const struct {
  store_fn store;
  const char *key, *name;
} kWays[] = {{store_temporary_alias, "way=alias", "through a temporary alias (text_poke)"},
             {store_own_mapping, "way=own", "through the function's own mapping"}};

static u32 rounds_done;

static void patch_rounds(void) {
  pml4[511] = (u64)high_pdpt | 3;
  high_pdpt[510] = (u64)high_pd | 3;
  high_pd[0] = (u64)high_pt | 3;
  __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
  u32 value = 0x10000000u;
  const int all = !pc_cmdline_has("way=");
  for (unsigned w = 0; w < sizeof kWays / sizeof kWays[0]; ++w) {
    if (!all && !pc_cmdline_has(kWays[w].key)) continue;
    u32 stale_before = stale;
    stale_noted = 0;
    for (u32 round = 0; round < ROUNDS; ++round) {
      /* VP 1's translation of the old code is hot. */
      if (!spin_until(&calls, calls + HOT_CALLS, "VP 1's calls")) return;
      ++value;
      kWays[w].store(value);
      expected = value;
      pc_send_ipi(1, IPI_VECTOR);
      if (!spin_until(&checked, ++rounds_done, "VP 1's check after the IPI")) return;
    }
    u32 bad = stale - stale_before;
    if (bad) printf("  first stale: 0x%x, expected 0x%x\n", first_stale_got, first_stale_want);
    printf("%s: %u of %u stale\n", kWays[w].name, bad, ROUNDS);
    if (bad) atomic_inc(&failures);
  }
}

int guest_main(u32 vp, u32 vp_count) {
  if (vp_count < 2) {
    if (vp == 0) printf("FAIL: pc_cross_vp_patch needs 2 VPs, has %u\n", vp_count);
    return 1;
  }
  if (vp == 1) {
    run_patched();
    return 0;
  }
  if (vp != 0) return 0;
  set_handler(IPI_VECTOR, on_ipi);
  printf("pc_cross_vp_patch: %u VPs, %u rounds per way\n", vp_count, ROUNDS);
  if (spin_until(&vp1_ready, 1, "VP 1")) patch_rounds();
  done = 1;
  check(failures == 0, "VP 1 ran the new code after each IPI");
  printf("pc_cross_vp_patch: %s\n", failures ? "FAILED" : "done");
  return 0;
}
