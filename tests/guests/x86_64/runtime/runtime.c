/* The x86-64 guest runtime: console, exit, IDT, default handlers. */
#include "runtime/runtime.h"


struct idt_entry {
  u16 offset_low, selector;
  u8 ist, type_attr;
  u16 offset_mid;
  u32 offset_high, reserved;
};

extern char interrupt_stubs[];
static struct idt_entry idt[256] __attribute__((aligned(16)));
static interrupt_handler handlers[256];
volatile u32 gp_count;
volatile u32 ud_count;
static volatile u32 handled_interrupts[MAX_VPS];
static volatile u32 idt_loaded;

#ifdef GUEST_PC
static void serial_byte(u8 b) {
  while (!(inb(SERIAL_PORT + 5) & 0x20)) cpu_relax(); /* LSR: transmitter ready */
  outb(SERIAL_PORT, b);
}
void putc(char c) {
  if (c == '\n') serial_byte('\r'); /* as serial drivers do */
  serial_byte((u8)c);
}
#else
void putc(char c) { outb(CONSOLE_PORT, (u8)c); }
#endif
void guest_exit(u32 code) {
  for (;;) outl(EXIT_PORT, code);
}

void set_handler(u8 vector, interrupt_handler handler) { handlers[vector] = handler; }

static u32 current_vp(void) { return (u32)rdmsr(0x40000002) % MAX_VPS; }

void runtime_interrupt(struct interrupt_frame *frame) {
  u8 vector = (u8)frame->vector;
  const u8 *code = (const u8 *)frame->rip;
  if (handlers[vector]) {
    handlers[vector](frame);
  } else if (vector == 13 && code[0] == 0x0F && (code[1] == 0x30 || code[1] == 0x32)) {
    atomic_inc(&gp_count);
    frame->rip += 2;
  } else if (vector == 6 && code[0] == 0x0F && code[1] == 0x0B) {
    atomic_inc(&ud_count);
    frame->rip += 2;
  } else {
    printf("FAIL: unexpected vector %u at rip 0x%lx error 0x%lx\n", vector, frame->rip, frame->error_code);
    guest_exit(99);
  }
  handled_interrupts[current_vp()]++;
}

void wait_for_interrupt(void) {
  u32 vp = current_vp();
  u32 before = handled_interrupts[vp];
  while (handled_interrupts[vp] == before) __asm__ volatile("sti; hlt; cli" ::: "memory");
}

int wrmsr_faults(u32 msr, u64 value) {
  u32 before = gp_count;
  wrmsr(msr, value);
  return gp_count != before;
}

int rdmsr_faults(u32 msr, u64 *value) {
  u32 before = gp_count;
  *value = rdmsr(msr);
  return gp_count != before;
}

#define APIC_BASE 0xFEE00000ul
#define APIC_TPR 0x80
#define APIC_EOI 0xB0
#define APIC_SVR 0xF0

static inline void apic_write(u32 offset, u32 v) { *(volatile u32 *)(APIC_BASE + offset) = v; }

void apic_enable(void) {
  apic_write(APIC_TPR, 0);
  apic_write(APIC_SVR, 0x1FF); /* software enable, spurious vector 0xFF */
}

void apic_eoi(void) { apic_write(APIC_EOI, 0); }

void wait_counter(volatile u32 *counter, u32 target) {
  while (*counter < target) cpu_relax();
}

u64 interrupt_stub(u8 vector) { return (u64)(interrupt_stubs + 16 * vector); }

void set_idt_gate(u8 vector, u64 h) {
  idt[vector].offset_low = (u16)h;
  idt[vector].offset_mid = (u16)(h >> 16);
  idt[vector].offset_high = (u32)(h >> 32);
}

void set_idt_ist(u8 vector, u8 ist) { idt[vector].ist = ist; }

static void load_idt(void) {
  for (int v = 0; v < 256; ++v) {
    u64 h = interrupt_stub((u8)v);
    idt[v].offset_low = (u16)h;
    idt[v].selector = 0x08;
    idt[v].ist = 0;
    idt[v].type_attr = 0x8E; /* present, ring 0, 64-bit interrupt gate */
    idt[v].offset_mid = (u16)(h >> 16);
    idt[v].offset_high = (u32)(h >> 32);
    idt[v].reserved = 0;
  }
  struct __attribute__((packed)) {
    u16 limit;
    u64 base;
  } idtr = {sizeof idt - 1, (u64)idt};
  __asm__ volatile("lidt %0" ::"m"(idtr));
}

void runtime_start(u32 vp, u32 vp_count) {
  if (vp == 0) {
    load_idt();
    idt_loaded = 1;
  } else {
    while (!idt_loaded) cpu_relax();
    struct __attribute__((packed)) {
      u16 limit;
      u64 base;
    } idtr = {sizeof idt - 1, (u64)idt};
    __asm__ volatile("lidt %0" ::"m"(idtr));
  }
  int rc = guest_main(vp, vp_count);
  if (vp == 0) guest_exit(rc != 0 ? (u32)rc : (failures ? 1 : 0));
  for (;;) __asm__ volatile("cli; hlt");
}
