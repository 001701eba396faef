/* pc-platform kernels: multiboot start (pc_boot.S, pc_runtime.c) on top
   of the x86-64 guest runtime. */
#ifndef SOFTSYNIC_PC_RUNTIME_H
#define SOFTSYNIC_PC_RUNTIME_H

#include "runtime/runtime.h"

/* Multiboot v1 boot information (the fields these kernels read). */
struct multiboot_info {
  u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
};

const struct multiboot_info *pc_boot_info(void);
u32 fw_cfg_u16(u16 key);
void pc_bsp_main(u32 info);
void pc_ap_main(u32 apic_id);

/* Gives VP `vp` a 64-bit TSS whose IST1 is `ist1_top` (a stack's top) in
   the runtime's GDT (the boot GDT's code and data selectors, ring-3 data
   and code, and one TSS descriptor per VP) and loads it (ltr). */
void pc_load_tss(u32 vp, u64 ist1_top);
/* The stack the CPU switches to when an event is taken in ring 3 (TSS
   RSP0); set before pc_load_tss or any time after. */
void pc_set_rsp0(u32 vp, u64 rsp0_top);

/* 1 if the kernel command line holds `word`. */
int pc_cmdline_has(const char *word);

/* A fixed IPI of `vector` to the VP whose APIC ID is `dest` (xAPIC ICR,
   physical destination). */
void pc_send_ipi(u32 dest, u8 vector);

/* QEMU's hyperv-testdev at port 0x3000 (devices/pc/hyperv_test_device.h). */
#define TESTDEV_PORT 0x3000
#define TESTDEV_ROUTE_CREATE 1
#define TESTDEV_ROUTE_DESTROY 2
#define TESTDEV_SET_SINT 3
#define TESTDEV_MSG_CONN_CREATE 4
#define TESTDEV_MSG_CONN_DESTROY 5
#define TESTDEV_EVT_CONN_CREATE 6
#define TESTDEV_EVT_CONN_DESTROY 7
static inline void testdev(u32 conn, u32 control, u32 vp, u32 sint) {
  outl(TESTDEV_PORT, conn << 24 | control << 16 | vp << 8 | sint);
}

#endif
