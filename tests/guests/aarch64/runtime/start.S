/* aarch64 guest start-up at EL1h. The runner starts every VP here with
   X0 = VP index, X1 = VP count and SP at the VP's own stack. The VP index
   is kept in TPIDR_EL1 for the runtime. */
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

/* Registers the IRQ path saves: X0-X18, X29, X30, ELR_EL1 and SPSR_EL1
   (23 slots in a 192-byte, 16-byte aligned frame). */
    .macro save_caller_saved
    sub     sp, sp, #192
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x29, [sp, #144]
    mrs     x0, elr_el1
    mrs     x1, spsr_el1
    stp     x30, x0, [sp, #160]
    str     x1, [sp, #176]
    .endm

    .macro restore_caller_saved
    ldr     x1, [sp, #176]
    ldp     x30, x0, [sp, #160]
    msr     elr_el1, x0
    msr     spsr_el1, x1
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x29, [sp, #144]
    add     sp, sp, #192
    .endm

/* Vector table: 16 entries of 128 bytes. IRQs from EL1 (SP_EL0 or
   SP_EL1) go to runtime_irq; everything else is unexpected. */
    .macro unexpected_entry offset
    .balign 0x80
    mov     x0, #\offset
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    b       runtime_unexpected
    .endm

    .macro irq_entry
    .balign 0x80
    b       irq_common
    .endm

    .text
    .balign 0x800
vectors:
    unexpected_entry 0x000
    irq_entry
    unexpected_entry 0x100
    unexpected_entry 0x180
    unexpected_entry 0x200
    irq_entry
    unexpected_entry 0x300
    unexpected_entry 0x380
    unexpected_entry 0x400
    unexpected_entry 0x480
    unexpected_entry 0x500
    unexpected_entry 0x580
    unexpected_entry 0x600
    unexpected_entry 0x680
    unexpected_entry 0x700
    unexpected_entry 0x780

irq_common:
    save_caller_saved
    bl      runtime_irq
    restore_caller_saved
    eret
