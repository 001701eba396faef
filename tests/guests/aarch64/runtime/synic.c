/* aarch64 SynIC helpers: hypercalls over HVC #0 (SMCCC) and HVC #1. */
#include "runtime/synic.h"

enum hv_abi hv_abi = HV_ABI_SMCCC;

/* The Hyper-V vendor-hypervisor UID words (W0-W3). */
static const u32 hyperv_uid[4] = {0x4d32ba58, 0xcd244764, 0x8eef6c75, 0x16597024};
/* Guest OS identity: open-source vendor bit 63, "Linux-like" id 0x1. */
#define GUEST_OS_ID_VALUE 0x8100000000000000ul

const char *hv_abi_name(enum hv_abi abi) { return abi == HV_ABI_SMCCC ? "HVC #0 SMCCC" : "HVC #1"; }

/* HVC #0 with X0-X7 in and out (SMCCC 1.2 registers the drivers use). */
struct smccc_regs {
  u64 x[8];
};
static void smccc_call(struct smccc_regs *r) {
  register u64 x0 __asm__("x0") = r->x[0];
  register u64 x1 __asm__("x1") = r->x[1];
  register u64 x2 __asm__("x2") = r->x[2];
  register u64 x3 __asm__("x3") = r->x[3];
  register u64 x4 __asm__("x4") = r->x[4];
  register u64 x5 __asm__("x5") = r->x[5];
  register u64 x6 __asm__("x6") = r->x[6];
  register u64 x7 __asm__("x7") = r->x[7];
  __asm__ volatile("hvc #0"
                   : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6), "+r"(x7)
                   :
                   : "memory");
  r->x[0] = x0, r->x[1] = x1, r->x[2] = x2, r->x[3] = x3;
  r->x[4] = x4, r->x[5] = x5, r->x[6] = x6, r->x[7] = x7;
}

static u64 native_call(u64 control, u64 input, u64 output) {
  register u64 x0 __asm__("x0") = control;
  register u64 x1 __asm__("x1") = input;
  register u64 x2 __asm__("x2") = output;
  __asm__ volatile("hvc #1" : "+r"(x0), "+r"(x1), "+r"(x2) : : "memory");
  return x0;
}

int hv_detect(void) {
  struct smccc_regs r = {{SMCCC_VENDOR_HYP_UID}};
  smccc_call(&r);
  for (int i = 0; i < 4; ++i)
    if ((u32)r.x[i] != hyperv_uid[i]) return 0;
  return 1;
}

u64 hv_hypercall(u64 control, u64 input, u64 output) {
  if (hv_abi == HV_ABI_NATIVE) return native_call(control, input, output);
  struct smccc_regs r = {{SMCCC_HV_HYPERCALL, control, input, output}};
  smccc_call(&r);
  return r.x[0];
}

u16 hv_set_vp_register(u32 name, u64 value) {
  struct smccc_regs r = {{SMCCC_HV_HYPERCALL,
                          HVCALL_SET_VP_REGISTERS | HV_HYPERCALL_FAST | HV_HYPERCALL_REP_COUNT(1),
                          HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, name, 0, value, 0}};
  smccc_call(&r);
  return (u16)r.x[0];
}

u16 hv_get_vp_register(u32 name, u64 *value) {
  struct smccc_regs r = {{SMCCC_HV_HYPERCALL,
                          HVCALL_GET_VP_REGISTERS | HV_HYPERCALL_FAST | HV_HYPERCALL_REP_COUNT(1),
                          HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, name}};
  smccc_call(&r);
  *value = r.x[6];
  return (u16)r.x[0];
}

/* Header of HvGet/SetVpRegisters input. */
struct vp_registers_header {
  u64 partition_id;
  u32 vp_index;
  u8 input_vtl;
  u8 reserved[3];
};

static struct vp_registers_header *registers_header(u32 vp) {
  struct vp_registers_header *h = (struct vp_registers_header *)input_page[vp];
  memset(h, 0, sizeof *h);
  h->partition_id = HV_PARTITION_ID_SELF;
  h->vp_index = HV_VP_INDEX_SELF;
  return h;
}

u16 hv_set_vp_register_slow(u32 vp, u32 name, u64 value) {
  u64 *entry = (u64 *)(input_page[vp] + sizeof(struct vp_registers_header));
  registers_header(vp);
  entry[0] = name; /* name u32, reserved u32 + u64 */
  entry[1] = 0;
  entry[2] = value;
  entry[3] = 0;
  return (u16)hv_hypercall(HVCALL_SET_VP_REGISTERS | HV_HYPERCALL_REP_COUNT(1), (u64)input_page[vp], 0);
}

u16 hv_get_vp_register_slow(u32 vp, u32 name, u64 *value) {
  u32 *names = (u32 *)(input_page[vp] + sizeof(struct vp_registers_header));
  registers_header(vp);
  names[0] = name;
  u16 status = (u16)hv_hypercall(HVCALL_GET_VP_REGISTERS | HV_HYPERCALL_REP_COUNT(1), (u64)input_page[vp],
                                 (u64)output_page[vp]);
  *value = *(volatile u64 *)output_page[vp];
  return status;
}

#define RETURN_IF_FAILED(expr)        \
  do {                                \
    u16 s_ = (expr);                  \
    if (s_ != HV_STATUS_SUCCESS) return s_; \
  } while (0)

int synic_init(u32 vp, u32 sint, u32 intid) {
  u64 v;
  if (vp == 0) RETURN_IF_FAILED(hv_set_vp_register(HV_REG_GUEST_OS_ID, GUEST_OS_ID_VALUE));
  RETURN_IF_FAILED(hv_get_vp_register(HV_REG_SIMP, &v));
  RETURN_IF_FAILED(hv_set_vp_register(HV_REG_SIMP, (v & 0xFFF & ~1ul) | (u64)simp_page[vp] | 1));
  RETURN_IF_FAILED(hv_get_vp_register(HV_REG_SIEFP, &v));
  RETURN_IF_FAILED(hv_set_vp_register(HV_REG_SIEFP, (v & 0xFFF & ~1ul) | (u64)siefp_page[vp] | 1));
  RETURN_IF_FAILED(hv_get_vp_register(HV_REG_SINT0 + sint, &v));
  v = (v & ~(0xFFul | HV_SINT_MASKED | HV_SINT_AUTO_EOI)) | intid;
  RETURN_IF_FAILED(hv_set_vp_register(HV_REG_SINT0 + sint, v));
  gic_enable_ppi(intid, 0x80);
  RETURN_IF_FAILED(hv_get_vp_register(HV_REG_SCONTROL, &v));
  RETURN_IF_FAILED(hv_set_vp_register(HV_REG_SCONTROL, v | 1));
  return 0;
}

void synic_write_eom(void) { hv_set_vp_register(HV_REG_EOM, 0); }
