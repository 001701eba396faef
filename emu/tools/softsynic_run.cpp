// softsynic-run: runs a guest image on the reference emulator.
//
//   softsynic-run --arch x86_64 --vps 4 --memory 64M --image guest.elf [--log]
//   softsynic-run --platform pc --vps 2 --memory 128M --kernel kernel.flat [--append ARGS]
//
// The pc platform boots a multiboot kernel the way QEMU's -kernel does; its
// isa-debug-exit device makes the exit status (code << 1) | 1
// (docs/PC_PLATFORM.md).
//
// Exit status: the guest's exit code (0-255) when it wrote the exit device;
// 120 host error (bad image, bad option value), 121 guest fault, 122
// deadlock, 124 timeout, 2 usage error.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_hooks/hv_config.h"
#include "emu/host_ports.h"
#include "emu/runner.h"
#ifdef SOFTSYNIC_RUN_HAVE_VMBUS
#include <memory>

#include "devices/vmbus/echo_device.h"
#include "devices/vmbus/server.h"
#endif

namespace {

using softsynic::emu::Arch;

constexpr int kUsageError = 2;

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: softsynic-run [options] --image FILE\n"
               "       softsynic-run --platform pc [options] --kernel FILE [--append ARGS]\n"
               "  --arch x86_64|aarch64   guest architecture (default x86_64)\n"
               "  --platform bare|pc      bare: the runner's boot contract (default); pc: a PC that\n"
               "                          boots a multiboot kernel (x86_64; docs/PC_PLATFORM.md)\n"
               "  --vps N                 virtual processors (default 1; bare: up to 64, pc: up to 255)\n"
               "  --memory SIZE           guest RAM, e.g. 64M, 1G (default 64M)\n"
               "  --image FILE            ELF64 executable or flat binary (bare)\n"
               "  --kernel FILE           multiboot v1 kernel, ELF32/ELF64 or a.out kludge (pc)\n"
               "  --append ARGS           the kernel's command line after its path (pc)\n"
               "  --feature-off NAME      hide a hypervisor feature (repeatable):");
  for (const auto& f : softsynic::hv_feature_names()) std::fprintf(to, " %.*s", static_cast<int>(f.name.size()), f.name.data());
  std::fprintf(to,
               "\n"
               "  --log                   one line per SynIC event on stderr\n"
               "  --record FILE           write the run as a trace (format v1)\n"
               "  --timeline FILE         write a Chrome trace-event timeline\n"
               "  --timeout SECONDS       end the run after this much wall time\n"
               "  --timeout-blocks N      end the run after N executed blocks (deterministic)\n"
               "  --slice-blocks N        blocks per scheduling slice (default 20000)\n"
               "  --threads N             run VP strands on N host threads (default 0: deterministic)\n"
               "  --clock virtual|host    reference time: one 100 ns tick per executed block (default,\n"
               "                          deterministic) or the host's steady clock (interactive)\n"
               "  --device vmbus-echo     attach the VMBus host with the echo device (docs/VMBUS.md)\n"
               "  --vmbus-log             decoded VMBus control messages on stderr\n"
               "Built-in host ports: echo message port 0x%x, event port 0x%x, command port 0x%x;\n"
               "replies arrive on SINT %u.\n"
               "Exit status: the guest's exit code (pc: (code << 1) | 1 of its isa-debug-exit\n"
               "write); 120 host error, 121 guest fault, 122 deadlock, 124 timeout, 2 usage error.\n",
               softsynic::emu::kEchoConnectionId, softsynic::emu::kEventConnectionId,
               softsynic::emu::kCommandConnectionId, softsynic::emu::kReplySint);
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  int base = 10;
  if (s.starts_with("0x")) {
    s.remove_prefix(2);
    base = 16;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool parse_size(std::string_view s, std::uint64_t& out) {
  std::uint64_t scale = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 'K': case 'k': scale = 1ull << 10; break;
      case 'M': case 'm': scale = 1ull << 20; break;
      case 'G': case 'g': scale = 1ull << 30; break;
      default: break;
    }
    if (scale != 1) s.remove_suffix(1);
  }
  if (!parse_u64(s, out) || out == 0 || out > (1ull << 40) / scale) return false;
  out *= scale;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  softsynic::emu::RunnerOptions options;
  std::string record_path;
  std::string timeline_path;
  bool log = false;
  bool vmbus_echo = false;
  bool vmbus_log = false;
  std::string kernel;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    auto value = [&](std::string_view& v) {
      if (i + 1 >= args.size()) return false;
      v = args[++i];
      return true;
    };
    std::string_view v;
    std::uint64_t n = 0;
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "--log") {
      log = true;
    } else if (a == "--arch" && value(v)) {
      auto arch = softsynic::emu::arch_from_name(v);
      if (!arch) {
        std::fprintf(stderr, "softsynic-run: unknown architecture '%.*s'\n", static_cast<int>(v.size()), v.data());
        return kUsageError;
      }
      options.arch = *arch;
    } else if (a == "--platform" && value(v) && (v == "bare" || v == "pc")) {
      options.platform = v == "pc" ? softsynic::emu::Platform::pc : softsynic::emu::Platform::bare;
    } else if (a == "--kernel" && value(v)) {
      kernel = std::string(v);
    } else if (a == "--append" && value(v)) {
      options.arguments = std::string(v);
    } else if (a == "--vps" && value(v) && parse_u64(v, n) && n >= 1 && n <= 255) {
      options.vps = static_cast<std::uint32_t>(n);
    } else if (a == "--memory" && value(v) && parse_size(v, n)) {
      options.memory = n;
    } else if (a == "--image" && value(v)) {
      options.image = std::string(v);
    } else if (a == "--feature-off" && value(v)) {
      softsynic::HvFeatures probe;
      if (!softsynic::set_hv_feature(probe, v, false)) {
        std::fprintf(stderr, "softsynic-run: unknown feature '%.*s' (see --help)\n", static_cast<int>(v.size()), v.data());
        return kUsageError;
      }
      options.features_off.emplace_back(v);
    } else if (a == "--record" && value(v)) {
      record_path = std::string(v);
    } else if (a == "--timeline" && value(v)) {
      timeline_path = std::string(v);
    } else if (a == "--timeout" && value(v)) {
      char* end = nullptr;
      std::string s(v);
      options.timeout_seconds = std::strtod(s.c_str(), &end);
      if (end == s.c_str() || *end != '\0' || options.timeout_seconds <= 0) {
        std::fprintf(stderr, "softsynic-run: bad --timeout\n");
        return kUsageError;
      }
    } else if (a == "--timeout-blocks" && value(v) && parse_u64(v, n) && n > 0) {
      options.timeout_blocks = n;
    } else if (a == "--slice-blocks" && value(v) && parse_u64(v, n) && n > 0) {
      options.slice_blocks = n;
    } else if (a == "--threads" && value(v) && parse_u64(v, n) && n <= 64) {
      options.threads = static_cast<unsigned>(n);
    } else if (a == "--clock" && value(v) && (v == "virtual" || v == "host")) {
      options.host_clock = v == "host";
#ifdef SOFTSYNIC_RUN_HAVE_VMBUS
    } else if (a == "--device" && value(v) && v == "vmbus-echo") {
      vmbus_echo = true;
    } else if (a == "--vmbus-log") {
      vmbus_log = true;
#endif
    } else {
      std::fprintf(stderr, "softsynic-run: bad argument '%.*s'\n", static_cast<int>(a.size()), a.data());
      usage(stderr);
      return kUsageError;
    }
  }
  const bool pc = options.platform == softsynic::emu::Platform::pc;
  if (pc != !kernel.empty() || (pc && !options.image.empty()) || (!pc && !options.arguments.empty())) {
    std::fprintf(stderr, "softsynic-run: --kernel and --append go with --platform pc, --image with the bare "
                         "platform\n");
    return kUsageError;
  }
  if (pc) options.image = kernel;
  if (options.image.empty()) {
    usage(stderr);
    return kUsageError;
  }
  if (!pc && options.vps > 64) {
    std::fprintf(stderr, "softsynic-run: the bare platform has at most 64 VPs\n");
    return kUsageError;
  }
  if (pc && (vmbus_echo || !record_path.empty())) {
    std::fprintf(stderr, "softsynic-run: --platform pc takes neither --device nor --record (use --timeline)\n");
    return kUsageError;
  }
  if (vmbus_echo && !record_path.empty()) {
    // The trace format has no VMBus host (its rings live in guest memory the
    // format does not carry): such a recording could not replay. The
    // timeline still shows every VMBus message by name.
    std::fprintf(stderr, "softsynic-run: --record cannot be combined with --device vmbus-echo "
                         "(a trace has no VMBus host to replay against); use --timeline\n");
    return kUsageError;
  }
  options.record_path = record_path;
  options.timeline_path = timeline_path;
  if (log) options.log = &std::cerr;

  try {
    softsynic::emu::Runner runner(options);
#ifdef SOFTSYNIC_RUN_HAVE_VMBUS
    // The VMBus host sits on the partition's public host API; it goes
    // before the runner (declared after it).
    std::unique_ptr<softsynic::vmbus::VmbusServer> vmbus;
    std::shared_ptr<softsynic::vmbus::EchoDevice> echo;
    if (vmbus_echo) {
      softsynic::vmbus::ServerOptions vo;
      if (vmbus_log || log) vo.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
      vmbus = std::make_unique<softsynic::vmbus::VmbusServer>(runner.partition(), std::move(vo));
      echo = std::make_shared<softsynic::vmbus::EchoDevice>();
      vmbus->add_device(echo);
      if (auto ec = vmbus->start()) {
        std::fprintf(stderr, "softsynic-run: cannot start the VMBus host: %s\n", ec.message().c_str());
        return softsynic::emu::kExitHostError;
      }
    }
#else
    static_cast<void>(vmbus_echo);
    static_cast<void>(vmbus_log);
#endif
    softsynic::emu::RunResult result = runner.run();
#ifdef SOFTSYNIC_RUN_HAVE_VMBUS
    if (echo && (vmbus_log || log)) {
      const auto st = vmbus->status();
      std::fprintf(stderr, "vmbus: echo device: %llu packets, %llu bytes echoed; %llu protocol errors\n",
                   static_cast<unsigned long long>(echo->echoed_packets()),
                   static_cast<unsigned long long>(echo->echoed_bytes()),
                   static_cast<unsigned long long>(st.protocol_errors));
    }
#endif
    if (result.outcome != softsynic::emu::RunOutcome::guest_exit) {
      std::fprintf(stderr, "softsynic-run: %s\n", result.message.c_str());
    } else if (log) {
      std::fprintf(stderr, "softsynic-run: %s after %llu blocks\n", result.message.c_str(),
                   static_cast<unsigned long long>(result.blocks));
    }
    if (!result.record_error.empty()) {
      std::fprintf(stderr, "softsynic-run: %s\n", result.record_error.c_str());
      return softsynic::emu::kExitHostError;
    }
    return softsynic::emu::exit_status(result);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "softsynic-run: %s\n", e.what());
    return softsynic::emu::kExitHostError;
  }
}
