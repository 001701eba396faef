/* pc_fault_after_fault: handled faults leave no trace in the next one. A
   #GP (a load from a non-canonical address), a #PF (a load from a
   not-present page), a #DE (divide by zero) and a #UD (ud2) are raised
   ROUNDS times in a pseudo-random order, so that every ordered pair of
   them occurs many times, each handled and returned from (the handler
   skips the 2-byte instruction). Each must arrive as itself, with its
   error code (0; the #PF's 0 with CR2 the address) and RIP on the
   instruction; a #DF (a contributory fault or #PF judged against a stale
   "exception in flight") fails the run, and so would a triple fault.
   Leaves out: faults during event delivery (pc_double_fault), #SS and
   #NP, and faults on other VPs. */
#include "pc/pc_paging.h"

#define ROUNDS 20000
#define NONCANONICAL 0x8000000000000000ul
#define NOT_PRESENT 0x0000008000000040ul /* PML4[1]: the boot map stops at 4 GiB */

enum kind { GP, PF, DE, UD, KINDS };
static const u8 vectors[KINDS] = {13, 14, 0, 6};
static const char *const names[KINDS] = {"#GP", "#PF", "#DE", "#UD"};

static volatile u64 seen_vector, seen_error, seen_rip, seen_cr2;
static volatile u32 fault_count;

static void on_fault(struct interrupt_frame *frame) {
  seen_vector = frame->vector;
  seen_error = frame->error_code;
  seen_rip = frame->rip;
  seen_cr2 = read_cr2();
  fault_count++;
  frame->rip += 2; /* every faulting instruction here is 2 bytes */
}

static void on_double_fault(struct interrupt_frame *frame) {
  printf("FAIL: #DF after %u handled faults (last vector %lu, rip 0x%lx)\n", fault_count, seen_vector, frame->rip);
  guest_exit(1);
}

/* Raises `kind` once; returns the faulting instruction's address. */
static u64 raise_fault(enum kind kind) {
  u64 site, a = kind == GP ? NONCANONICAL : NOT_PRESENT;
  switch (kind) {
    case GP:
    case PF:
      __asm__ volatile("lea 1f(%%rip), %0\n1: movl (%1), %%eax" : "=&r"(site), "+a"(a) : : "memory");
      break;
    case DE:
      __asm__ volatile("lea 1f(%%rip), %0\n1: divl %%ecx" : "=&r"(site), "+a"(a) : "c"(0), "d"(0) : "memory");
      break;
    default:
      __asm__ volatile("lea 1f(%%rip), %0\n1: ud2" : "=r"(site) : : "memory");
      break;
  }
  return site;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  for (int k = 0; k < KINDS; ++k) set_handler(vectors[k], on_fault);
  set_handler(8, on_double_fault);

  u32 wrong[KINDS] = {0}, raised[KINDS] = {0};
  u32 lcg = 12345;
  for (u32 round = 0; round < ROUNDS; ++round) {
    /* A #GP then a #PF first, as the issue says; then any order. */
    lcg = lcg * 1103515245u + 12345u;
    enum kind kind = round < 2 ? (enum kind)round : (enum kind)((lcg >> 16) % KINDS);
    u32 before = fault_count;
    seen_vector = ~0ul;
    u64 site = raise_fault(kind);
    raised[kind]++;
    int ok = fault_count == before + 1 && seen_vector == vectors[kind] && seen_error == 0 && seen_rip == site &&
             (kind != PF || seen_cr2 == NOT_PRESENT);
    if (!ok && wrong[kind]++ < 5)
      printf("FAIL: round %u, %s: %u faults, vector %lu error 0x%lx rip 0x%lx (want 0x%lx) cr2 0x%lx\n", round,
             names[kind], fault_count - before, seen_vector, seen_error, seen_rip, site, seen_cr2);
  }
  for (int k = 0; k < KINDS; ++k) {
    if (wrong[k]) atomic_inc(&failures);
    printf("%s: %s: %u raised, %u wrong\n", wrong[k] ? "FAIL" : "PASS", names[k], raised[k], wrong[k]);
  }
  check_eq(fault_count, ROUNDS, "faults taken, none of them #DF");
  printf("pc_fault_after_fault: %s\n", failures ? "FAILED" : "done");
  return 0;
}
