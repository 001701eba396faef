/* el0_exceptions' vector table, EL0 entry and exit, and its EL0 program
   (Arm ARM D1 "Exception vectors"). Every entry saves the whole frame
   (runtime/exception_frame.h) on SP_EL1. */
#include "runtime/exception_frame.h"

    .macro handled handler
    .balign 0x80
    b       \handler\()_entry
    .endm

/* The C handler gets the frame; a non-zero answer leaves EL0. */
    .macro entry_stub handler
\handler\()_entry:
    save_frame
    bl      \handler
    cbnz    x0, leave_el0
    restore_frame_and_return
    .endm

    .text
    .balign 0x800
    .global el0_vectors
el0_vectors:
    unexpected 0x000
    unexpected 0x080
    unexpected 0x100
    unexpected 0x180
    handled el1_sync        /* 0x200: current EL with SP_EL1, synchronous */
    handled el1_irq         /* 0x280 */
    unexpected 0x300
    unexpected 0x380
    handled el0_sync        /* 0x400: lower EL (AArch64), synchronous */
    handled el0_irq         /* 0x480 */
    unexpected 0x500
    unexpected 0x580
    unexpected 0x600
    unexpected 0x680
    unexpected 0x700
    unexpected 0x780

    entry_stub el1_sync
    entry_stub el1_irq
    entry_stub el0_sync
    entry_stub el0_irq

/* u64 enter_el0(u64 pc, u64 sp, u64 arg): runs pc at EL0 with interrupts
   unmasked, SP_EL0 = sp, X0 = arg; returns when a handler asks to leave
   (a non-zero answer), with the frame's X0. */
    .global enter_el0
enter_el0:
    stp     x29, x30, [sp, #-96]!
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    adr     x9, kernel_sp
    mov     x10, sp
    str     x10, [x9]
    msr     elr_el1, x0
    msr     sp_el0, x1
    msr     spsr_el1, xzr           /* EL0t, DAIF clear */
    mov     x0, x2
    eret
leave_el0:
    ldr     x0, [sp, #0]            /* the frame's X0 */
    adr     x9, kernel_sp
    ldr     x10, [x9]
    mov     sp, x10
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #96
    ret

    .data
    .balign 8
kernel_sp:
    .quad   0

/* The EL0 program, on its own pages (mapped read-only and executable at
   EL0). X0 points at struct el0_params (el0_exceptions.c). System calls:
   SVC #0 answers X0 + 1, SVC #1 leaves EL0 with X0, SVC #2 reports a
   failure (X0 = code). Before each fault the program names what the
   kernel must see: X20 = the address, X21 = 1 for a write, X22 = the
   faulting instruction. */
    .section .text.el0, "ax"
    .balign 4096
    .global el0_text_start
el0_text_start:
    .global el0_program
el0_program:
    mov     x28, x0
    /* SVC round trips. */
    ldr     x23, [x28, #0]          /* svc_rounds */
    mov     x19, #0
1:  cbz     x23, 3f
    mov     x0, x19
    svc     #0
    add     x1, x19, #1
    cmp     x0, x1
    b.eq    2f
    mov     x0, #1
    svc     #2
2:  add     x19, x19, #1
    cmp     x19, x23
    b.lo    1b
3:  /* Not-present pages: loads on even pages, stores on odd ones. */
    ldr     x23, [x28, #8]          /* fault_pages */
    ldr     x24, [x28, #16]         /* fault_base */
    mov     x19, #0
4:  cmp     x19, x23
    b.hs    7f
    lsl     x20, x19, #12
    add     x20, x20, x24
    and     x1, x19, #0x1ff
    add     x20, x20, x1, lsl #3    /* a different offset in each page */
    and     x21, x19, #1
    cbnz    x21, 5f
    adr     x22, 41f
41: ldr     x2, [x20]
    b       6f
5:  adr     x22, 51f
51: str     x19, [x20]
    ldr     x2, [x20]
    cmp     x2, x19
    b.eq    6f
    mov     x0, #2
    svc     #2
6:  add     x19, x19, #1
    b       4b
7:  /* An undefined instruction and a breakpoint. */
    mov     x20, #0
    mov     x21, #0
    adr     x22, 71f
71: udf     #0x5a
    adr     x22, 72f
72: brk     #0x77
    /* Timer interrupts taken here, at EL0: spin until the kernel's
       handler has counted ticks_wanted of them in el0_params.ticks. */
    ldr     x23, [x28, #24]         /* ticks_wanted */
    ldr     x24, [x28, #32]         /* spin_limit */
    mov     x19, #0
8:  ldr     x1, [x28, #40]          /* ticks */
    cmp     x1, x23
    b.hs    9f
    add     x19, x19, #1
    cmp     x19, x24
    b.lo    8b
    mov     x0, #3
    svc     #2
9:  mov     x0, #0
    svc     #1
    b       .
    .balign 4096
    .global el0_text_end
el0_text_end:
