/* pc_paging_alias: one physical page at two virtual addresses, through
   page tables of 4 KiB pages the kernel builds itself. Code is written
   through a high, writable, non-executable alias (0xFFFF800000001000) and
   called through a low, read-only, executable one; rewritten through the
   first and the new code seen through the second (self-modifying code
   through an alias), ROUNDS times; then the executable alias is remapped
   (invlpg) to a second physical page with other code, and back. Neither
   physical page keeps its identity mapping, so an engine that takes a
   virtual address for a physical one, or keeps a stale translation or
   translated block, computes another result or faults.
   Leaves out: 2 MiB/1 GiB pages, global pages and CR3 reloads without
   invlpg, remapping on another VP (TLB shootdown); one VP. */
#include "pc/pc_paging.h"

#include "common/hv_guest.h"

#define WRITE_VA 0xFFFF800000001000ul
#define EXEC_VA 0x00007F0000000000ul
#define OTHER_WRITE_VA 0xFFFF800000002000ul
#define ROUNDS 1000

static u8 page_a[PAGE_SIZE] PAGE_ALIGNED;
static u8 page_b[PAGE_SIZE] PAGE_ALIGNED;

typedef u32 (*code_fn)(void);

/* mov eax, imm32; ret */
static void write_code(u64 va, u32 imm) {
  volatile u8 *p = (volatile u8 *)va;
  p[0] = 0xB8;
  for (int i = 0; i < 4; ++i) p[1 + i] = (u8)(imm >> (8 * i));
  p[5] = 0xC3;
}

static u32 call_at(u64 va) { return ((code_fn)va)(); }

static void check_round(u32 got, u32 want, u32 round, const char *what) {
  if (got == want) return;
  printf("FAIL: %s, round %u: 0x%x, expected 0x%x\n", what, round, got, want);
  atomic_inc(&failures);
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  paging_init();
  /* Only the aliases reach the two pages from here on. */
  paging_map((u64)page_a, 0, 0);
  paging_map((u64)page_b, 0, 0);
  paging_map(WRITE_VA, (u64)page_a, PTE_P | PTE_W | PTE_XD);
  paging_map(EXEC_VA, (u64)page_a, PTE_P);
  paging_map(OTHER_WRITE_VA, (u64)page_b, PTE_P | PTE_W | PTE_XD);

  /* Data first: a store through one alias is a load through the other. */
  *(volatile u64 *)(WRITE_VA + 0x800) = 0x0123456789ABCDEFul;
  check_eq(*(volatile u64 *)(EXEC_VA + 0x800), 0x0123456789ABCDEFul, "a store through one alias, read through the other");

  /* The same code, rewritten through the writable alias each round. */
  u32 before = failures;
  for (u32 round = 0; round < ROUNDS; ++round) {
    write_code(WRITE_VA, 0xA0000000u + round);
    check_round(call_at(EXEC_VA), 0xA0000000u + round, round, "code rewritten through the other alias");
  }
  check(failures == before, "1000 rewrites through the writable alias run through the executable one");

  /* Remap the executable alias to page B and back, each with its code. */
  write_code(OTHER_WRITE_VA, 0xB0B0B0B0u);
  write_code(WRITE_VA, 0xA0A0A0A0u);
  before = failures;
  for (u32 round = 0; round < ROUNDS; ++round) {
    paging_map(EXEC_VA, (u64)page_b, PTE_P);
    check_round(call_at(EXEC_VA), 0xB0B0B0B0u, round, "the alias remapped to page B");
    paging_map(EXEC_VA, (u64)page_a, PTE_P);
    check_round(call_at(EXEC_VA), 0xA0A0A0A0u, round, "the alias remapped back to page A");
  }
  check(failures == before, "invlpg'd remaps of the executable alias run the new page's code");
  check_eq(*(volatile u32 *)(OTHER_WRITE_VA + 1), 0xB0B0B0B0u, "page B's code, read through its writable alias");

  printf("pc_paging_alias: %s\n", failures ? "FAILED" : "done");
  return 0;
}
