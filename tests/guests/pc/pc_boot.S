/* Multiboot v1 start-up for the pc-platform test kernels (loaded by
   softsynic-run --platform pc like QEMU's -kernel). The BSP enters at
   pc_start32 in flat 32-bit protected mode with EBX = boot information; it
   builds identity page tables for 4 GiB (2 MiB pages), enters long mode and
   calls pc_bsp_main(info). APs start in real mode at the SIPI page, where
   pc_bsp_main copied ap_trampoline: it loads a 32-bit GDT, enters protected
   mode, then long mode on the same tables, and calls pc_ap_main(apic_id)
   on their own stack. As in kvm-unit-tests, the 32-bit code runs on a GDT
   whose selector 0x08 is 32-bit code, and the far jump into 64-bit code
   reuses 0x08 in the 64-bit GDT. */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0
    .set CODE64, 0x08       /* gdt64 */
    .set DATA, 0x10
    .set CODE32, 0x08       /* gdt32 */
    .set DATA32, 0x10
    .set AP_STACK_SIZE, 16384

    .section .multiboot, "a"
    .p2align 2
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

/* PAE, page tables, EFER.LME, paging: long mode (compatibility until the
   far jump). */
    .macro enter_long_mode
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax
    movl %eax, %cr0
    lgdtl gdt64_descriptor
    .endm

    .section .text.start, "ax"
    .code32
    .globl pc_start32
pc_start32:
    movl %ebx, boot_info
    lgdtl gdt32_descriptor
    ljmp $CODE32, $1f
1:  movw $DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $bsp_stack_top, %esp
#ifdef EARLY_UD
    ud2     /* an exception before long mode: the run must end (status 121) */
#endif
    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
    movl $pdpt + 3, pml4
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $12, %eax
    addl $page_directories + 3, %eax
    movl %eax, pdpt(, %ecx, 8)
    incl %ecx
    cmpl $4, %ecx
    jne 2b
    xorl %ecx, %ecx
3:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, page_directories(, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jne 3b
    enter_long_mode
    ljmp $CODE64, $bsp_start64

    .code64
bsp_start64:
    movw $DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movabsq $bsp_stack_top, %rsp
    movl boot_info, %edi
    cld
    call pc_bsp_main
4:  cli
    hlt
    jmp 4b

    .code32
ap_start32:
    movw $DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    enter_long_mode
    ljmp $CODE64, $ap_start64

    .code64
ap_start64:
    movw $DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $0xFEE00020, %eax         /* xAPIC ID register: ID in bits 31-24 */
    movl (%rax), %edi
    shrl $24, %edi
    movl %edi, %eax
    incl %eax
    imull $AP_STACK_SIZE, %eax
    movabsq $ap_stacks, %rsp
    addq %rax, %rsp
    cld
    call pc_ap_main
5:  cli
    hlt
    jmp 5b

/* Copied to the SIPI page: position-independent 16-bit code (CS = page >> 4). */
    .code16
    .globl ap_trampoline, ap_trampoline_end
ap_trampoline:
    cli
    movw %cs, %ax
    movw %ax, %ds
    lgdtl (tramp_gdtr - ap_trampoline)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl *(tramp_far - ap_trampoline)
    .p2align 2
tramp_gdtr:
    .word gdt32_end - gdt32 - 1
    .long gdt32
tramp_far:
    .long ap_start32
    .word CODE32
ap_trampoline_end:

    .data
    .p2align 3
gdt32:
    .quad 0
    .quad 0x00CF9A000000FFFF    /* 0x08 32-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10 data */
gdt32_end:
gdt64:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 0x08 64-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10 data */
gdt64_end:
gdt32_descriptor:
    .word gdt32_end - gdt32 - 1
    .long gdt32
gdt64_descriptor:
    .word gdt64_end - gdt64 - 1
    .quad gdt64
    .globl boot_info
boot_info:
    .long 0

    .bss
    .p2align 12
    .globl pml4, high_pdpt, high_pd, high_pt
pml4:   .skip 4096
pdpt:   .skip 4096
page_directories: .skip 4 * 4096
/* Spare tables for a kernel that maps the top of the address space. */
high_pdpt: .skip 4096
high_pd: .skip 4096
high_pt: .skip 4096
    .p2align 4
    .skip 16384
bsp_stack_top:
    .globl ap_stacks
ap_stacks:
    .skip AP_STACK_SIZE * 9

    .section .note.GNU-stack, "", @progbits
