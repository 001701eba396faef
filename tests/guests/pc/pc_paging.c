/* Kernel-built page tables; see pc_paging.h. */
#include "pc/pc_paging.h"

#include "common/hv_guest.h"

#define POOL_PAGES 24
#define XAPIC_PAGE 0xFEE00000ul

extern char __pc_image_end[];
static u64 pool[POOL_PAGES][512] PAGE_ALIGNED;
static u32 pool_used;
static u64 *root;

static u64 *new_table(void) {
  if (pool_used == POOL_PAGES) {
    printf("FAIL: paging: out of page-table pages\n");
    guest_exit(5);
  }
  u64 *t = pool[pool_used++];
  memset(t, 0, PAGE_SIZE);
  return t;
}

volatile u64 *paging_pte(u64 va) {
  u64 *table = root;
  for (int shift = 39; shift > 12; shift -= 9) {
    u64 *entry = &table[(va >> shift) & 511];
    /* U above the leaves: the last level alone decides (ring-3 tests). */
    if (!(*entry & PTE_P)) *entry = (u64)new_table() | PTE_P | PTE_W | PTE_U;
    table = (u64 *)(*entry & PTE_ADDR);
  }
  return &table[(va >> 12) & 511];
}

void paging_map(u64 va, u64 pa, u64 flags) {
  *paging_pte(va) = flags ? (pa & PTE_ADDR) | flags : 0;
  invlpg(va);
}

void paging_init(void) {
  root = new_table();
  /* Page 0 too: the SIPI trampoline and the boot information live low. */
  /* User-accessible, so ring-3 tests run the image's own code and data. */
  for (u64 pa = 0; pa < (u64)__pc_image_end; pa += PAGE_SIZE) *paging_pte(pa) = pa | PTE_P | PTE_W | PTE_U;
  *paging_pte(XAPIC_PAGE) = XAPIC_PAGE | PTE_P | PTE_W | PTE_PCD;
  /* XD bits mean no-execute (without NXE they are reserved: #PF RSVD). */
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
  __asm__ volatile("mov %0, %%cr3" ::"r"(root) : "memory");
}
