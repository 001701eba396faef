/* Tiny freestanding runtime for x86-64 guests of the softsynic reference
   emulator: console and exit devices, IDT with per-vector C handlers,
   MSR/CPUID/port helpers. The C library subset and PASS/FAIL reporting are
   common/guest_libc.h's. Guests define guest_main(vp, vp_count);
   runtime_start calls it on every VP. */
#ifndef SOFTSYNIC_GUEST_RUNTIME_H
#define SOFTSYNIC_GUEST_RUNTIME_H

#include "common/guest_libc.h"

#ifndef MAX_VPS
#define MAX_VPS 8
#endif

/* Debug devices of the reference emulator (emu/debug_devices.h). With
   GUEST_PC (pc-platform kernels, tests/guests/pc) the console is the 16550
   at 0x3F8 and 0xF4 is isa-debug-exit (status (code << 1) | 1). */
#define CONSOLE_PORT 0xE9
#define EXIT_PORT 0xF4
#define SERIAL_PORT 0x3F8

struct interrupt_frame {
  u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  u64 vector, error_code;
  u64 rip, cs, rflags, rsp, ss;
};

typedef void (*interrupt_handler)(struct interrupt_frame *frame);

/* Called by the guest on every VP. */
int guest_main(u32 vp, u32 vp_count);
/* Loads the IDT (VP 0 first, the others wait for it) and runs guest_main;
   the start-up code calls it on every VP. */
void runtime_start(u32 vp, u32 vp_count) __attribute__((noreturn));

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) {
  u8 v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

static inline u64 rdmsr(u32 msr) {
  u32 lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
  return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v) {
  __asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* Ends the run with `code` (the softsynic-run exit status). */
__attribute__((noreturn)) void guest_exit(u32 code);

/* Interrupts: a handler per vector; unhandled vectors fail the run. */
void set_handler(u8 vector, interrupt_handler handler);
/* The runtime's entry stub for `vector`, and pointing the IDT gate of
   `vector` elsewhere (e.g. a thunk that jumps to that stub). */
u64 interrupt_stub(u8 vector);
void set_idt_gate(u8 vector, u64 target);
/* Makes `vector` switch to the TSS's interrupt stack `ist` (1-7; 0: none). */
void set_idt_ist(u8 vector, u8 ist);
/* Sleeps until an interrupt has been handled (STI; HLT; CLI). */
void wait_for_interrupt(void);

/* #GP and #UD counters kept by the runtime's default handlers, which skip
   the faulting RDMSR/WRMSR (2 bytes) or UD2 (2 bytes) so tests can observe
   them. */
extern volatile u32 gp_count;
extern volatile u32 ud_count;
/* 1 if the access raised #GP. */
int wrmsr_faults(u32 msr, u64 value);
int rdmsr_faults(u32 msr, u64 *value);

/* Local APIC (xAPIC MMIO at 0xFEE00000). */
void apic_enable(void);
void apic_eoi(void);

/* Spin until *counter reaches target (interrupts off), sharing the CPU
   fairly with other VPs (the runner schedules slices). */
void wait_counter(volatile u32 *counter, u32 target);

#endif
