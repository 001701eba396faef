// Trace loader: parses and validates a trace document (docs/TRACE_FORMAT.md)
// into a Trace. Every problem is a LoadError naming where it is ("step 3
// (hypercall): field 'regs.rcx': ..."), never an exception: documents may
// be hostile (the loader is fuzzed).
//
// What is checked at load time: JSON syntax, the machine, every op and its
// fields (presence, type, range), VP/VTL/SINT/flag against the machine
// (except where the step expects the matching host error, e.g. a
// post_message to VP 9 with expect "invalid_vp"), write/expect_memory
// ranges inside guest memory, register names for the architecture, and
// port ids (declared before use, not added twice while live).
//
// Threading: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "emu/replay/trace.h"

namespace softsynic::replay {

// Guest memory a trace may declare in total (the replayer allocates it).
inline constexpr std::uint64_t kMaxTraceMemory = std::uint64_t{1} << 30;

struct LoadResult {
  std::optional<Trace> trace;
  std::string error;  // set when !trace
  explicit operator bool() const { return trace.has_value(); }
};

LoadResult load_trace(std::string_view json_text);
// Reads the file first; an unreadable file is a load error too.
LoadResult load_trace_file(const std::string& path);

}  // namespace softsynic::replay
