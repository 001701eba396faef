/* pc_code_patch: code rewritten after it was translated. A function is
   written, run (so it is translated), rewritten and run again, ROUNDS times,
   on the boot map's 2 MiB pages and on a 2 MiB page at 0xFFFFFFFF80000000
   (like Linux's kernel text map), written and run through the same mapping
   and through the other alias, with byte stores, rep movsb, rep movsq, the
   two overlapping 4-byte stores of Linux's memcpy for 4..7 bytes, and one
   8-byte store. The case that fails on a bare Unicorn 2.1.1: a store to
   other bytes of the page between the run and the rewrite (Linux's
   alternatives patch one site after another in the same page), which drops
   the page's write check, so the rewrite leaves the old translated block
   (docs/PC_PLATFORM.md). Also: a code bitmap built before the patched code
   is translated, and a hot, directly called block (a static_cpu_has() site
   after ftrace: nop5; jmp rel32) patched to a short jmp.
   Leaves out: the rewrite by another VP (another Unicorn engine), 4 KiB
   pages (the check is the same per TLB entry), a rewrite of the block
   that is running. */
#include "pc/pc_paging.h"

#include "common/hv_guest.h"

#define HIGH_VA 0xFFFFFFFF80000000ul
#define HIGH_PA 0x600000ul
#define ROUNDS 200

static u64 hi_pdpt[512] PAGE_ALIGNED;
static u64 hi_pd[512] PAGE_ALIGNED;
static u8 low_code[PAGE_SIZE] PAGE_ALIGNED;

typedef u32 (*code_fn)(void);

/* Like a Linux static_cpu_has() site after ftrace: nop5; jmp rel32 to a
   slow path; patched to a short jmp over to the fast answer. */
__asm__(".pushsection .text.patch, \"ax\"\n"
        ".p2align 12\n"
        ".globl patch_fn\n"
        "patch_fn:\n"
        ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
        ".globl patch_site\n"
        "patch_site:\n"
        ".byte 0xe9\n"
        ".long patch_slow - (. + 4)\n"
        "movl $2, %eax\n"
        "ret\n"
        ".p2align 6\n"
        "patch_slow:\n"
        "movl $3, %eax\n"
        "ret\n"
        ".popsection\n");
u32 patch_fn(void);
extern u8 patch_site[];
static u64 patch_original;

static u32 hot_calls(int n) {
  u32 last = 0;
  for (int i = 0; i < n; ++i) last = patch_fn();
  return last;
}

static u64 code_bytes(u32 imm) {
  /* mov eax, imm32; ret; nop; nop */
  return 0xB8ul | ((u64)imm << 8) | (0xC3ul << 40) | (0x90ul << 48) | (0x90ul << 56);
}

static void store_bytes(u64 va, u64 code) {
  volatile u8 *p = (volatile u8 *)va;
  for (int i = 0; i < 8; ++i) p[i] = (u8)(code >> (8 * i));
}
static void store_movsb(u64 va, u64 code) {
  u64 src = code;
  void *d = (void *)va;
  const void *s = &src;
  u64 n = 8;
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static void store_movsq(u64 va, u64 code) {
  u64 src = code;
  void *d = (void *)va;
  const void *s = &src;
  u64 n = 1;
  __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
/* Linux's memcpy for 4..7 bytes: two overlapping 4-byte moves. */
static void store_overlap4(u64 va, u64 code) {
  volatile u32 *a = (volatile u32 *)va;
  volatile u32 *b = (volatile u32 *)(va + 3);
  *a = (u32)code;
  *b = (u32)(code >> 24);
}
static void store_q(u64 va, u64 code) { *(volatile u64 *)va = code; }

typedef void (*store_fn)(u64, u64);
static const struct {
  store_fn fn;
  const char *name;
} kStores[] = {{store_bytes, "byte stores"},
               {store_movsb, "rep movsb"},
               {store_movsq, "rep movsq"},
               {store_overlap4, "overlapping 4-byte stores"},
               {store_q, "one 8-byte store"}};

static u32 run_case(u64 write_va, u64 exec_va, store_fn store, u32 tag) {
  u32 bad = 0;
  for (u32 round = 0; round < ROUNDS; ++round) {
    u32 want = tag + round;
    store(write_va, code_bytes(want));
    u32 got = ((code_fn)exec_va)();
    if (got != want) {
      if (bad == 0) printf("  round %u: 0x%x, expected 0x%x\n", round, got, want);
      ++bad;
    }
    /* run it again, hot */
    for (int i = 0; i < 3; ++i) (void)((code_fn)exec_va)();
  }
  return bad;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  /* A 2 MiB page at HIGH_VA over HIGH_PA, like Linux's kernel text map. */
  extern u64 pml4[];
  hi_pd[0] = HIGH_PA | 0x83;
  hi_pdpt[510] = (u64)hi_pd | 3;
  pml4[511] = (u64)hi_pdpt | 3;
  __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");

  const struct {
    u64 write_va, exec_va;
    const char *name;
  } kMaps[] = {{(u64)low_code, (u64)low_code, "2 MiB identity page"},
               {HIGH_VA + 0x1000, HIGH_VA + 0x1000, "2 MiB high page"},
               {HIGH_PA + 0x2000, HIGH_VA + 0x2000, "written low, run high"},
               {HIGH_VA + 0x3000, HIGH_PA + 0x3000, "written high, run low"}};
  u32 tag = 0x10000000u;
  for (unsigned m = 0; m < sizeof kMaps / sizeof kMaps[0]; ++m) {
    for (unsigned s = 0; s < sizeof kStores / sizeof kStores[0]; ++s) {
      u64 off = 0x100 * s;
      u32 bad = run_case(kMaps[m].write_va + off, kMaps[m].exec_va + off, kStores[s].fn, tag);
      tag += 0x01000000u;
      printf("%s, %s: %u of %u stale\n", kMaps[m].name, kStores[s].name, bad, ROUNDS);
      if (bad) atomic_inc(&failures);
    }
  }
  /* A page whose code bitmap is built before the code that is patched
     gets translated: other code runs there, then data writes. */
  for (unsigned s = 0; s < sizeof kStores / sizeof kStores[0]; ++s) {
    u64 page = HIGH_VA + 0x10000 + 0x1000 * s;
    u32 bad = 0;
    for (u32 round = 0; round < ROUNDS; ++round) {
      u64 other = page + 0x800, fn = page + 0x100;
      store_q(other, code_bytes(round));
      (void)((code_fn)other)();
      store_q(fn, code_bytes(1));
      for (int i = 0; i < 40; ++i) *(volatile u64 *)(page + 0x400 + 8 * (i & 7)) = i;
      (void)((code_fn)fn)();
      kStores[s].fn(fn, code_bytes(tag + round));
      u32 got = ((code_fn)fn)();
      if (got != tag + round) {
        if (bad == 0) printf("  round %u: 0x%x, expected 0x%x\n", round, got, tag + round);
        ++bad;
      }
    }
    tag += 0x01000000u;
    printf("code bitmap built first, %s: %u of %u stale\n", kStores[s].name, bad, ROUNDS);
    if (bad) atomic_inc(&failures);
  }
  /* Two stores in a row to a page with translated code: the first to
     bytes no block holds, the second to the code. */
  for (unsigned m = 0; m < sizeof kMaps / sizeof kMaps[0]; ++m) {
    for (unsigned s = 0; s < sizeof kStores / sizeof kStores[0]; ++s) {
      u64 w = kMaps[m].write_va + 0x800 + 0x40 * s, x = kMaps[m].exec_va + 0x800 + 0x40 * s;
      u32 bad = 0;
      for (u32 round = 0; round < ROUNDS; ++round) {
        store_q(w, code_bytes(1));
        (void)((code_fn)x)();
        *(volatile u64 *)(kMaps[m].write_va + 0xF00) = round;
        kStores[s].fn(w, code_bytes(tag + round));
        u32 got = ((code_fn)x)();
        if (got != tag + round) {
          if (bad == 0) printf("  round %u: 0x%x, expected 0x%x\n", round, got, tag + round);
          ++bad;
        }
      }
      tag += 0x01000000u;
      printf("%s, a data store first, %s: %u of %u stale\n", kMaps[m].name, kStores[s].name, bad, ROUNDS);
      if (bad) atomic_inc(&failures);
    }
  }
  /* A hot, directly called block patched after thousands of runs. */
  patch_original = *(volatile u64 *)patch_site;
  for (unsigned s = 0; s < sizeof kStores / sizeof kStores[0]; ++s) {
    u32 bad = 0;
    for (u32 round = 0; round < 50; ++round) {
      u32 before = hot_calls(2000);
      /* jmp short +0; nop3 over the 5-byte jmp */
      u64 patched = (patch_original & ~0xFFFFFFFFFFul) | 0x001F0F00EBul;
      kStores[s].fn((u64)patch_site, patched);
      u32 after = hot_calls(10);
      if (before != 3 || after != 2) {
        if (bad == 0) printf("  round %u: %u before, %u after\n", round, before, after);
        ++bad;
      }
      kStores[s].fn((u64)patch_site, patch_original);
    }
    printf("hot block patched, %s: %u of 50 stale\n", kStores[s].name, bad);
    if (bad) atomic_inc(&failures);
  }
  check(failures == 0, "every rewritten function ran its new code");
  printf("pc_code_patch: %s\n", failures ? "FAILED" : "done");
  return 0;
}
