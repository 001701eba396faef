/* The test guests' C library subset, console formatting and reporting. */
#include "common/guest_libc.h"

#include <stdarg.h>

volatile u32 failures;

void puts(const char *s) {
  while (*s) putc(*s++);
}

/* Volatile stores keep the compiler from turning these loops into calls
   to themselves. */
void *memset(void *d, int c, usize n) {
  volatile u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}
void *memcpy(void *d, const void *s, usize n) {
  volatile u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}
int memcmp(const void *a, const void *b, usize n) {
  const u8 *p = a, *q = b;
  for (; n; --n, ++p, ++q)
    if (*p != *q) return *p < *q ? -1 : 1;
  return 0;
}

static void put_unsigned(u64 v, unsigned base, int width) {
  char buf[24];
  int n = 0;
  do {
    unsigned d = (unsigned)(v % base);
    buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v);
  while (n < width) buf[n++] = '0';
  while (n) putc(buf[--n]);
}

void printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  for (; *fmt; ++fmt) {
    if (*fmt != '%') {
      putc(*fmt);
      continue;
    }
    ++fmt;
    int width = 0;
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    int is_long = 0;
    if (*fmt == 'l') {
      is_long = 1;
      ++fmt;
    }
    switch (*fmt) {
      case 's': puts(va_arg(ap, const char *)); break;
      case 'c': putc((char)va_arg(ap, int)); break;
      case 'd': {
        i64 v = is_long ? va_arg(ap, i64) : va_arg(ap, int);
        if (v < 0) {
          putc('-');
          v = -v;
        }
        put_unsigned((u64)v, 10, width);
        break;
      }
      case 'u': put_unsigned(is_long ? va_arg(ap, u64) : va_arg(ap, u32), 10, width); break;
      case 'x': put_unsigned(is_long ? va_arg(ap, u64) : va_arg(ap, u32), 16, width); break;
      case '%': putc('%'); break;
      default: putc('?'); break;
    }
  }
  va_end(ap);
}

void check(int ok, const char *what) {
  if (!ok) atomic_inc(&failures);
  printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
}

void check_eq(u64 got, u64 want, const char *what) {
  if (got != want) {
    atomic_inc(&failures);
    printf("FAIL: %s (got 0x%lx, want 0x%lx)\n", what, got, want);
  } else {
    printf("PASS: %s\n", what);
  }
}
