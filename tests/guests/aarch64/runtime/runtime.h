/* Tiny freestanding runtime for aarch64 guests of the softsynic reference
   emulator: console and exit devices (MMIO), the vector table with an IRQ
   path through the GICv3 CPU interface, per-INTID C handlers, PASS/FAIL
   reporting. Guests run at EL1h with the MMU off and IRQs masked except
   inside wait_for_interrupt(). The C library subset, printf and
   reporting come from common/guest_libc.h. Guests define guest_main(vp, vp_count);
   runtime_start calls it on every VP. */
#ifndef SOFTSYNIC_GUEST_RUNTIME_H
#define SOFTSYNIC_GUEST_RUNTIME_H

#include "common/hv_guest.h"

/* Debug devices of the reference emulator (emu/debug_devices.h). */
#define DEBUG_MMIO_BASE 0x09000000ul
#define CONSOLE_OFFSET 0x0
#define EXIT_OFFSET 0x4

/* GICv3 redistributors (emu/arm64/platform.h): one 128 KiB pair of frames
   per VP; the SGI/PPI frame is the second. */
#define GICR_BASE 0x080A0000ul
#define GICR_FRAME_SIZE 0x20000ul
#define GICR_SGI_FRAME 0x10000ul
#define GICR_WAKER 0x0014
#define GICR_ISENABLER0 0x0100
#define GICR_IPRIORITYR0 0x0400
#define GIC_SPURIOUS 1023

/* The PPI the guests use for the SynIC (any of 16-31 works). */
#define SINT_INTID 20

typedef void (*irq_handler)(u32 intid);

/* Called by the runtime on every VP. */
int guest_main(u32 vp, u32 vp_count);

/* GICv3 CPU-interface registers by encoding (the assembler needs no GIC
   support for these spellings). */
#define ICC_PMR_EL1 "s3_0_c4_c6_0"
#define ICC_IAR1_EL1 "s3_0_c12_c12_0"
#define ICC_EOIR1_EL1 "s3_0_c12_c12_1"
#define ICC_BPR1_EL1 "s3_0_c12_c12_3"
#define ICC_CTLR_EL1 "s3_0_c12_c12_4"
#define ICC_SRE_EL1 "s3_0_c12_c12_5"
#define ICC_IGRPEN1_EL1 "s3_0_c12_c12_7"

#define read_sysreg(name)                                  \
  ({                                                       \
    u64 v_;                                                \
    __asm__ volatile("mrs %0, " name : "=r"(v_)::"memory"); \
    v_;                                                    \
  })
#define write_sysreg(name, v) __asm__ volatile("msr " name ", %0" ::"r"((u64)(v)) : "memory")

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("nop" ::: "memory"); }
static inline u32 current_vp(void) { return (u32)read_sysreg("tpidr_el1"); }
static inline void mmio_write8(u64 addr, u8 v) { *(volatile u8 *)addr = v; }
static inline void mmio_write32(u64 addr, u32 v) { *(volatile u32 *)addr = v; }
static inline u32 mmio_read32(u64 addr) { return *(volatile u32 *)addr; }

/* Ends the run with `code` (the softsynic-run exit status). */
__attribute__((noreturn)) void guest_exit(u32 code);

/* GIC: the runtime wakes this VP's redistributor and enables the CPU
   interface (SRE, PMR, group 1) before guest_main. */
void gic_enable_ppi(u32 intid, u8 priority);
void set_irq_handler(u32 intid, irq_handler handler);
/* Interrupts handled on each VP (every acknowledged INTID counts). */
extern volatile u32 handled_interrupts[MAX_VPS];
/* Sleeps until at least one interrupt has been handled on this VP: WFI
   with IRQs masked (it still wakes), then a short unmasked window. */
void wait_for_interrupt(void);

/* Spin until *counter reaches target, sharing the CPU with other VPs (the
   runner schedules slices). */
void wait_counter(volatile u32 *counter, u32 target);

#endif
