// check(): how the fuzz targets report a broken invariant. A violation
// prints what broke and aborts, which libFuzzer records as a crash with
// the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace softsynic::fuzz {

[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) violated(what);
}

}  // namespace softsynic::fuzz
