// The SynIC's `monitor` commands for a debugger (docs/DEBUGGING.md):
// readable dumps of per-VP SynIC registers and queues, host ports and
// synthetic timers, made from the core's public accessors.
//
//   synic [VP]    SCONTROL, SIMP, SIEFP and SINT0-15 per VP and VTL, with the
//                 message type in each SINT's slot and the messages queued
//   ports         host ports by connection id (message or event, minimum VTL)
//   timers [VP]   synthetic timers per VP and VTL: config, count; the VP's
//                 next deadline and the reference time now
//
// Threading: synic_monitor() is thread-safe as long as `on_strand` is: the
// strand-affine register reads run through it on each VP's strand.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace softsynic {
class Partition;
class SyntheticTimers;
class TimeSource;
}  // namespace softsynic

namespace softsynic::emu {

struct SynicMonitorSources {
  Partition* partition = nullptr;
  SyntheticTimers* timers = nullptr;  // may be null: no synthetic timers
  const TimeSource* time = nullptr;
  // VP `vp`'s earliest deadline of any kind (the engine's: timers, APIC
  // timer); thread-safe. May be empty.
  std::function<std::optional<std::uint64_t>(std::uint32_t vp)> vp_deadline;
  // Runs `work` on VP `vp`'s strand and returns its text; nullopt when it
  // could not run in time (the run ended).
  std::function<std::optional<std::string>(std::uint32_t vp, std::function<std::string()> work)> on_strand;
};

// The text of `command`, or nullopt when it is not one of these.
std::optional<std::string> synic_monitor(std::string_view command, const SynicMonitorSources& sources);

inline constexpr std::string_view kSynicMonitorHelp =
    "  synic [VP]                  SCONTROL, SIMP, SIEFP, SINTs per VP and VTL; slot and queued messages\n"
    "  ports                       host ports by connection id\n"
    "  timers [VP]                 synthetic timers per VP and VTL, next deadline, reference time\n";

}  // namespace softsynic::emu
