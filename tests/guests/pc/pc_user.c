/* Ring 3 for pc kernels; see pc_user.h. */
#include "pc/pc_user.h"

#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_FMASK 0xC0000084u
#define EFER_SCE 1ul
#define RFLAGS_TF (1ul << 8)
#define RFLAGS_IF (1ul << 9)
#define RFLAGS_DF (1ul << 10)
#define RFLAGS_AC (1ul << 18)
#define STACK_BYTES 16384

extern char syscall_entry[];
/* Used by pc_user_entry.S. */
u64 syscall_stack_top, user_stack_top;
syscall_handler pc_syscall_handler;

static u8 rsp0_stack[STACK_BYTES] __attribute__((aligned(16)));
static u8 ist1_stack[STACK_BYTES] __attribute__((aligned(16)));
static u8 syscall_stack[STACK_BYTES] __attribute__((aligned(16)));
static u8 user_stack[STACK_BYTES] __attribute__((aligned(16)));

u64 user_rsp0_top(void) { return (u64)rsp0_stack + sizeof rsp0_stack; }
u64 user_rsp0_bottom(void) { return (u64)rsp0_stack; }
u64 user_ist1_top(void) { return (u64)ist1_stack + sizeof ist1_stack; }
u64 user_ist1_bottom(void) { return (u64)ist1_stack; }

void user_init(syscall_handler handler) {
  paging_init();
  pc_syscall_handler = handler;
  syscall_stack_top = (u64)syscall_stack + sizeof syscall_stack;
  user_stack_top = (u64)user_stack + sizeof user_stack;
  pc_set_rsp0(0, user_rsp0_top());
  pc_load_tss(0, user_ist1_top());
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
  /* SYSRET: SS = 0x10 + 8, CS = 0x10 + 16 (RPL 3); SYSCALL: CS 0x08, SS 0x10. */
  wrmsr(MSR_STAR, (0x10ul << 48) | ((u64)KERNEL_CS << 32));
  wrmsr(MSR_LSTAR, (u64)syscall_entry);
  wrmsr(MSR_FMASK, RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_AC);
}
