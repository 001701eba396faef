/* pc_user_hypercall: what ring 3 gets from the hypervisor's instructions
   (TLFS 3.2: a hypercall from CPL > 0 is #UD; Intel SDM vol. 2B RDMSR,
   WRMSR: #GP(0) at CPL > 0; RDTSC: #GP(0) at CPL > 0 only with CR4.TSD).
   Each ROUNDS times from ring 3, after ring 0 showed the instruction works:
   - a call through the hypercall page: #UD with RIP on the page's first
     byte, CS the user's (the handler then returns for it, as `ret` would);
   - a bare VMCALL: #UD on the VMCALL;
   - RDMSR of SVERSION: #GP;
   - RDTSC: a value, increasing; with CR4.TSD set, #GP.
   Leaves out: IOPL 3 (no port is involved any more), 32-bit ring 3. */
#include "pc/pc_user.h"

#include "common/hv_guest.h"
#include "runtime/synic.h"

#define ROUNDS 100
#define CR4_TSD (1ul << 2)

static u64 page;
static volatile u64 ud_rip, ud_cs, ud_taken;
static volatile u64 vmcall_site, rdtsc_site;
static volatile u64 gp_rip, gp_taken;

static void on_invalid_opcode(struct interrupt_frame *frame) {
  ++ud_taken;
  ud_rip = frame->rip;
  ud_cs = frame->cs;
  if (frame->rip == page) {
    /* Return for the page, as its `ret` would, with a status no call gives. */
    frame->rip = *(volatile u64 *)frame->rsp;
    frame->rsp += 8;
    frame->rax = 0xDEAD;
  } else {
    frame->rip += 3; /* VMCALL */
  }
}

static void on_general_protection(struct interrupt_frame *frame) {
  ++gp_taken;
  gp_rip = frame->rip;
  frame->rip += 2; /* RDMSR, RDTSC */
}

static u64 on_syscall(u64 nr, u64 arg) { return nr + arg; }

static u64 user_page_call(u64 unused) {
  (void)unused;
  return hv_hypercall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, 0x7777, 0);
}

static u64 user_vmcall(u64 unused) {
  (void)unused;
  u64 status = 0x5A5A;
  __asm__ volatile("lea 1f(%%rip), %%rax\n movq %%rax, (%1)\n mov $0x5A5A, %%eax\n 1: vmcall"
                   : "=&a"(status)
                   : "r"(&vmcall_site)
                   : "rcx", "rdx", "r8", "memory");
  return status;
}

static u64 user_rdmsr(u64 msr) {
  u32 lo = 0x5A5A, hi = 0;
  __asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"((u32)msr) : "memory");
  return ((u64)hi << 32) | lo;
}

static u64 user_rdtsc(u64 unused) {
  (void)unused;
  u32 lo = 0, hi = 0;
  __asm__ volatile("lea 1f(%%rip), %%rcx\n movq %%rcx, (%2)\n 1: rdtsc" : "=a"(lo), "=d"(hi) : "r"(&rdtsc_site) : "rcx", "memory");
  return ((u64)hi << 32) | lo;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  user_init(on_syscall);
  set_handler(6, on_invalid_opcode);
  set_handler(13, on_general_protection);
  check(hv_enable_hypercall_page() == 0, "the hypercall page is enabled");
  page = rdmsr(HV_MSR_HYPERCALL) & ~0xFFFul;

  /* Ring 0 first: the page and a VMCALL answer. */
  check_eq(hv_hypercall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, 0x7777, 0) & 0xFFFF, HV_STATUS_INVALID_CONNECTION_ID,
           "ring 0: a call through the hypercall page returns its status");
  check_eq(hv_vmcall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, 0x7777, 0) & 0xFFFF, HV_STATUS_INVALID_CONNECTION_ID,
           "ring 0: a VMCALL returns its status");

  u32 bad_page = 0, bad_vmcall = 0, bad_rdmsr = 0, bad_rdtsc = 0, bad_tsd = 0;
  u64 last_tsc = 0;
  for (u32 round = 0; round < ROUNDS; ++round) {
    u64 taken = ud_taken;
    u64 status = user_call(user_page_call, 0);
    if (status != 0xDEAD || ud_taken != taken + 1 || ud_rip != page || ud_cs != USER_CS) {
      if (bad_page++ == 0)
        printf("  page call from ring 3: status 0x%lx, #UD %lu at 0x%lx cs 0x%lx (page 0x%lx)\n", status,
               ud_taken - taken, ud_rip, ud_cs, page);
    }
    taken = ud_taken;
    status = user_call(user_vmcall, 0);
    if (status != 0x5A5A || ud_taken != taken + 1 || ud_rip != vmcall_site) {
      if (bad_vmcall++ == 0)
        printf("  VMCALL from ring 3: rax 0x%lx, #UD %lu at 0x%lx (site 0x%lx)\n", status, ud_taken - taken, ud_rip,
               vmcall_site);
    }
    u64 gps = gp_taken;
    u64 value = user_call(user_rdmsr, HV_MSR_SVERSION);
    if (value != 0x5A5A || gp_taken != gps + 1) {
      if (bad_rdmsr++ == 0) printf("  RDMSR from ring 3: 0x%lx, #GP %lu\n", value, gp_taken - gps);
    }
    gps = gp_taken;
    u64 tsc = user_call(user_rdtsc, 0);
    if (tsc <= last_tsc || gp_taken != gps) {
      if (bad_rdtsc++ == 0) printf("  RDTSC from ring 3: 0x%lx after 0x%lx, #GP %lu\n", tsc, last_tsc, gp_taken - gps);
    }
    last_tsc = tsc;
    write_cr4(read_cr4() | CR4_TSD);
    gps = gp_taken;
    user_call(user_rdtsc, 0);
    if (gp_taken != gps + 1 || gp_rip != rdtsc_site) {
      if (bad_tsd++ == 0) printf("  RDTSC from ring 3 with CR4.TSD: #GP %lu at 0x%lx\n", gp_taken - gps, gp_rip);
    }
    write_cr4(read_cr4() & ~CR4_TSD);
  }
  printf("ring 3 through the hypercall page: %u of %u without #UD on the page\n", bad_page, ROUNDS);
  printf("ring 3 VMCALL: %u of %u without #UD\n", bad_vmcall, ROUNDS);
  printf("ring 3 RDMSR: %u of %u without #GP\n", bad_rdmsr, ROUNDS);
  printf("ring 3 RDTSC: %u of %u wrong, with CR4.TSD: %u of %u without #GP\n", bad_rdtsc, ROUNDS, bad_tsd, ROUNDS);
  check(bad_page == 0 && bad_vmcall == 0, "hypercalls from ring 3 are #UD");
  check(bad_rdmsr == 0 && bad_tsd == 0, "RDMSR, and RDTSC under CR4.TSD, from ring 3 are #GP");
  check(bad_rdtsc == 0, "RDTSC from ring 3 without CR4.TSD reads the TSC");
  printf("pc_user_hypercall: %s\n", failures ? "FAILED" : "done");
  return 0;
}
