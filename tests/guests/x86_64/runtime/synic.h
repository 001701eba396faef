/* x86-64 guest side of the Hyper-V SynIC for the test guests: CPUID
   discovery, the synthetic MSRs, the Linux driver's start-up sequence and
   hypercalls through the hypercall page (or a bare VMCALL). Messages,
   events and host commands are common/hv_guest.h's. Numbers from the TLFS
   (see the project's facts sheet). */
#ifndef SOFTSYNIC_GUEST_SYNIC_H
#define SOFTSYNIC_GUEST_SYNIC_H

#include "common/hv_guest.h"
#include "runtime/runtime.h"

#define HV_MSR_GUEST_OS_ID 0x40000000
#define HV_MSR_HYPERCALL 0x40000001
#define HV_MSR_VP_INDEX 0x40000002
#define HV_MSR_SCONTROL 0x40000080
#define HV_MSR_SVERSION 0x40000081
#define HV_MSR_SIEFP 0x40000082
#define HV_MSR_SIMP 0x40000083
#define HV_MSR_EOM 0x40000084
#define HV_MSR_SINT0 0x40000090

/* 1 when CPUID shows "Microsoft Hv", "Hv#1" and the HYPERCALL and VP_INDEX
   MSRs (what Linux requires). */
int hv_detect(void);
/* GUEST_OS_ID, then HYPERCALL with the page enabled (partition-wide: one
   VP does it). Returns 0 when the MSR reads back enabled. */
int hv_enable_hypercall_page(void);
/* The Linux driver's order: GUEST_OS_ID and HYPERCALL (VP 0 only; the
   page is partition-wide), then SIMP, SIEFP, SINT`sint` = vector (plus
   auto-EOI if asked) by read-modify-write, and SCONTROL = 1 last. Returns
   0 on success. */
int synic_init(u32 vp, u32 sint, u8 vector, int auto_eoi);
/* Programs one more SINT (read-modify-write). */
void synic_set_sint(u32 sint, u8 vector, int auto_eoi);

/* hv_hypercall (common/hv_guest.h) goes through the hypercall page (RCX
   control, RDX input, R8 output); this is the same with a bare VMCALL
   instruction outside the page. */
u64 hv_vmcall(u64 control, u64 input, u64 output);

#endif
