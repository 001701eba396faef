/* The aarch64 guest runtime: console, exit, GIC CPU interface, IRQ
   dispatch. */
#include "runtime/runtime.h"

static irq_handler handlers[32];
volatile u32 handled_interrupts[MAX_VPS];

void putc(char c) { mmio_write8(DEBUG_MMIO_BASE + CONSOLE_OFFSET, (u8)c); }
void guest_exit(u32 code) {
  for (;;) mmio_write32(DEBUG_MMIO_BASE + EXIT_OFFSET, code);
}

static u64 sgi_frame(u32 vp) { return GICR_BASE + vp * GICR_FRAME_SIZE + GICR_SGI_FRAME; }

static void gic_cpu_init(u32 vp) {
  u64 rd = GICR_BASE + vp * GICR_FRAME_SIZE;
  mmio_write32(rd + GICR_WAKER, 0); /* clear ProcessorSleep */
  while (mmio_read32(rd + GICR_WAKER) & 0x4) cpu_relax();
  write_sysreg(ICC_SRE_EL1, 0x7);
  __asm__ volatile("isb");
  write_sysreg(ICC_PMR_EL1, 0xF0);
  write_sysreg(ICC_BPR1_EL1, 0);
  write_sysreg(ICC_CTLR_EL1, 0); /* EOImode 0: EOIR also deactivates */
  write_sysreg(ICC_IGRPEN1_EL1, 1);
}

void gic_enable_ppi(u32 intid, u8 priority) {
  u32 vp = current_vp();
  *(volatile u8 *)(sgi_frame(vp) + GICR_IPRIORITYR0 + intid) = priority;
  mmio_write32(sgi_frame(vp) + GICR_ISENABLER0, 1u << intid);
}

void set_irq_handler(u32 intid, irq_handler handler) {
  if (intid < 32) handlers[intid] = handler;
}

/* Called from the vector table with IRQs masked. */
void runtime_irq(void) {
  u32 vp = current_vp();
  for (;;) {
    u32 intid = (u32)read_sysreg(ICC_IAR1_EL1) & 0xFFFFFF;
    if (intid >= 1020) break;
    if (intid < 32 && handlers[intid]) {
      handlers[intid](intid);
    } else {
      atomic_inc(&failures);
      printf("FAIL: unexpected INTID %u on vp%u\n", intid, vp);
    }
    write_sysreg(ICC_EOIR1_EL1, intid);
    handled_interrupts[vp % MAX_VPS]++;
  }
}

void runtime_unexpected(u64 offset, u64 esr, u64 elr) {
  printf("FAIL: unexpected exception vector 0x%lx esr 0x%lx elr 0x%lx\n", offset, esr, elr);
  guest_exit(99);
}

void wait_for_interrupt(void) {
  u32 vp = current_vp() % MAX_VPS;
  u32 before = handled_interrupts[vp];
  while (handled_interrupts[vp] == before) {
    /* WFI wakes on a pending IRQ even while masked; the IRQ is taken in
       the unmasked window, so none slips in between the check and WFI. */
    __asm__ volatile("wfi\n\tmsr daifclr, #2\n\tisb\n\tmsr daifset, #2" ::: "memory");
  }
}

void wait_counter(volatile u32 *counter, u32 target) {
  while (*counter < target) cpu_relax();
}

void runtime_start(u32 vp, u32 vp_count) {
  gic_cpu_init(vp);
  int rc = guest_main(vp, vp_count);
  if (vp == 0) guest_exit(rc != 0 ? (u32)rc : (failures ? 1 : 0));
  /* Other VPs keep taking interrupts until VP 0 ends the run. */
  for (;;) wait_for_interrupt();
}
