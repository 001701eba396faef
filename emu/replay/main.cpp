// softsynic-replay: replays trace files (docs/TRACE_FORMAT.md) and reports
// PASS/FAIL per file. Exit status: 0 all passed, 1 an expectation failed,
// 2 a file could not be loaded, an output could not be written, or bad
// usage.
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "emu/replay/replayer.h"
#include "emu/replay/timeline.h"
#include "emu/replay/trace_loader.h"
#include "emu/replay/trace_recorder.h"
#include "emu/replay/trace_writer.h"

namespace {

constexpr const char* kUsage =
    "usage: softsynic-replay [--record OUT.json] [--timeline OUT.json|OUT.js] FILE...\n"
    "Replays each softsynic trace and prints PASS or FAIL per file, with every failing step.\n"
    "  --record OUT     also record the replay as a new trace (one FILE only)\n"
    "  --timeline OUT   write the run as Chrome trace-event JSON (one FILE only); a name\n"
    "                   ending in .js wraps it for tools/timeline-viewer (softsynicTimeline(...))\n"
    "Exit status: 0 all passed, 1 an expectation failed, 2 a file could not be loaded.\n";

int usage(int status) {
  std::fputs(kUsage, status == 0 ? stdout : stderr);
  return status;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (out.flush()) return true;
  std::fprintf(stderr, "softsynic-replay: cannot write %s\n", path.c_str());
  return false;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace softsynic::replay;
  std::vector<std::string> files;
  std::string record_path;
  std::string timeline_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") return usage(0);
    if ((a == "--record" || a == "--timeline") && i + 1 < argc) {
      (a == "--record" ? record_path : timeline_path) = argv[++i];
    } else if (a.size() > 1 && a[0] == '-') {
      return usage(2);
    } else {
      files.emplace_back(a);
    }
  }
  if (files.empty() || ((!record_path.empty() || !timeline_path.empty()) && files.size() != 1)) return usage(2);

  int status = 0;
  for (const auto& file : files) {
    LoadResult loaded = load_trace_file(file);
    if (!loaded) {
      std::fputs(format_load_error(file, loaded.error).c_str(), stdout);
      status = 2;
      continue;
    }
    ReplayResult result;
    if (record_path.empty()) {
      result = replay_trace(*loaded.trace);
    } else {
      RecordedReplay rec = record_replay(*loaded.trace, "recorded replay of " + file);
      result = std::move(rec.result);
      if (!write_file(record_path, write_trace(rec.recording))) status = 2;
    }
    std::fputs(format_result(file, result).c_str(), stdout);
    if (!result.passed() && status == 0) status = 1;
    if (!timeline_path.empty()) {
      std::string doc = timeline_of(*loaded.trace);
      if (ends_with(timeline_path, ".js")) doc = "softsynicTimeline(" + doc + ");\n";
      if (!write_file(timeline_path, doc)) status = 2;
    }
  }
  return status;
}
