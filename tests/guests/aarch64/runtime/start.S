/* aarch64 guest start-up at EL1h. The runner starts every VP here with
   X0 = VP index, X1 = VP count and SP at the VP's own stack. The VP index
   is kept in TPIDR_EL1 for the runtime. */
#include "runtime/exception_frame.h"

    .section .text.start, "ax"
    .global _start
_start:
    msr     tpidr_el1, x0
    adr     x2, vectors
    msr     vbar_el1, x2
    isb
    bl      runtime_start
1:  msr     daifset, #0xf
    wfi
    b       1b

/* Vector table: 16 entries of 128 bytes. IRQs from EL1 (SP_EL0 or
   SP_EL1) go to runtime_irq; everything else is unexpected. */
    .macro irq_entry
    .balign 0x80
    b       irq_common
    .endm

    .text
    .balign 0x800
vectors:
    unexpected 0x000
    irq_entry
    unexpected 0x100
    unexpected 0x180
    unexpected 0x200
    irq_entry
    unexpected 0x300
    unexpected 0x380
    unexpected 0x400
    unexpected 0x480
    unexpected 0x500
    unexpected 0x580
    unexpected 0x600
    unexpected 0x680
    unexpected 0x700
    unexpected 0x780

irq_common:
    save_frame
    bl      runtime_irq
    restore_frame_and_return
