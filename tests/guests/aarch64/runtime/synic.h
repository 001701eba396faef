/* Guest side of the Hyper-V SynIC for the aarch64 test guests: hypervisor
   discovery over SMCCC, hypercalls through both ABIs (HVC #0 SMCCC as the
   Linux and FreeBSD drivers use it, and native HVC #1), the synthetic
   registers through HvGet/SetVpRegisters and the Linux driver's start-up
   sequence. Messages, events and the shared numbers: common/hv_guest.h. */
#ifndef SOFTSYNIC_GUEST_SYNIC_H
#define SOFTSYNIC_GUEST_SYNIC_H

#include "runtime/runtime.h"

/* Synthetic register names (HvGet/SetVpRegisters). */
#define HV_REG_GUEST_OS_ID 0x00090002
#define HV_REG_VP_INDEX 0x00090003
#define HV_REG_SINT0 0x000A0000
#define HV_REG_SCONTROL 0x000A0010
#define HV_REG_SVERSION 0x000A0011
#define HV_REG_SIEFP 0x000A0012
#define HV_REG_SIMP 0x000A0013
#define HV_REG_EOM 0x000A0014

#define HV_PARTITION_ID_SELF (~0ul)
#define HV_VP_INDEX_SELF 0xFFFFFFFEu

/* SMCCC function ids. */
#define SMCCC_HV_HYPERCALL 0x46000001ul
#define SMCCC_VENDOR_HYP_UID 0x8600FF01ul
#define SMCCC_NOT_SUPPORTED (~0ul)

/* Which instruction form hv_hypercall uses. */
enum hv_abi { HV_ABI_SMCCC, HV_ABI_NATIVE };
extern enum hv_abi hv_abi;
const char *hv_abi_name(enum hv_abi abi);

/* 1 when the SMCCC vendor-hypervisor UID call names Hyper-V (what the
   Linux driver checks). */
int hv_detect(void);

/* hv_hypercall (common/hv_guest.h) uses the current ABI: X0 control, X1
   input, X2 output for HVC #1; X0 = SMCCC_HV_HYPERCALL, X1 control, X2
   input, X3 output for HVC #0. */

/* The Linux driver's register access: fast, rep count 1, over SMCCC
   (name in X4, value in X6/X7). Return the hypercall status. */
u16 hv_set_vp_register(u32 name, u64 value);
u16 hv_get_vp_register(u32 name, u64 *value);
/* The same through the input/output pages, in the current ABI. */
u16 hv_set_vp_register_slow(u32 vp, u32 name, u64 value);
u16 hv_get_vp_register_slow(u32 vp, u32 name, u64 *value);

/* The Linux driver's order through SetVpRegisters: GUEST_OS_ID (VP 0),
   read-modify-write SIMP, SIEFP and SINT`sint` = `intid` (unmasked), then
   SCONTROL = 1 last; enables the PPI at the GIC. Returns 0 on success, else
   the first failing status. */
int synic_init(u32 vp, u32 sint, u32 intid);

#endif
