// Trace writer: turns a Trace back into a trace document
// (docs/TRACE_FORMAT.md), one step per line, that load_trace() accepts and
// that replays exactly like the Trace it came from. Integers that are
// addresses, MSR values or registers are written as hex strings; MSRs with
// a name by name; statuses and errors by name. Defaults are left out.
// The output is a pure function of the Trace (byte-identical every time).
//
// Threading: pure functions.
#pragma once

#include <string>

#include "emu/replay/trace.h"

namespace softsynic::replay {

std::string write_trace(const Trace& trace);

}  // namespace softsynic::replay
