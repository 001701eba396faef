// libFuzzer target for the trace loader (docs/TRACE_FORMAT.md): any input
// must load or give a load error, never crash, hang or throw; and whatever
// loads must survive write -> load -> write unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "emu/replay/trace_loader.h"
#include "emu/replay/trace_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softsynic::replay;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadResult first = load_trace(text);
  if (!first) {
    if (first.error.empty()) std::abort();  // every failure has a reason
    return 0;
  }
  const std::string written = write_trace(*first.trace);
  const LoadResult again = load_trace(written);
  if (!again || write_trace(*again.trace) != written) std::abort();
  return 0;
}
