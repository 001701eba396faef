/* The PC platform's start-up stub (see pc_firmware.h). Unicorn fixes an
   engine's register view at uc_open, and only a UC_MODE_64 engine sees the
   64-bit registers the SynIC hooks need; but a 64-bit engine cannot be put
   into 32-bit or real mode from the host. Guest code can: every VP's
   engine starts here in long mode and this stub leaves it, through
   compatibility mode, in the state the guest expects:
     EBP = 0: flat 32-bit protected mode, paging off, EAX = EDI, jump to ESI
              (the multiboot entry: EDI = 0x2BADB002, EBX = info);
     EBP = 1: real mode at the far pointer `startup_target` (SIPI: CS =
              vector << 8, IP = 0), DS = ES = SS = FS = GS = 0.
   Assembled into .rodata and copied by the host into each engine's private
   ROM at kPcRomBase + kPcRomCodeOffset; the addresses below are absolute
   for that place, so keep these constants equal to pc_firmware.h's. */
    .set ROM_BASE, 0xFFFF0000
    .set CODE_OFFSET, 0x4000
    .set CODE32_SEL, 0x18
    .set DATA32_SEL, 0x20
    .set CODE16_SEL, 0x28      /* base ROM_BASE, limit 64 KiB */
    .set DATA16_SEL, 0x30      /* base 0, limit 64 KiB */
    .set EFER_MSR, 0xC0000080

    .section .rodata.softsynic_pc_stub, "a"
    .globl softsynic_pc_stub_begin, softsynic_pc_stub_end, softsynic_pc_stub_target
    .globl softsynic_pc_stub_never
    .p2align 4
softsynic_pc_stub_begin:
    .code64
    /* Far return into the 32-bit code segment (compatibility mode). The
       target is zero-extended: push $imm32 would sign-extend it. */
    movl $(stub32 - softsynic_pc_stub_begin + ROM_BASE + CODE_OFFSET), %eax
    pushq $CODE32_SEL
    pushq %rax
    lretq

    .code32
stub32:
    movw $DATA32_SEL, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    /* Paging off leaves long mode (LMA clears); then LME off, no PAE. */
    movl %cr0, %eax
    andl $0x7FFFFFFF, %eax
    movl %eax, %cr0
    movl $EFER_MSR, %ecx
    xorl %eax, %eax
    xorl %edx, %edx
    wrmsr
    movl %eax, %cr4
    movl %eax, %cr3
    testl %ebp, %ebp
    jnz to_real_mode
    movl %edi, %eax
    xorl %ecx, %ecx
    xorl %edi, %edi
    jmp *%esi

to_real_mode:
    ljmp $CODE16_SEL, $(real16 - softsynic_pc_stub_begin + CODE_OFFSET)

    .code16
real16:
    movw $DATA16_SEL, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl %cr0, %eax
    andl $0xFFFFFFFE, %eax
    movl %eax, %cr0
    /* Real mode; CS still caches the ROM base until the far jump. */
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    xorl %ebp, %ebp
    ljmpw *%cs:(softsynic_pc_stub_target - softsynic_pc_stub_begin + CODE_OFFSET)

    .p2align 2
softsynic_pc_stub_target:   /* offset, segment: written per VP */
    .word 0, 0
softsynic_pc_stub_never:    /* a mapped address no guest executes (uc_emu_start's `until`) */
    hlt
softsynic_pc_stub_end:

    .section .note.GNU-stack, "", @progbits
