/* Ring-3 entry and exit for pc kernels (pc_user.h). */
    .text
/* u64 user_call(u64 (*fn)(u64) = RDI, u64 arg = RSI): keeps the kernel's
   callee-saved registers and RSP, then IRETQ to user_thunk in ring 3. */
    .globl user_call
user_call:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, kernel_resume_rsp(%rip)
    movq user_stack_top(%rip), %rax
    pushq $0x1B              /* SS */
    pushq %rax               /* RSP */
    pushq $0x202             /* RFLAGS: IF */
    pushq $0x23              /* CS */
    leaq user_thunk(%rip), %rax
    pushq %rax               /* RIP */
    iretq

/* Ring 3: fn(arg), then SYS_EXIT with its result. */
user_thunk:
    xchgq %rdi, %rsi
    call *%rsi
    movq %rax, %rdi
    xorl %eax, %eax
    syscall
    ud2

/* LSTAR (FMASK cleared IF): RAX = nr, RDI = arg; RCX and R11 hold the
   return RIP and RFLAGS for SYSRETQ. The stack: 8 pushes keep the call
   16-byte aligned. */
    .globl syscall_entry
syscall_entry:
    testq %rax, %rax
    jz 1f
    movq %rsp, user_rsp(%rip)
    movq syscall_stack_top(%rip), %rsp
    pushq %rcx
    pushq %r11
    /* Ring 3 loses only RAX, RCX and R11, as Linux's ABI. */
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %r8
    pushq %r9
    pushq %r10
    movq %rdi, %rsi
    movq %rax, %rdi
    call *pc_syscall_handler(%rip)
    popq %r10
    popq %r9
    popq %r8
    popq %rdx
    popq %rsi
    popq %rdi
    popq %r11
    popq %rcx
    movq user_rsp(%rip), %rsp
    sysretq
1:  /* SYS_EXIT: back into user_call's frame, in ring 0 already. */
    movq %rdi, %rax
    movq kernel_resume_rsp(%rip), %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret

    .bss
    .align 8
kernel_resume_rsp: .quad 0
user_rsp: .quad 0
