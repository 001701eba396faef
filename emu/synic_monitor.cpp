// SynIC monitor commands; see synic_monitor.h.
#include "emu/synic_monitor.h"

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "synic/defs/message.h"
#include "synic/guest_memory.h"
#include "synic/partition.h"
#include "synic/time_source.h"
#include "synic/timers/synthetic_timers.h"

namespace softsynic::emu {
namespace {

constexpr unsigned kSints = 16;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return buf;
}

// "NAME" or "NAME VP": the VPs the command covers; nullopt for a bad VP.
std::optional<std::vector<std::uint32_t>> vps_of(std::string_view args, std::uint32_t count) {
  std::vector<std::uint32_t> out;
  while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  if (args.empty()) {
    for (std::uint32_t vp = 0; vp < count; ++vp) out.push_back(vp);
    return out;
  }
  std::uint32_t vp = 0;
  auto [end, ec] = std::from_chars(args.data(), args.data() + args.size(), vp);
  if (ec != std::errc() || end != args.data() + args.size() || vp >= count) return std::nullopt;
  out.push_back(vp);
  return out;
}

// The command's word and its arguments.
bool is_command(std::string_view command, std::string_view word, std::string_view& args) {
  if (!command.starts_with(word)) return false;
  args = command.substr(word.size());
  return args.empty() || args.front() == ' ';
}

// Strand work: one VP's SynIC registers at every VTL.
std::string synic_text(Partition& partition, std::uint32_t vp) {
  std::string out;
  SynicVp& v = partition.vp(vp);
  for (Vtl vtl = 0; vtl < partition.vtl_count(); ++vtl) {
    const PageReg simp = v.simp(vtl);
    out += "vp" + std::to_string(vp) + " vtl" + std::to_string(vtl) + ": SCONTROL=" + hex(v.scontrol(vtl).raw()) +
           (v.scontrol(vtl).enabled() ? " (enabled)" : " (disabled)") + " SIMP=" + hex(simp.raw()) +
           " SIEFP=" + hex(v.siefp(vtl).raw()) + "\n";
    for (unsigned n = 0; n < kSints; ++n) {
      const SintReg sint = v.sint(vtl, n);
      const std::size_t queued = v.queued_messages(vtl, n);
      std::uint32_t slot_type = 0;
      bool slot_read = false;
      if (simp.enabled()) {
        std::byte bytes[4];
        slot_read = partition.memory().read(simp.gpa() + n * sizeof(HvMessage), bytes);
        if (slot_read) {
          for (int i = 0; i < 4; ++i) slot_type |= std::to_integer<std::uint32_t>(bytes[i]) << (8 * i);
        }
      }
      if (sint.masked() && queued == 0 && slot_type == 0) continue;  // nothing to say
      out += "  SINT" + std::to_string(n) + "=" + hex(sint.raw()) + " vector=" + hex(sint.vector()) +
             (sint.masked() ? " masked" : "") + (sint.auto_eoi() ? " auto-eoi" : "") +
             (sint.polling() ? " polling" : "") + " slot=" + (slot_read ? hex(slot_type) : std::string("-")) +
             " queued=" + std::to_string(queued) + "\n";
    }
  }
  return out;
}

std::string timers_text(SyntheticTimers& timers, std::uint8_t vtls, std::uint32_t vp) {
  std::string out;
  StimerVp& t = timers.vp(vp);
  for (Vtl vtl = 0; vtl < vtls; ++vtl) {
    for (unsigned n = 0; n < kStimersPerVp; ++n) {
      const StimerConfigReg config = t.config(vtl, n);
      out += "vp" + std::to_string(vp) + " vtl" + std::to_string(vtl) + " STIMER" + std::to_string(n) +
             ": config=" + hex(config.raw()) + (config.enabled() ? " enabled" : " disabled") +
             (config.periodic() ? " periodic" : "") + (config.lazy() ? " lazy" : "") +
             (config.direct_mode() ? " direct vector=" + hex(config.apic_vector())
                                   : " sint=" + std::to_string(config.sint())) +
             " count=" + std::to_string(t.count(vtl, n)) + "\n";
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> synic_monitor(std::string_view command, const SynicMonitorSources& sources) {
  Partition& partition = *sources.partition;
  std::string_view args;
  if (is_command(command, "ports", args)) {
    std::string out;
    for (const ConnectionInfo& c : partition.connections()) {
      out += "connection " + hex(c.connection_id) + (c.message ? " message port" : " event port") +
             " minimum vtl" + std::to_string(c.minimum_vtl) + "\n";
    }
    return out.empty() ? "no host ports\n" : out;
  }
  const bool synic = is_command(command, "synic", args);
  if (!synic && !is_command(command, "timers", args)) return std::nullopt;
  const auto vps = vps_of(args, partition.vp_count());
  if (!vps) return "usage: " + std::string(synic ? "synic" : "timers") + " [VP] (VP below " +
                   std::to_string(partition.vp_count()) + ")\n";
  if (!synic && sources.timers == nullptr) return "no synthetic timers in this machine\n";
  std::string out;
  if (!synic) out += "reference time now: " + std::to_string(sources.time->now()) + " (100 ns)\n";
  for (std::uint32_t vp : *vps) {
    std::function<std::string()> work;
    if (synic) {
      work = [&partition, vp] { return synic_text(partition, vp); };
    } else {
      work = [timers = sources.timers, vtls = partition.vtl_count(), vp] { return timers_text(*timers, vtls, vp); };
    }
    const auto text = sources.on_strand(vp, std::move(work));
    out += text ? *text : "vp" + std::to_string(vp) + ": its strand did not answer\n";
    if (!synic) {
      const auto deadline = sources.vp_deadline ? sources.vp_deadline(vp) : std::nullopt;
      out += "vp" + std::to_string(vp) + " next deadline: " + (deadline ? std::to_string(*deadline) : "none") + "\n";
    }
  }
  return out;
}

}  // namespace softsynic::emu
