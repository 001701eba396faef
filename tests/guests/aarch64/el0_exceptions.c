/* EL1 kernel with an EL0 program (Arm ARM D1 "The AArch64 Exception
   model", D5 "The AArch64 Virtual Memory System Architecture"): page
   tables with 4 KiB pages and the MMU on, EL0 entered by ERET, and every
   synchronous exception the engine delivers checked from the handler's
   side: ESR_EL1 (EC, IL, ISS), FAR_EL1, ELR_EL1, SPSR_EL1, the stack
   (SP_EL1 in the handler, SP_EL0 kept).
   1. SVC_ROUNDS round trips of SVC #0 from EL0 (X0 + 1 comes back).
   2. FAULT_PAGES not-present pages touched from EL0 (loads on even pages,
      stores on odd ones): each data abort must say EC 0x24, DFSC
      translation fault level 3, WnR as the access, FAR the address, ELR
      the instruction; the handler maps the page and the access retries.
   3. UDF and BRK #0x77 from EL0: EC 0x00 and EC 0x3C, ELR the instruction.
   4. The synthetic timer STIMER0 in direct mode (PPI 21) fires while EL0
      spins: TICKS interrupts taken through VBAR_EL1 + 0x480.
   5. Data aborts at EL1 (EC 0x25, vector + 0x200) fixed up by mapping the
      page and retrying.
   Not covered: instruction aborts, FP traps, AArch32. */
#include "runtime/synic.h"

#ifndef SVC_ROUNDS
#define SVC_ROUNDS 10000
#endif
#define FAULT_PAGES 1000
#define TICKS 10
#define EL1_FAULTS 10
#define TIMER_INTID 21
#define TIMER_PERIOD 10000ul /* 1 ms */
#define STIMER_CONFIG0 0x000B0000
#define STIMER_COUNT0 0x000B0001

/* ESR_EL1 */
#define ESR_EC(esr) ((esr) >> 26)
#define ESR_IL (1u << 25)
#define ESR_WNR (1u << 6)
#define ESR_FSC(esr) ((esr)&0x3F)
#define EC_UNKNOWN 0x00
#define EC_SVC64 0x15
#define EC_DABT_LOWER 0x24
#define EC_DABT_SAME 0x25
#define EC_BRK64 0x3C
#define FSC_TRANSLATION_L3 0x07

/* Descriptors (4 KiB granule). */
#define DESC_TABLE 0x3ul
#define DESC_BLOCK 0x1ul
#define DESC_PAGE 0x3ul
#define ATTR_NORMAL (0ul << 2) /* MAIR index 0 */
#define ATTR_DEVICE (1ul << 2) /* MAIR index 1 */
#define AP_EL1_RW (0ul << 6)
#define AP_ALL_RW (1ul << 6)
#define AP_ALL_RO (3ul << 6)
#define SH_INNER (3ul << 8)
#define AF (1ul << 10)
#define PXN (1ul << 53)
#define UXN (1ul << 54)
#define KERNEL_PAGE (ATTR_NORMAL | AP_EL1_RW | SH_INNER | AF | UXN)
#define USER_DATA (ATTR_NORMAL | AP_ALL_RW | SH_INNER | AF | UXN | PXN)
#define USER_TEXT (ATTR_NORMAL | AP_ALL_RO | SH_INNER | AF)

#define RAM_BASE 0x40000000ul
#define PAGE 4096ul
#define DEMAND_BASE 0x80000000ul /* level-1 entry 2: nothing present at first */
#define EL1_DEMAND (DEMAND_BASE + 1010 * PAGE)

struct el0_frame {
  u64 x[31];
  u64 elr, spsr, sp_el0;
};

/* Shared with the EL0 program (el0_entry.S reads it by these offsets). */
struct el0_params {
  u64 svc_rounds;   /* 0 */
  u64 fault_pages;  /* 8 */
  u64 fault_base;   /* 16 */
  u64 ticks_wanted; /* 24 */
  u64 spin_limit;   /* 32 */
  volatile u64 ticks; /* 40: counted by the kernel's timer handler */
};

u64 enter_el0(u64 pc, u64 sp, u64 arg);
void runtime_irq(void);
extern char el0_vectors[], el0_program[], el0_text_start[], el0_text_end[];

static u64 l1[512] __attribute__((aligned(4096)));
static u64 l2_ram[512] __attribute__((aligned(4096)));
static u64 l3_low[512] __attribute__((aligned(4096)));
static u64 l2_demand[512] __attribute__((aligned(4096)));
static u64 l3_demand[2][512] __attribute__((aligned(4096)));
/* The EL0 program's data and stack, and the frames not-present pages get. */
static struct el0_params params __attribute__((aligned(4096)));
static u8 user_stack[2 * 4096] __attribute__((aligned(4096)));
static u8 frames[2][4096] __attribute__((aligned(4096)));

static volatile u32 svc_calls, svc_failures, aborts_el0, abort_errors, udf_taken, brk_taken, entry_errors;
static volatile u32 el1_aborts, el1_abort_errors, el0_irqs, el1_irqs, user_failures;
static volatile u64 expected_el1_far;
static u64 user_sp;

static void tlb_sync(void) { __asm__ volatile("dsb ishst\n\ttlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory"); }

static void map_page(u64 va, u64 pa, u64 attrs) {
  u64 index = (va - DEMAND_BASE) / PAGE;
  l3_demand[index / 512][index % 512] = pa | attrs | DESC_PAGE;
  __asm__ volatile("dsb ishst\n\tisb" ::: "memory");
}

static u64 kernel_sp(void) {
  u64 sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

static void mmu_on(void) {
  /* Level 1: 0-1 GiB devices (EL1 only), 1-2 GiB RAM, 2-3 GiB demand. */
  l1[0] = 0 | DESC_BLOCK | ATTR_DEVICE | AP_EL1_RW | AF | PXN | UXN;
  l1[1] = (u64)l2_ram | DESC_TABLE;
  l1[2] = (u64)l2_demand | DESC_TABLE;
  l2_ram[0] = (u64)l3_low | DESC_TABLE;
  for (u64 i = 1; i < 512; ++i) l2_ram[i] = (RAM_BASE + i * 0x200000) | DESC_BLOCK | KERNEL_PAGE;
  for (u64 i = 0; i < 512; ++i) {
    u64 pa = RAM_BASE + i * PAGE;
    u64 attrs = KERNEL_PAGE;
    if (pa >= (u64)el0_text_start && pa < (u64)el0_text_end) attrs = USER_TEXT;
    if ((pa >= (u64)&params && pa < (u64)&params + PAGE) ||
        (pa >= (u64)user_stack && pa < (u64)user_stack + sizeof user_stack))
      attrs = USER_DATA;
    l3_low[i] = pa | attrs | DESC_PAGE;
  }
  l2_demand[0] = (u64)l3_demand[0] | DESC_TABLE;
  l2_demand[1] = (u64)l3_demand[1] | DESC_TABLE;
  write_sysreg("mair_el1", 0x00FFul);                   /* 0: normal write-back, 1: device nGnRnE */
  write_sysreg("tcr_el1", 25 | (1ul << 8) | (1ul << 10) | (3ul << 12) | (1ul << 23)); /* 39-bit VAs, no TTBR1 */
  write_sysreg("ttbr0_el1", (u64)l1);
  tlb_sync();
  write_sysreg("sctlr_el1", read_sysreg("sctlr_el1") | 1 | (1ul << 2) | (1ul << 12)); /* M, C, I */
  __asm__ volatile("isb" ::: "memory");
}

/* Synchronous exceptions from EL0. Non-zero: leave EL0. */
u64 el0_sync(struct el0_frame *f) {
  u64 esr = read_sysreg("esr_el1"), far = read_sysreg("far_el1");
  u64 sp = kernel_sp();
  /* Taken from EL0t onto SP_EL1, EL0's stack pointer kept in SP_EL0. */
  if ((f->spsr & 0x1F) != 0 || f->sp_el0 != user_sp || (sp >= (u64)user_stack && sp <= user_sp) ||
      (esr & ESR_IL) == 0 || f->elr != read_sysreg("elr_el1")) {
    if (entry_errors++ < 3) printf("FAIL: entry state esr 0x%lx spsr 0x%lx sp_el0 0x%lx\n", esr, f->spsr, f->sp_el0);
  }
  switch (ESR_EC(esr)) {
    case EC_SVC64:
      switch (esr & 0xFFFF) {
        case 0:
          f->x[0] += 1;
          svc_calls++;
          return 0;
        case 1:
          return 1;
        default:
          user_failures++;
          printf("FAIL: the EL0 program reports failure %lu at 0x%lx\n", f->x[0], f->elr);
          return 0;
      }
    case EC_DABT_LOWER: {
      u64 wnr = (esr & ESR_WNR) != 0;
      if (far != f->x[20] || wnr != f->x[21] || f->elr != f->x[22] || ESR_FSC(esr) != FSC_TRANSLATION_L3) {
        if (abort_errors++ < 3)
          printf("FAIL: EL0 abort esr 0x%lx far 0x%lx elr 0x%lx, wanted far 0x%lx write %lu elr 0x%lx\n", esr, far,
                 f->elr, f->x[20], f->x[21], f->x[22]);
        if (far < DEMAND_BASE || far >= DEMAND_BASE + FAULT_PAGES * PAGE) return 1;
      }
      map_page(far & ~(PAGE - 1), (u64)frames[aborts_el0 & 1], USER_DATA);
      aborts_el0++;
      return 0; /* the access runs again */
    }
    case EC_UNKNOWN:
    case EC_BRK64:
      if (f->elr != f->x[22] || (ESR_EC(esr) == EC_BRK64 && (esr & 0xFFFF) != 0x77) ||
          (ESR_EC(esr) == EC_UNKNOWN && (esr & 0x03FFFFFF) != ESR_IL)) {
        abort_errors++;
        printf("FAIL: esr 0x%lx elr 0x%lx, wanted elr 0x%lx\n", esr, f->elr, f->x[22]);
      }
      if (ESR_EC(esr) == EC_BRK64) brk_taken++; else udf_taken++;
      f->elr += 4;
      return 0;
    default:
      printf("FAIL: unexpected exception from EL0: esr 0x%lx far 0x%lx elr 0x%lx\n", esr, far, f->elr);
      user_failures++;
      f->x[0] = 99;
      return 1;
  }
}

u64 el0_irq(struct el0_frame *f) {
  if ((f->spsr & 0x1F) != 0) entry_errors++;
  el0_irqs++;
  runtime_irq();
  return 0;
}

u64 el1_irq(struct el0_frame *f) {
  (void)f;
  el1_irqs++;
  runtime_irq();
  return 0;
}

/* Data aborts at EL1 on the not-present pages: map and retry. */
u64 el1_sync(struct el0_frame *f) {
  u64 esr = read_sysreg("esr_el1"), far = read_sysreg("far_el1");
  if (ESR_EC(esr) != EC_DABT_SAME || far < DEMAND_BASE || far >= DEMAND_BASE + 1024 * PAGE) {
    printf("FAIL: unexpected exception at EL1: esr 0x%lx far 0x%lx elr 0x%lx\n", esr, far, f->elr);
    guest_exit(98);
  }
  if (far != expected_el1_far || ESR_FSC(esr) != FSC_TRANSLATION_L3 || (f->spsr & 0x1F) != 0x5) el1_abort_errors++;
  map_page(far & ~(PAGE - 1), (u64)frames[1], KERNEL_PAGE);
  el1_aborts++;
  return 0;
}

static void on_tick(u32 intid) {
  (void)intid;
  params.ticks++;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("el0_exceptions: start\n");
  mmu_on();
  write_sysreg("vbar_el1", (u64)el0_vectors);
  __asm__ volatile("isb" ::: "memory");
  CHECK(hv_detect()); /* HVC with the MMU on */
  check_eq((u64)synic_init(vp, 3, SINT_INTID), 0, "SynIC started");
  set_irq_handler(TIMER_INTID, on_tick);
  gic_enable_ppi(TIMER_INTID, 0x80);

  params.svc_rounds = SVC_ROUNDS;
  params.fault_pages = FAULT_PAGES;
  params.fault_base = DEMAND_BASE;
  params.ticks_wanted = TICKS;
  params.spin_limit = 100000000ul;
  user_sp = (u64)user_stack + sizeof user_stack;
  /* Timer ticks while EL0 runs (periodic, direct mode, 1 ms). */
  check_eq(hv_set_vp_register(STIMER_COUNT0, TIMER_PERIOD), 0, "STIMER0 count");
  check_eq(hv_set_vp_register(STIMER_CONFIG0, STIMER_ENABLE | STIMER_PERIODIC | STIMER_DIRECT |
                                                   STIMER_VECTOR(TIMER_INTID)),
           0, "STIMER0 direct mode");
  u64 left = enter_el0((u64)el0_program, user_sp, (u64)&params);
  check_eq(hv_set_vp_register(STIMER_CONFIG0, 0), 0, "STIMER0 stopped");
  check_eq(left, 0, "the EL0 program left by SVC #1 with 0");

  printf("el0_exceptions: %u SVC round trips, %u EL0 data aborts, %u UDF, %u BRK, %u IRQs from EL0\n", svc_calls,
         aborts_el0, udf_taken, brk_taken, el0_irqs);
  check_eq(svc_calls, SVC_ROUNDS, "SVC #0 from EL0: every round trip answered");
  check_eq(aborts_el0, FAULT_PAGES, "not-present pages from EL0: one data abort each");
  check_eq(abort_errors, 0, "EL0 data aborts: EC 0x24, DFSC translation level 3, WnR, FAR and ELR as the access");
  check_eq(udf_taken, 1, "UDF from EL0: EC 0x00, ELR the instruction");
  check_eq(brk_taken, 1, "BRK #0x77 from EL0: EC 0x3C, ELR the instruction");
  check_eq(entry_errors, 0, "entries from EL0: SPSR EL0t, handler on SP_EL1, SP_EL0 kept, IL set");
  check_eq(user_failures, 0, "the EL0 program saw every answer");
  CHECK(el0_irqs >= TICKS);
  check_eq(params.ticks >= TICKS, 1, "timer interrupts taken at EL0 (VBAR_EL1 + 0x480)");

  /* Data aborts at EL1, fixed up. */
  for (u32 i = 0; i < EL1_FAULTS; ++i) {
    volatile u64 *p = (volatile u64 *)(EL1_DEMAND + i * PAGE + 8 * i);
    expected_el1_far = (u64)p;
    if (i & 1) {
      *p = 0x5A5A0000ul + i;
    } else {
      (void)*p;
    }
    if ((i & 1) && *p != 0x5A5A0000ul + i) el1_abort_errors++;
  }
  check_eq(el1_aborts, EL1_FAULTS, "EL1 data aborts: one each, fixed up by the handler");
  check_eq(el1_abort_errors, 0, "EL1 data aborts: EC 0x25, DFSC translation level 3, FAR, SPSR EL1h");
  printf("el0_exceptions: %s\n", failures ? "FAILED" : "done");
  return 0;
}
