// The packets gdb sends, parsed. parse_request() never throws and never
// reads outside its input: a packet it cannot make sense of is Malformed
// (the session answers E01), one it does not know is Unsupported (the
// session answers with an empty packet, the protocol's "not supported").
// Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "emu/gdb/target.h"

namespace softsynic::gdb {

// A thread id as gdb writes it: -1 all threads, 0 any thread, N > 0 one.
using ThreadId = std::int64_t;
inline constexpr ThreadId kAllThreads = -1;
inline constexpr ThreadId kAnyThread = 0;

struct QuerySupported {  // qSupported:FEATURES
  std::string features;  // gdb's, as sent
};
struct StartNoAckMode {};
struct ReadFeatures {  // qXfer:features:read:ANNEX:OFFSET,LENGTH
  std::string annex;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};
struct ThreadInfoFirst {};  // qfThreadInfo
struct ThreadInfoNext {};   // qsThreadInfo
struct CurrentThread {};    // qC
struct Attached {};         // qAttached
struct SetThread {          // Hg / Hc
  char operation = 'g';
  ThreadId thread = kAnyThread;
};
struct ThreadAlive {  // T
  ThreadId thread = kAnyThread;
};
struct ReadRegisters {};
struct WriteRegisters {
  std::vector<std::byte> bytes;
};
struct ReadRegister {
  unsigned regno = 0;
};
struct WriteRegister {
  unsigned regno = 0;
  std::vector<std::byte> bytes;
};
struct ReadMemory {
  std::uint64_t address = 0;
  std::uint64_t length = 0;
};
struct WriteMemory {  // M (hex) and X (binary)
  std::uint64_t address = 0;
  std::vector<std::byte> bytes;
};
struct Breakpoint {  // Z / z
  bool insert = true;
  BreakpointType type = BreakpointType::software;
  std::uint64_t address = 0;
  std::uint64_t kind = 0;
};
struct ResumeQuery {};  // vCont?
struct ResumeStep {
  char action = 'c';                 // 'c' continue, 's' step, 't' stop
  ThreadId thread = kAllThreads;     // the default action when kAllThreads
};
struct Resume {  // vCont;..., c, s
  std::vector<ResumeStep> steps;     // vCont order: the first that applies to a thread wins
  std::optional<std::uint64_t> address;  // c ADDR / s ADDR: resume there
  bool uses_selected_thread = false; // c / s: the Hc thread, not a list
};
struct StopQuery {};  // ?
struct Kill {};
struct Detach {};
struct Monitor {  // qRcmd
  std::string command;
};
struct Unsupported {};
struct Malformed {};

using Request = std::variant<QuerySupported, StartNoAckMode, ReadFeatures, ThreadInfoFirst, ThreadInfoNext,
                             CurrentThread, Attached, SetThread, ThreadAlive, ReadRegisters, WriteRegisters,
                             ReadRegister, WriteRegister, ReadMemory, WriteMemory, Breakpoint, ResumeQuery, Resume,
                             StopQuery, Kill, Detach, Monitor, Unsupported, Malformed>;

// `payload` as framed (escapes still in; X data is unescaped here).
Request parse_request(std::string_view payload);

}  // namespace softsynic::gdb
