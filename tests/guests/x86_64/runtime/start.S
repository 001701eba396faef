/* Guest start-up and interrupt entry stubs (x86-64, ring 0, long mode with
   identity paging as the runner leaves it: RDI = VP index, RSI = VP count,
   RSP = this VP's stack). */
    .section .text.start, "ax"
    .globl _start
_start:
    cld
    andq $-16, %rsp
    call runtime_start
1:  cli
    hlt
    jmp 1b

/* One stub per vector: push a dummy error code where the CPU pushes none,
   push the vector, then save the general registers and call
   runtime_interrupt(frame). */
    .text
    .macro stub vec
    .align 16
stub_\vec:
    .if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushq $0
    .endif
    pushq $\vec
    jmp interrupt_common
    .endm

    .globl interrupt_stubs
    .align 16
interrupt_stubs:
    .altmacro
    .set vec, 0
    .rept 256
    stub %vec
    .set vec, vec + 1
    .endr

interrupt_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    movq %rsp, %rbx
    andq $-16, %rsp
    call runtime_interrupt
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq
