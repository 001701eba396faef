/* Page tables built by a pc kernel itself (IA-32e 4-level paging, 4 KiB
   pages; Intel SDM vol. 3, 4.5) and the control registers around them, for
   the kernels that remap memory and take page faults. */
#ifndef SOFTSYNIC_PC_PAGING_H
#define SOFTSYNIC_PC_PAGING_H

#include "pc/pc_runtime.h"

#define PTE_P (1ul << 0)
#define PTE_W (1ul << 1)
#define PTE_U (1ul << 2)
#define PTE_PCD (1ul << 4)
#define PTE_XD (1ul << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ul

/* #PF error code bits (SDM 4.7). */
#define PF_P (1ul << 0)
#define PF_W (1ul << 1)
#define PF_U (1ul << 2)
#define PF_RSVD (1ul << 3)
#define PF_I (1ul << 4)

#define CR0_WP (1ul << 16)
#define MSR_EFER 0xC0000080u
#define EFER_NXE (1ul << 11)

/* Replaces the boot map (2 MiB pages) with new tables of 4 KiB pages: the
   image from 0 to its end, identity and user-accessible, and the xAPIC
   page (supervisor); sets EFER.NXE and loads CR3. */
void paging_init(void);
/* The last-level entry for `va`, creating the tables above it. */
volatile u64 *paging_pte(u64 va);
/* Sets `va`'s entry to pa | flags (0: not present) and flushes it. */
void paging_map(u64 va, u64 pa, u64 flags);

static inline void invlpg(u64 va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline u64 read_cr0(void) {
  u64 v;
  __asm__ volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}
static inline void write_cr0(u64 v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline u64 read_cr2(void) {
  u64 v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}
static inline u64 read_cr4(void) {
  u64 v;
  __asm__ volatile("mov %%cr4, %0" : "=r"(v));
  return v;
}
static inline void write_cr4(u64 v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }

#endif
