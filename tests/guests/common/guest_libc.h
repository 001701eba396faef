/* Architecture-independent part of the test guests' runtime: integer
   types, the few C library functions the guests use, a small printf and
   PASS/FAIL reporting. Each architecture's runtime supplies putc() (its
   debug console) and includes this header. */
#ifndef SOFTSYNIC_GUEST_LIBC_H
#define SOFTSYNIC_GUEST_LIBC_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long i64;
typedef unsigned long usize;

/* Console: putc is the architecture's. */
void putc(char c);
void puts(const char *s); /* no newline added */
/* %s %c %d %u %x %lu %lx %ld, with an optional zero-pad width. */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *memset(void *d, int c, usize n);
void *memcpy(void *d, const void *s, usize n);
int memcmp(const void *a, const void *b, usize n);

static inline u32 atomic_inc(volatile u32 *p) { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }

/* Test reporting: CHECK prints PASS/FAIL lines and counts failures. */
extern volatile u32 failures;
void check(int ok, const char *what);
#define CHECK(cond) check((cond), #cond)
void check_eq(u64 got, u64 want, const char *what);

#endif
