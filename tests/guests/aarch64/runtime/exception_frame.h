/* Assembler macros of the aarch64 guests' vector tables (included by the
   .S files; Arm ARM D1 "Exception vectors"). The frame (struct el0_frame
   in el0_exceptions.c): X0-X30, ELR_EL1, SPSR_EL1, SP_EL0, 272 bytes,
   16-byte aligned, on the handler's stack. */
#ifndef SOFTSYNIC_GUEST_EXCEPTION_FRAME_H
#define SOFTSYNIC_GUEST_EXCEPTION_FRAME_H

/* Saves the frame and leaves X0 pointing at it. */
    .macro save_frame
    sub     sp, sp, #272
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x0, elr_el1
    stp     x30, x0, [sp, #240]
    mrs     x0, spsr_el1
    mrs     x1, sp_el0
    stp     x0, x1, [sp, #256]
    mov     x0, sp
    .endm

    .macro restore_frame_and_return
    ldp     x0, x1, [sp, #256]
    msr     spsr_el1, x0
    msr     sp_el0, x1
    ldp     x30, x0, [sp, #240]
    msr     elr_el1, x0
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    add     sp, sp, #272
    eret
    .endm

/* A vector entry the guest does not expect: runtime_unexpected(offset,
   ESR_EL1, ELR_EL1) reports it and ends the run. */
    .macro unexpected offset
    .balign 0x80
    mov     x0, #\offset
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    b       runtime_unexpected
    .endm

#endif
