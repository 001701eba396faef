/* pc_cpu_features: the CPU advertises only what it implements. CPUID
   leaves 1, 7 (subleaf 0) and 0x80000001 are read, and for every
   extension bit set that this kernel knows an instruction of, that
   instruction runs once under a #UD/#GP handler, after the kernel has
   enabled what an OS enables (CR4.OSFXSR/OSXMMEXCPT, OSXSAVE and XCR0 for
   the AVX state, FSGSBASE): an advertised extension that traps fails. The
   advertised list is printed, and bits set without an instruction here are
   listed as not exercised. The hypervisor bit, NX, LM and SYSCALL must be
   advertised, x2APIC must not (docs/PC_PLATFORM.md). A ud2 must reach the
   handler (the check can see a #UD).
   Leaves out: instruction results (only that they run), MONITOR/MWAIT,
   SYSCALL itself, SVM/VMX instructions (they #UD until enabled), TSX,
   AVX-512, and leaves other than the three. */
#include "pc/pc_paging.h"

#define CR4_FSGSBASE (1ul << 16)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_OSXSAVE (1ul << 18)
#define XCR0_AVX_STATE 0x7ul /* x87, SSE, AVX */

enum reg { EAX, EBX, ECX, EDX };

static volatile u64 resume;
static volatile u64 trapped_vector;
static u8 scratch[512] __attribute__((aligned(64), used)); /* named in the asm */

static void on_trap(struct interrupt_frame *frame) {
  trapped_vector = frame->vector;
  frame->rip = resume;
}

/* Runs `insn` with RCX = scratch; a trap resumes after it. */
#define INSN_FN(fn, insn)                                                                 \
  static void fn(void) {                                                                  \
    __asm__ volatile("lea 1f(%%rip), %%r11; mov %%r11, resume(%%rip); lea scratch(%%rip), %%rcx\n" insn "\n1:" \
                     :                                                                    \
                     :                                                                    \
                     : "rax", "rbx", "rcx", "rdx", "r11", "memory", "cc");                \
  }

INSN_FN(try_fpu, "fninit; fld1; fstp %%st(0)")
INSN_FN(try_tsc, "rdtsc")
INSN_FN(try_cx8, "xor %%eax, %%eax; xor %%edx, %%edx; cmpxchg8b (%%rcx)")
INSN_FN(try_cmov, "cmove %%rax, %%rax")
INSN_FN(try_clflush, "clflush (%%rcx)")
INSN_FN(try_mmx, "paddb %%mm1, %%mm0; emms")
INSN_FN(try_fxsr, "fxsave (%%rcx)")
INSN_FN(try_sse, "addps %%xmm1, %%xmm0")
INSN_FN(try_sse2, "paddq %%xmm1, %%xmm0")
INSN_FN(try_sse3, "haddps %%xmm1, %%xmm0")
INSN_FN(try_pclmul, "pclmulqdq $0, %%xmm1, %%xmm0")
INSN_FN(try_ssse3, "pshufb %%xmm1, %%xmm0")
INSN_FN(try_fma, "vfmadd231ps %%xmm1, %%xmm2, %%xmm0")
INSN_FN(try_cx16, "xor %%eax, %%eax; xor %%edx, %%edx; cmpxchg16b (%%rcx)")
INSN_FN(try_sse41, "ptest %%xmm1, %%xmm0")
INSN_FN(try_sse42, "crc32l %%eax, %%eax")
INSN_FN(try_movbe, "movbe (%%rcx), %%rax")
INSN_FN(try_popcnt, "popcnt %%rax, %%rax")
INSN_FN(try_aes, "aesenc %%xmm1, %%xmm0")
INSN_FN(try_xsave, "xor %%ecx, %%ecx; xgetbv")
INSN_FN(try_avx, "vaddps %%ymm1, %%ymm0, %%ymm0")
INSN_FN(try_f16c, "vcvtph2ps %%xmm1, %%xmm0")
INSN_FN(try_rdrand, "rdrand %%rax")
INSN_FN(try_fsgsbase, "rdfsbase %%rax")
INSN_FN(try_bmi1, "andn %%rax, %%rax, %%rax")
INSN_FN(try_avx2, "vpaddd %%ymm1, %%ymm0, %%ymm0")
INSN_FN(try_bmi2, "pdep %%rax, %%rax, %%rax")
INSN_FN(try_erms, "xor %%eax, %%eax; mov %%rcx, %%rdi; xor %%ecx, %%ecx; rep stosb")
INSN_FN(try_rdseed, "rdseed %%rax")
INSN_FN(try_adx, "adcx %%rax, %%rax")
INSN_FN(try_smap, "clac")
INSN_FN(try_clflushopt, "clflushopt (%%rcx)")
INSN_FN(try_clwb, "clwb (%%rcx)")
INSN_FN(try_sha, "sha1msg1 %%xmm1, %%xmm0")
INSN_FN(try_rdpid, "rdpid %%rax")
INSN_FN(try_lahf, "lahf")
INSN_FN(try_lzcnt, "lzcnt %%rax, %%rax")
INSN_FN(try_sse4a, "extrq %%xmm1, %%xmm0")
INSN_FN(try_prefetchw, "prefetchw (%%rcx)")
INSN_FN(try_rdtscp, "rdtscp")
INSN_FN(try_ud2, "ud2")

struct feature {
  u32 leaf;
  enum reg reg;
  u32 bit;
  const char *name;
  void (*run)(void); /* null: advertised state only, no instruction */
};

static const struct feature features[] = {
    {1, EDX, 0, "FPU", try_fpu},        {1, EDX, 4, "TSC", try_tsc},         {1, EDX, 8, "CX8", try_cx8},
    {1, EDX, 15, "CMOV", try_cmov},     {1, EDX, 19, "CLFSH", try_clflush},  {1, EDX, 23, "MMX", try_mmx},
    {1, EDX, 24, "FXSR", try_fxsr},     {1, EDX, 25, "SSE", try_sse},        {1, EDX, 26, "SSE2", try_sse2},
    {1, ECX, 0, "SSE3", try_sse3},      {1, ECX, 1, "PCLMULQDQ", try_pclmul}, {1, ECX, 9, "SSSE3", try_ssse3},
    {1, ECX, 12, "FMA", try_fma},       {1, ECX, 13, "CX16", try_cx16},      {1, ECX, 19, "SSE4.1", try_sse41},
    {1, ECX, 20, "SSE4.2", try_sse42},  {1, ECX, 22, "MOVBE", try_movbe},    {1, ECX, 23, "POPCNT", try_popcnt},
    {1, ECX, 25, "AES", try_aes},       {1, ECX, 26, "XSAVE", try_xsave},    {1, ECX, 28, "AVX", try_avx},
    {1, ECX, 29, "F16C", try_f16c},     {1, ECX, 30, "RDRAND", try_rdrand},  {1, ECX, 31, "HYPERVISOR", 0},
    {7, EBX, 0, "FSGSBASE", try_fsgsbase}, {7, EBX, 3, "BMI1", try_bmi1},    {7, EBX, 5, "AVX2", try_avx2},
    {7, EBX, 8, "BMI2", try_bmi2},      {7, EBX, 9, "ERMS", try_erms},       {7, EBX, 18, "RDSEED", try_rdseed},
    {7, EBX, 19, "ADX", try_adx},       {7, EBX, 20, "SMAP", try_smap},      {7, EBX, 23, "CLFLUSHOPT", try_clflushopt},
    {7, EBX, 24, "CLWB", try_clwb},     {7, EBX, 29, "SHA", try_sha},        {7, ECX, 22, "RDPID", try_rdpid},
    {0x80000001, ECX, 0, "LAHF_LM", try_lahf}, {0x80000001, ECX, 5, "LZCNT/ABM", try_lzcnt},
    {0x80000001, ECX, 6, "SSE4A", try_sse4a},  {0x80000001, ECX, 8, "PREFETCHW", try_prefetchw},
    {0x80000001, EDX, 11, "SYSCALL", 0}, {0x80000001, EDX, 20, "NX", 0}, {0x80000001, EDX, 27, "RDTSCP", try_rdtscp},
    {0x80000001, EDX, 29, "LM", 0},
};
#define FEATURES (sizeof features / sizeof features[0])

static const u32 leaves[] = {1, 7, 0x80000001};
static u32 regs[3][4];

static u32 *leaf_regs(u32 leaf) { return regs[leaf == 1 ? 0 : leaf == 7 ? 1 : 2]; }
static int advertised(u32 leaf, enum reg reg, u32 bit) { return (leaf_regs(leaf)[reg] >> bit) & 1; }

static void xsetbv(u32 index, u64 v) { __asm__ volatile("xsetbv" ::"c"(index), "a"((u32)v), "d"((u32)(v >> 32))); }

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  for (int i = 0; i < 3; ++i) cpuid(leaves[i], &regs[i][EAX], &regs[i][EBX], &regs[i][ECX], &regs[i][EDX]);
  set_handler(6, on_trap);
  set_handler(13, on_trap);

  trapped_vector = ~0ul;
  try_ud2();
  check_eq(trapped_vector, 6, "ud2 reaches the #UD handler");

  /* What an OS sets up before using these extensions. */
  u64 cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
  if (advertised(1, ECX, 26)) cr4 |= CR4_OSXSAVE;
  if (advertised(7, EBX, 0)) cr4 |= CR4_FSGSBASE;
  write_cr4(cr4);
  if (advertised(1, ECX, 26)) xsetbv(0, advertised(1, ECX, 28) ? XCR0_AVX_STATE : 0x3);

  u32 covered[3][4] = {{0}};
  u32 trapped = 0;
  puts("pc_cpu_features: advertised:");
  for (u32 i = 0; i < FEATURES; ++i) {
    const struct feature *f = &features[i];
    covered[f->leaf == 1 ? 0 : f->leaf == 7 ? 1 : 2][f->reg] |= 1u << f->bit;
    if (!advertised(f->leaf, f->reg, f->bit)) continue;
    printf(" %s", f->name);
    if (!f->run) continue;
    trapped_vector = ~0ul;
    f->run();
    if (trapped_vector != ~0ul) {
      printf("\nFAIL: %s is advertised but its instruction raised vector %lu\n", f->name, trapped_vector);
      trapped++;
    }
  }
  putc('\n');
  static const char *const reg_names[4] = {"eax", "ebx", "ecx", "edx"};
  for (int l = 0; l < 3; ++l)
    for (int r = EBX; r <= EDX; ++r) {
      if (l == 0 && r == EBX) continue; /* leaf 1 EBX: APIC ID and counts, not features */
      u32 rest = regs[l][r] & ~covered[l][r];
      if (rest) printf("pc_cpu_features: leaf 0x%x %s bits set, not exercised here: 0x%x\n", leaves[l], reg_names[r], rest);
    }
  check_eq(trapped, 0, "advertised extensions that trap");
  CHECK(advertised(1, ECX, 31));         /* hypervisor */
  CHECK(advertised(0x80000001, EDX, 20)); /* NX */
  CHECK(advertised(0x80000001, EDX, 29)); /* LM */
  CHECK(advertised(0x80000001, EDX, 11)); /* SYSCALL */
  CHECK(!advertised(1, ECX, 21));         /* x2APIC stays off */
  printf("pc_cpu_features: %s\n", failures ? "FAILED" : "done");
  return 0;
}
