/* pc-platform start-up in C: the BSP reads the CPU count from fw_cfg,
   starts the APs with INIT and one SIPI (as kvm-unit-tests does: all but
   self, vector SIPI_PAGE >> 12) and waits until every AP reports; then each
   VP enters the common x86-64 runtime (runtime_start -> guest_main). */
#include "pc/pc_runtime.h"

#ifndef SIPI_PAGE
#define SIPI_PAGE 0x0
#endif

#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_NB_CPUS 0x05
#define APIC_ICR_LOW 0xFEE00300ul
#define APIC_ICR_HIGH 0xFEE00310ul
#define ICR_BUSY (1u << 12)
#define ICR_INIT_ALL_BUT_SELF 0x000C4500u
#define ICR_SIPI_ALL_BUT_SELF 0x000C0600u
#define ICR_ASSERT (1u << 14)

extern char ap_trampoline[], ap_trampoline_end[];

static u32 vp_total;
static volatile u32 aps_online;
static u32 info_address;

u32 fw_cfg_u16(u16 key) {
  outw(FW_CFG_SELECTOR, key);
  u32 lo = inb(FW_CFG_DATA);
  u32 hi = inb(FW_CFG_DATA);
  return lo | hi << 8;
}

const struct multiboot_info *pc_boot_info(void) { return (const struct multiboot_info *)(u64)info_address; }

int pc_cmdline_has(const char *word) {
  for (const char *s = (const char *)(u64)pc_boot_info()->cmdline; *s; ++s) {
    const char *a = s, *b = word;
    while (*a && *b && *a == *b) ++a, ++b;
    if (!*b) return 1;
  }
  return 0;
}

static void icr_send_to(u32 dest, u32 low) {
  while (*(volatile u32 *)APIC_ICR_LOW & ICR_BUSY) cpu_relax();
  *(volatile u32 *)APIC_ICR_HIGH = dest << 24;
  *(volatile u32 *)APIC_ICR_LOW = low;
}
static void icr_send(u32 low) { icr_send_to(0, low); }

void pc_send_ipi(u32 dest, u8 vector) { icr_send_to(dest, ICR_ASSERT | vector); }

void pc_bsp_main(u32 info) {
  info_address = info;
  vp_total = fw_cfg_u16(FW_CFG_NB_CPUS);
  const struct multiboot_info *mbi = pc_boot_info();
  printf("pc: multiboot flags 0x%x mem_upper %u KiB cmdline '%s', %u CPUs (fw_cfg)\n", mbi->flags, mbi->mem_upper,
         (const char *)(u64)mbi->cmdline, vp_total);
  if (vp_total == 0 || vp_total > MAX_VPS) {
    printf("FAIL: fw_cfg CPU count %u (this kernel handles 1..%u)\n", vp_total, MAX_VPS);
    guest_exit(3);
  }
  if (vp_total > 1) {
    /* rep movsb, not memcpy: the SIPI page may be address 0. */
    usize n = (usize)(ap_trampoline_end - ap_trampoline);
    void *dst = (void *)(usize)SIPI_PAGE;
    const void *src = ap_trampoline;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    icr_send(ICR_INIT_ALL_BUT_SELF);
    icr_send(ICR_SIPI_ALL_BUT_SELF | (SIPI_PAGE >> 12));
    for (u64 spins = 0; aps_online < vp_total - 1; ++spins) {
      if (spins > 100000000ul) {
        printf("FAIL: %u of %u APs came up\n", aps_online, vp_total - 1);
        guest_exit(4);
      }
      cpu_relax();
    }
    printf("pc: %u APs online (SIPI page 0x%x)\n", vp_total - 1, SIPI_PAGE);
  }
  runtime_start(0, vp_total);
}

void pc_ap_main(u32 apic_id) {
  atomic_inc(&aps_online);
  runtime_start(apic_id, vp_total);
}

/* 64-bit TSS (SDM vol. 3, 8.7): only the interrupt stack table is used. */
struct __attribute__((packed)) tss64 {
  u32 reserved0;
  u64 rsp[3];
  u64 reserved1;
  u64 ist[7];
  u64 reserved2;
  u16 reserved3, iomap_base;
};

#define GDT_TSS_FIRST 5
static struct tss64 tss[MAX_VPS];
/* Null, 64-bit code (0x08) and data (0x10) as pc_boot.S's, ring-3 data
   (0x18) and 64-bit code (0x20) where SYSRET finds them (pc_user.h), then a
   16-byte TSS descriptor per VP. */
static u64 gdt[GDT_TSS_FIRST + 2 * MAX_VPS] __attribute__((aligned(16))) = {
    0, 0x00AF9A000000FFFFul, 0x00CF92000000FFFFul, 0x00CFF2000000FFFFul, 0x00AFFA000000FFFFul};

void pc_set_rsp0(u32 vp, u64 rsp0_top) { tss[vp].rsp[0] = rsp0_top; }

void pc_load_tss(u32 vp, u64 ist1_top) {
  tss[vp].ist[0] = ist1_top;
  tss[vp].iomap_base = sizeof(struct tss64); /* no I/O bitmap */
  u64 base = (u64)&tss[vp], limit = sizeof(struct tss64) - 1;
  u32 index = GDT_TSS_FIRST + 2 * vp;
  /* Present, type 9 (available 64-bit TSS). */
  gdt[index] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ul << 40 | (limit >> 16 & 0xF) << 48 |
               (base >> 24 & 0xFF) << 56;
  gdt[index + 1] = base >> 32;
  struct __attribute__((packed)) {
    u16 limit;
    u64 base;
  } gdtr = {sizeof gdt - 1, (u64)gdt};
  /* The code and data selectors keep their meaning: no segment reload. */
  __asm__ volatile("lgdt %0; ltr %w1" ::"m"(gdtr), "r"(index * 8) : "memory");
}
