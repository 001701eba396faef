/* Guest SynIC helpers; see synic.h. */
#include "runtime/synic.h"

static u8 hypercall_page[PAGE_SIZE] PAGE_ALIGNED;

/* An open-source-style guest OS id: vendor 0x81 ("other"), version 1. */
#define GUEST_OS_ID 0x8100000000000001ul

int hv_detect(void) {
  u32 a, b, c, d;
  cpuid(0x40000000, &a, &b, &c, &d);
  if (b != 0x7263694D || c != 0x666F736F || d != 0x76482074 || a < 0x40000005) return 0;
  cpuid(0x40000001, &a, &b, &c, &d);
  if (a != 0x31237648) return 0;
  cpuid(0x40000003, &a, &b, &c, &d);
  return (a & (1u << 5)) && (a & (1u << 6));
}

void synic_set_sint(u32 sint, u8 vector, int auto_eoi) {
  u64 v = rdmsr(HV_MSR_SINT0 + sint);
  v &= ~(0xFFul | HV_SINT_MASKED | HV_SINT_AUTO_EOI);
  v |= vector;
  if (auto_eoi) v |= HV_SINT_AUTO_EOI;
  wrmsr(HV_MSR_SINT0 + sint, v);
}

int hv_enable_hypercall_page(void) {
  wrmsr(HV_MSR_GUEST_OS_ID, GUEST_OS_ID);
  wrmsr(HV_MSR_HYPERCALL, (u64)hypercall_page | 1);
  return rdmsr(HV_MSR_HYPERCALL) & 1 ? 0 : -1;
}

int synic_init(u32 vp, u32 sint, u8 vector, int auto_eoi) {
  if (vp == 0 && hv_enable_hypercall_page() != 0) return -1;
  u64 simp = rdmsr(HV_MSR_SIMP);
  wrmsr(HV_MSR_SIMP, (simp & 0xFFE) | (u64)simp_page[vp] | 1);
  u64 siefp = rdmsr(HV_MSR_SIEFP);
  wrmsr(HV_MSR_SIEFP, (siefp & 0xFFE) | (u64)siefp_page[vp] | 1);
  synic_set_sint(sint, vector, auto_eoi);
  wrmsr(HV_MSR_SCONTROL, rdmsr(HV_MSR_SCONTROL) | 1);
  return 0;
}

u64 hv_hypercall(u64 control, u64 input, u64 output) {
  u64 status;
  register u64 r8 __asm__("r8") = output;
  __asm__ volatile("call *%[page]"
                   : "=a"(status), "+c"(control), "+d"(input), "+r"(r8)
                   : [page] "r"(hypercall_page)
                   : "r9", "r10", "r11", "memory");
  return status;
}

u64 hv_vmcall(u64 control, u64 input, u64 output) {
  u64 status;
  register u64 r8 __asm__("r8") = output;
  __asm__ volatile("vmcall" : "=a"(status), "+c"(control), "+d"(input), "+r"(r8) : : "r9", "r10", "r11", "memory");
  return status;
}

void synic_write_eom(void) { wrmsr(HV_MSR_EOM, 0); }
