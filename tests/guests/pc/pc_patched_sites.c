/* pc_patched_sites: the engine runs trapped instructions (RDMSR, WRMSR,
   VMCALL) from a patched execution view of their page
   (emu/x86/x86_code_shadow.h). What the guest must not be able to tell:
   - its own code reads back as it wrote it (RDMSR's 0F 32, not the patch);
   - a #GP from a patched WRMSR arrives with RIP on the WRMSR, before the
     next instruction ran;
   - a patched WRMSR and RDMSR of a CPU model MSR (KERNEL_GS_BASE) act as
     the CPU's own;
   - a patched VMCALL returns the hypercall's status;
   - a linear page remapped between a frame with a site and frames without
     one, or with one elsewhere, runs the new frame's code;
   - code rewritten in a patched page runs as rewritten.
   Each ROUNDS times, after the first run patched the site.
   Leaves out: ring 3 (user code is not patched), 2 VPs (the cross-VP code
   tests cover stores by another VP). */
#include "pc/pc_paging.h"

#include "common/hv_guest.h"
#include "runtime/synic.h"

#define ROUNDS 1000
#define EXEC_VA 0x00007F0000000000ul
#define TSC_FREQUENCY_MSR 0x40000022u
#define KERNEL_GS_BASE_MSR 0xC0000102u

static u8 code_page[PAGE_SIZE] PAGE_ALIGNED;
static u8 remap_a[PAGE_SIZE] PAGE_ALIGNED;
static u8 remap_b[PAGE_SIZE] PAGE_ALIGNED;
static u8 remap_c[PAGE_SIZE] PAGE_ALIGNED;

typedef u64 (*code_fn)(void);
typedef u64 (*code_fn1)(u64);

static void put(volatile u8 *at, const u8 *bytes, u32 n) {
  for (u32 i = 0; i < n; ++i) at[i] = bytes[i];
}

/* mov ecx, TSC_FREQUENCY; rdmsr; ret (the RDMSR at +5) */
static const u8 read_freq[] = {0xB9, 0x22, 0x00, 0x00, 0x40, 0x0F, 0x32, 0xC3};
/* mov ecx, SVERSION; mov eax, 2; xor edx, edx; wrmsr; inc eax; ret
   (the WRMSR at +12: SVERSION is read-only, so #GP) */
static const u8 write_sversion[] = {0xB9, 0x81, 0x00, 0x00, 0x40, 0xB8, 0x02, 0x00, 0x00,
                                    0x00, 0x31, 0xD2, 0x0F, 0x30, 0xFF, 0xC0, 0xC3};
#define WRMSR_AT 12
/* mov rax, rdi; mov rdx, rdi; shr rdx, 32; mov ecx, KERNEL_GS_BASE; wrmsr;
   rdmsr; shl rdx, 32; or rax, rdx; ret */
static const u8 gs_base_round_trip[] = {0x48, 0x89, 0xF8, 0x48, 0x89, 0xFA, 0x48, 0xC1, 0xEA, 0x20, 0xB9,
                                        0x02, 0x01, 0x00, 0xC0, 0x0F, 0x30, 0x0F, 0x32, 0x48, 0xC1, 0xE2,
                                        0x20, 0x48, 0x09, 0xD0, 0xC3};
/* mov eax, 0x12345678; ret, with the same 5-byte start as read_freq */
static const u8 plain[] = {0xB8, 0x78, 0x56, 0x34, 0x12, 0xC3, 0x90, 0x90};
/* three NOPs, then read_freq: the RDMSR at +8 */
static const u8 read_freq_later[] = {0x90, 0x90, 0x90, 0xB9, 0x22, 0x00, 0x00, 0x40, 0x0F, 0x32, 0xC3};

static volatile u64 gp_rip, gp_rax;
static volatile u32 gp_seen;
static void on_gp(struct interrupt_frame *frame) {
  gp_rip = frame->rip;
  gp_rax = frame->rax;
  ++gp_seen;
  frame->rip += 2;
}

static u32 miss(u32 *count, int bad, u32 round, const char *what, u64 got) {
  if (bad && (*count)++ == 0) printf("  %s, round %u: 0x%lx\n", what, round, got);
  return bad;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  paging_init();

  /* Reads of a patched site's own bytes. */
  put(code_page, read_freq, sizeof read_freq);
  u32 wrong = 0, changed = 0;
  for (u32 round = 0; round < ROUNDS; ++round) {
    u64 got = ((code_fn)code_page)();
    miss(&wrong, got != 1000000000u, round, "TSC_FREQUENCY", got);
    miss(&changed, code_page[5] != 0x0F || code_page[6] != 0x32, round, "the RDMSR's bytes", code_page[6]);
  }
  printf("patched RDMSR: %u of %u wrong, its bytes read back changed %u times\n", wrong, ROUNDS, changed);
  check(wrong == 0 && changed == 0, "a patched RDMSR runs trapped and reads back as RDMSR");

  /* A #GP from a patched WRMSR: RIP on the WRMSR, the INC after it not yet run. */
  set_handler(13, on_gp);
  u8 *gp_code = code_page + 0x100;
  put(gp_code, write_sversion, sizeof write_sversion);
  u32 bad_gp = 0;
  for (u32 round = 0; round < ROUNDS; ++round) {
    gp_seen = 0;
    u64 got = ((code_fn)gp_code)();
    const int bad = gp_seen != 1 || gp_rip != (u64)(gp_code + WRMSR_AT) || gp_rax != 2 || got != 3;
    if (miss(&bad_gp, bad, round, "#GP", got))
      printf("  seen %u rip 0x%lx (site 0x%lx) rax at the #GP %lu\n", gp_seen, gp_rip, (u64)(gp_code + WRMSR_AT),
             gp_rax);
  }
  printf("#GP from a patched WRMSR: %u of %u wrong\n", bad_gp, ROUNDS);
  check(bad_gp == 0, "a patched WRMSR's #GP has RIP on the instruction, before the next one runs");

  /* A CPU model MSR through patched sites. */
  u8 *gs_code = code_page + 0x200;
  put(gs_code, gs_base_round_trip, sizeof gs_base_round_trip);
  u32 bad_gs = 0;
  for (u32 round = 0; round < ROUNDS; ++round) {
    const u64 value = 0xFFFF880000000000ul + (u64)round * 0x1000;
    u64 got = ((code_fn1)gs_code)(value);
    miss(&bad_gs, got != value, round, "KERNEL_GS_BASE", got);
  }
  printf("KERNEL_GS_BASE through patched WRMSR and RDMSR: %u of %u wrong\n", bad_gs, ROUNDS);
  check(bad_gs == 0, "patched sites give a CPU model MSR the CPU's own value");

  /* A patched VMCALL. */
  wrmsr(HV_MSR_GUEST_OS_ID, 0x8100000000000000ul);
  u32 bad_call = 0;
  for (u32 round = 0; round < ROUNDS; ++round) {
    u64 status = hv_vmcall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, 0x7777, 0) & 0xFFFF;
    miss(&bad_call, status != HV_STATUS_INVALID_CONNECTION_ID, round, "VMCALL status", status);
  }
  printf("patched VMCALL: %u of %u wrong\n", bad_call, ROUNDS);
  check(bad_call == 0, "a patched VMCALL returns the hypercall's status");

  /* One linear page over three frames: a site at +5, none, a site at +8. */
  put(remap_a, read_freq, sizeof read_freq);
  put(remap_b, plain, sizeof plain);
  put(remap_c, read_freq_later, sizeof read_freq_later);
  u32 bad_remap = 0;
  for (u32 round = 0; round < ROUNDS; ++round) {
    paging_map(EXEC_VA, (u64)remap_a, PTE_P);
    u64 a = ((code_fn)EXEC_VA)();
    paging_map(EXEC_VA, (u64)remap_b, PTE_P);
    u64 b = ((code_fn)EXEC_VA)();
    paging_map(EXEC_VA, (u64)remap_c, PTE_P);
    u64 c = ((code_fn)EXEC_VA)();
    if (miss(&bad_remap, a != 1000000000u || b != 0x12345678u || c != 1000000000u, round, "remapped page", a))
      printf("  a 0x%lx b 0x%lx c 0x%lx\n", a, b, c);
  }
  printf("a page remapped between frames with and without sites: %u of %u wrong\n", bad_remap, ROUNDS);
  check(bad_remap == 0, "a remapped page runs the new frame's code and sites");

  /* Code rewritten in the patched page: the site moves. */
  u32 bad_rewrite = 0;
  for (u32 round = 0; round < ROUNDS; ++round) {
    put(code_page, (round & 1) ? read_freq_later : read_freq, (round & 1) ? sizeof read_freq_later : sizeof read_freq);
    u64 got = ((code_fn)code_page)();
    miss(&bad_rewrite, got != 1000000000u, round, "rewritten site", got);
  }
  printf("a patched page rewritten: %u of %u wrong\n", bad_rewrite, ROUNDS);
  check(bad_rewrite == 0, "code rewritten in a patched page runs as rewritten");

  printf("pc_patched_sites: %s\n", failures ? "FAILED" : "done");
  return 0;
}
