/* pc_new_trapped_site: a block scanned once without a trapped instruction,
   then rewritten to hold one. The engine cannot hook RDMSR (docs/
   PC_PLATFORM.md, "Cheap traps"): it scans each block for RDMSR, WRMSR and
   RDTSC when the block first runs and gives each site a hook. Each round
   writes `mov eax, imm; ret` at a fresh address, runs it (the block is
   scanned: no site), rewrites the same bytes as `mov ecx,
   HV_X64_MSR_TSC_FREQUENCY; rdmsr; ret` and runs it again. The RDMSR must
   be trapped: the hypervisor answers 10^9 (1 GHz); run by the CPU model
   it would read 0. The engine's TLB
   sees the store to the block's frame and has the block scanned again.
   Leaves out: the fallbacks on Unicorn's own TLB (a known gap there). */
#include "common/hv_guest.h"

#define ROUNDS 200
#define SLOT 16

static u8 code_page[2 * PAGE_SIZE] PAGE_ALIGNED;

typedef u32 (*code_fn)(void);

static void put(volatile u8 *at, const u8 *bytes, u32 n) {
  for (u32 i = 0; i < n; ++i) at[i] = bytes[i];
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp;
  (void)vp_count;
  /* mov eax, 0x5a5a; ret */
  static const u8 plain[] = {0xB8, 0x5A, 0x5A, 0x00, 0x00, 0xC3, 0x90, 0x90};
  /* mov ecx, 0x40000022 (TSC_FREQUENCY); rdmsr; ret */
  static const u8 trapped[] = {0xB9, 0x22, 0x00, 0x00, 0x40, 0x0F, 0x32, 0xC3};
  u32 stale = 0, wrong_plain = 0;
  for (u32 round = 0; round < ROUNDS; ++round) {
    volatile u8 *at = code_page + round * SLOT;
    put(at, plain, sizeof plain);
    for (int i = 0; i < 3; ++i) {
      if (((code_fn)at)() != 0x5A5A) ++wrong_plain;
    }
    put(at, trapped, sizeof trapped);
    u32 got = ((code_fn)at)();
    if (got != 1000000000u) {
      if (stale == 0) printf("  round %u: TSC_FREQUENCY read %u, expected 1000000000\n", round, got);
      ++stale;
    }
  }
  printf("plain blocks: %u of %u wrong\n", wrong_plain, 3 * ROUNDS);
  printf("site added to a scanned block: %u of %u unemulated\n", stale, ROUNDS);
  check(stale == 0 && wrong_plain == 0, "an RDMSR written into a scanned block is trapped");
  printf("pc_new_trapped_site: %s\n", stale || wrong_plain ? "FAILED" : "done");
  return 0;
}
