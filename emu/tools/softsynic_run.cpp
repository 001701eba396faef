// softsynic-run: runs a guest image on the reference emulator.
//
//   softsynic-run --arch x86_64 --vps 4 --memory 64M --image guest.elf [--log]
//   softsynic-run --platform pc --vps 2 --memory 128M --kernel kernel.flat [--append ARGS]
//   softsynic-run ... --gdb [HOST:]PORT [--gdb-wait]   (docs/DEBUGGING.md)
//
// The pc platform boots a multiboot kernel the way QEMU's -kernel does; its
// isa-debug-exit device makes the exit status (code << 1) | 1
// (docs/PC_PLATFORM.md).
//
// Exit status: the guest's exit code (0-255) when it wrote the exit device;
// 120 host error (bad image, bad option value), 121 guest fault, 122
// deadlock, 123 triple fault, 124 timeout, 125 the guest reported a crash
// (x86 CRASH_CTL), 2 usage error.
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/any.hpp>
#include <boost/program_options.hpp>

#include "cpu_hooks/hv_config.h"
#include "emu/gdb/server.h"
#include "emu/host_ports.h"
#include "emu/runner.h"
#include "emu/tools/console_input.h"
#ifdef SOFTSYNIC_RUN_HAVE_VMBUS
#include <memory>

#include "devices/vmbus/echo_device.h"
#include "devices/vmbus/heartbeat_device.h"
#include "devices/vmbus/server.h"
#include "devices/vmbus/shutdown_device.h"
#include "devices/vmbus/timesync_device.h"
#endif

namespace {

namespace po = boost::program_options;
using softsynic::emu::Arch;

constexpr int kUsageError = 2;

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: softsynic-run [options] --image FILE\n"
               "       softsynic-run --platform pc [options] --kernel FILE [--append ARGS]\n"
               "       softsynic-run --platform pc [options] --linux FILE [--initrd FILE] [--append ARGS]\n"
               "       softsynic-run --arch aarch64 --platform virt [options] --linux Image [--initrd FILE]\n"
               "                     [--append ARGS]\n"
               "  --arch x86_64|aarch64   guest architecture (default x86_64)\n"
               "  --platform bare|pc|virt bare: the runner's boot contract (default); pc: a PC that\n"
               "                          boots a multiboot kernel or Linux (x86_64; docs/PC_PLATFORM.md);\n"
               "                          virt: an Arm machine with a GICv3, PL011 and PSCI (aarch64;\n"
               "                          VP 0 starts, the others at PSCI CPU_ON)\n"
               "  --vps N                 virtual processors (default 1; bare, virt: up to 64, pc: up\n"
               "                          to 255)\n"
               "  --memory SIZE           guest RAM, e.g. 64M, 1G (default 64M)\n"
               "  --image FILE            ELF64 executable or flat binary (bare, virt)\n"
               "  --kernel FILE           multiboot v1 kernel, ELF32/ELF64 or a.out kludge (pc)\n"
               "  --linux FILE            Linux kernel: bzImage, or vmlinux with its PVH entry (pc),\n"
               "                          an arm64 Image (virt; docs/LINUX_GUEST.md)\n"
               "  --initrd FILE           initramfs for --linux\n"
               "  --append ARGS           multiboot: the command line after the kernel's path; Linux:\n"
               "                          the whole command line (pc, virt)\n"
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
               "                          deterministic) or the host's steady clock (interactive; the\n"
               "                          default with serial input)\n"
               "  --unchecked-code-writes x86: guest stores are not checked against translated code\n"
               "                          (about 2.5x faster stores; a guest that rewrites code it\n"
               "                          has run, as Linux's boot does, may run the old code)\n"
               "  --serial-input auto|stdin|none\n"
               "                          pc: stdin to COM1 (auto, the default: when stdin and\n"
               "                          stdout are terminals; stdin goes into raw mode, Ctrl-A x\n"
               "                          quits, Ctrl-A h lists the keys). The console output is\n"
               "                          then a byte stream\n"
               "  --device vmbus-echo     attach the VMBus host with the echo device (docs/VMBUS.md)\n"
               "  --device vmbus-ic       the same with the integration components: heartbeat,\n"
               "                          shutdown, time sync\n"
               "  --shutdown-after S      vmbus-ic: the host asks the guest to shut down at reference\n"
               "                          time S seconds\n"
               "  --vmbus-log             decoded VMBus control messages on stderr\n"
               "  --gdb [HOST:]PORT       serve the GDB remote protocol over TCP (loopback unless HOST\n"
               "                          is named; port 0 picks one; stderr names it; docs/DEBUGGING.md)\n"
               "  --gdb-wait              with --gdb: hold every VP before its first instruction until\n"
               "                          gdb attaches\n"
               "Built-in host ports: echo message port 0x%x, event port 0x%x, command port 0x%x;\n"
               "replies arrive on SINT %u.\n"
               "Exit status: the guest's exit code (pc: (code << 1) | 1 of its isa-debug-exit\n"
               "write); 120 host error, 121 guest fault, 122 deadlock, 123 triple fault, 124 timeout,\n"
               "125 the guest reported a crash (x86 CRASH_CTL), 2 usage error.\n",
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

// Option value types. Boost.Program_options calls validate() (below) for
// each occurrence; every one of them stores its value over an earlier one,
// so a repeated option keeps its last value (scripts append options to a
// base command line), and --feature-off collects every name.

// A refused value whose message is complete as it stands: printed without
// the usage text.
class Refused : public po::error {
 public:
  using po::error::error;
};

template <std::uint64_t Min, std::uint64_t Max>
struct Number {
  std::uint64_t value = 0;
};
struct Size {
  std::uint64_t bytes = 0;
};
struct Seconds {
  double value = 0;
};
struct Text {
  std::string value;
};
struct Flag {};
struct ArchName {
  Arch value = Arch::x86_64;
};
struct FeaturesOff {
  std::vector<std::string> names;
};
struct GdbEndpoint {
  softsynic::gdb::Endpoint value;
};
// One of a fixed set of words (--platform, --clock, --device).
template <const char* const* Words>
struct Choice {
  std::string value;
};
constexpr const char* kPlatforms[] = {"bare", "pc", "virt", nullptr};
constexpr const char* kClocks[] = {"virtual", "host", nullptr};
constexpr const char* kDevices[] = {"vmbus-echo", "vmbus-ic", nullptr};
constexpr const char* kSerialInputs[] = {"auto", "stdin", "none", nullptr};

const std::string& single(const std::vector<std::string>& values) {
  return po::validators::get_single_string(values);
}

template <std::uint64_t Min, std::uint64_t Max>
void validate(boost::any& v, const std::vector<std::string>& values, Number<Min, Max>*, int) {
  std::uint64_t n = 0;
  if (!parse_u64(single(values), n) || n < Min || n > Max) throw po::invalid_option_value(single(values));
  v = Number<Min, Max>{n};
}
void validate(boost::any& v, const std::vector<std::string>& values, Size*, int) {
  std::uint64_t n = 0;
  if (!parse_size(single(values), n)) throw po::invalid_option_value(single(values));
  v = Size{n};
}
void validate(boost::any& v, const std::vector<std::string>& values, Seconds*, int) {
  const std::string& s = single(values);
  char* end = nullptr;
  const double seconds = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !(seconds > 0)) throw Refused("bad --timeout");
  v = Seconds{seconds};
}
void validate(boost::any& v, const std::vector<std::string>& values, Text*, int) { v = Text{single(values)}; }
void validate(boost::any& v, const std::vector<std::string>&, Flag*, int) { v = Flag{}; }
void validate(boost::any& v, const std::vector<std::string>& values, ArchName*, int) {
  const std::string& s = single(values);
  auto arch = softsynic::emu::arch_from_name(s);
  if (!arch) throw Refused("unknown architecture '" + s + "'");
  v = ArchName{*arch};
}
void validate(boost::any& v, const std::vector<std::string>& values, FeaturesOff*, int) {
  const std::string& s = single(values);
  softsynic::HvFeatures probe;
  if (!softsynic::set_hv_feature(probe, s, false)) throw Refused("unknown feature '" + s + "' (see --help)");
  FeaturesOff all = v.empty() ? FeaturesOff{} : boost::any_cast<FeaturesOff>(v);
  all.names.push_back(s);
  v = std::move(all);
}
void validate(boost::any& v, const std::vector<std::string>& values, GdbEndpoint*, int) {
  const std::string& s = single(values);
  auto endpoint = softsynic::gdb::parse_endpoint(s);
  if (!endpoint) throw Refused("bad --gdb '" + s + "' (want [HOST:]PORT)");
  v = GdbEndpoint{*endpoint};
}
template <const char* const* Words>
void validate(boost::any& v, const std::vector<std::string>& values, Choice<Words>*, int) {
  const std::string& s = single(values);
  for (const char* const* w = Words; *w != nullptr; ++w) {
    if (s == *w) {
      v = Choice<Words>{s};
      return;
    }
  }
  throw po::invalid_option_value(s);
}

template <class T>
po::typed_value<T>* arg() {
  return po::value<T>();
}
po::typed_value<Flag>* flag() { return po::value<Flag>()->zero_tokens(); }

// The value of `name` if given.
template <class T>
const T* given(const po::variables_map& vm, const char* name) {
  auto it = vm.find(name);
  return it == vm.end() ? nullptr : &it->second.as<T>();
}

#ifdef SOFTSYNIC_RUN_HAVE_VMBUS
// `monitor vmbus`: the VMBus host's connection and channels.
constexpr const char* vmbus_monitor_help =
    "  vmbus                       VMBus host: connection, channels (relid, state, ring indices)\n";

std::optional<std::string> vmbus_monitor(const softsynic::vmbus::VmbusServer& host, std::string_view command) {
  if (command != "vmbus") return std::nullopt;
  const auto st = host.status();
  char line[256];
  std::string out;
  std::snprintf(line, sizeof line, "vmbus: %s, version %#x, target vp%u sint%u, %zu gpadls, %zu channels (%zu open)\n",
                st.connected ? "connected" : "not connected", st.version, st.target_vp, static_cast<unsigned>(st.sint),
                st.gpadls, st.channels, st.open_channels);
  out += line;
  for (const auto& c : host.channels()) {
    const char* state = c.broken ? "broken" : c.open ? "open" : c.rescinded ? "rescinded" : c.offered ? "offered" : "not offered";
    std::snprintf(line, sizeof line, "relid %u: connection %#x %s", c.relid, c.connection_id, state);
    out += line;
    if (c.open) {
      std::snprintf(line, sizeof line, " vp%u gpadl %#x packets in %llu out %llu", c.open_vp, c.gpadl,
                    static_cast<unsigned long long>(c.packets_in), static_cast<unsigned long long>(c.packets_out));
      out += line;
      auto ring = [&](const char* name, const std::optional<softsynic::vmbus::ChannelInfo::Ring>& r) {
        if (!r) {
          out += std::string("; ") + name + " ring unreadable";
          return;
        }
        std::snprintf(line, sizeof line, "; %s ring write %#x read %#x (of %#x)", name, r->write_index, r->read_index,
                      r->data_size);
        out += line;
      };
      ring("guest->host", c.outbound);
      ring("host->guest", c.inbound);
    }
    out += "\n";
  }
  return out;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  softsynic::emu::RunnerOptions options;
  po::options_description described;
  // The help text is usage()'s; the descriptions here stay empty.
  described.add_options()
    ("help,h", flag())
    ("log", flag())
    ("arch", arg<ArchName>())
    ("platform", arg<Choice<kPlatforms>>())
    ("kernel", arg<Text>())
    ("linux", arg<Text>())
    ("initrd", arg<Text>())
    ("append", arg<Text>())
    ("vps", arg<Number<1, 255>>())
    ("memory", arg<Size>())
    ("image", arg<Text>())
    ("feature-off", arg<FeaturesOff>())
    ("record", arg<Text>())
    ("timeline", arg<Text>())
    ("timeout", arg<Seconds>())
    ("timeout-blocks", arg<Number<1, UINT64_MAX>>())
    ("slice-blocks", arg<Number<1, UINT64_MAX>>())
    ("threads", arg<Number<0, 64>>())
    ("clock", arg<Choice<kClocks>>())
    ("gdb", arg<GdbEndpoint>())
    ("gdb-wait", flag())
    ("unchecked-code-writes", flag())
    ("serial-input", arg<Choice<kSerialInputs>>());
#ifdef SOFTSYNIC_RUN_HAVE_VMBUS
  described.add_options()
    ("device", arg<Choice<kDevices>>())
    ("shutdown-after", arg<Seconds>())
    ("vmbus-log", flag());
#else
  static_cast<void>(kDevices);
#endif
  po::variables_map vm;
  try {
    // No abbreviated option names, no positional arguments.
    po::store(po::command_line_parser(argc, argv)
                  .options(described)
                  .positional(po::positional_options_description())
                  .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                  .run(),
              vm);
  } catch (const Refused& e) {
    std::fprintf(stderr, "softsynic-run: %s\n", e.what());
    return kUsageError;
  } catch (const po::error& e) {
    std::fprintf(stderr, "softsynic-run: %s\n", e.what());
    usage(stderr);
    return kUsageError;
  }
  if (vm.count("help") != 0) {
    usage(stdout);
    return 0;
  }
  const bool log = vm.count("log") != 0;
  // Both devices attach the VMBus host with the echo device; vmbus-ic adds
  // the integration components.
  const bool vmbus_echo = vm.count("device") != 0;
  const bool vmbus_ic = vmbus_echo && vm["device"].as<Choice<kDevices>>().value == "vmbus-ic";
  std::optional<double> shutdown_after;
  if (auto* v = given<Seconds>(vm, "shutdown-after")) shutdown_after = v->value;
  if (shutdown_after && !vmbus_ic) {
    std::fprintf(stderr, "softsynic-run: --shutdown-after goes with --device vmbus-ic\n");
    return kUsageError;
  }
  const bool vmbus_log = vm.count("vmbus-log") != 0;
  if (auto* v = given<ArchName>(vm, "arch")) options.arch = v->value;
  if (auto* v = given<Choice<kPlatforms>>(vm, "platform")) {
    options.platform = v->value == "pc"     ? softsynic::emu::Platform::pc
                       : v->value == "virt" ? softsynic::emu::Platform::virt
                                            : softsynic::emu::Platform::bare;
  }
  std::string kernel;
  if (auto* v = given<Text>(vm, "kernel")) kernel = v->value;
  if (auto* v = given<Text>(vm, "linux")) {
    if (!kernel.empty()) {
      std::fprintf(stderr, "softsynic-run: --kernel (multiboot) and --linux exclude each other\n");
      return kUsageError;
    }
    kernel = v->value;
    options.linux_kernel = true;
  }
  if (auto* v = given<Text>(vm, "initrd")) {
    if (!options.linux_kernel) {
      std::fprintf(stderr, "softsynic-run: --initrd goes with --linux\n");
      return kUsageError;
    }
    options.initrd = v->value;
  }
  if (auto* v = given<Text>(vm, "append")) options.arguments = v->value;
  if (auto* v = given<Number<1, 255>>(vm, "vps")) options.vps = static_cast<std::uint32_t>(v->value);
  if (auto* v = given<Size>(vm, "memory")) options.memory = v->bytes;
  if (auto* v = given<Text>(vm, "image")) options.image = v->value;
  if (auto* v = given<FeaturesOff>(vm, "feature-off")) options.features_off = v->names;
  std::string record_path;
  if (auto* v = given<Text>(vm, "record")) record_path = v->value;
  std::string timeline_path;
  if (auto* v = given<Text>(vm, "timeline")) timeline_path = v->value;
  if (auto* v = given<Seconds>(vm, "timeout")) options.timeout_seconds = v->value;
  if (auto* v = given<Number<1, UINT64_MAX>>(vm, "timeout-blocks")) options.timeout_blocks = v->value;
  if (auto* v = given<Number<1, UINT64_MAX>>(vm, "slice-blocks")) options.slice_blocks = v->value;
  if (auto* v = given<Number<0, 64>>(vm, "threads")) options.threads = static_cast<unsigned>(v->value);
  if (auto* v = given<Choice<kClocks>>(vm, "clock")) options.host_clock = v->value == "host";
  if (auto* v = given<GdbEndpoint>(vm, "gdb")) options.gdb = v->value;
  options.gdb_wait = vm.count("gdb-wait") != 0;
  options.check_code_writes = vm.count("unchecked-code-writes") == 0;
  if (options.gdb_wait && !options.gdb) {
    std::fprintf(stderr, "softsynic-run: --gdb-wait goes with --gdb\n");
    return kUsageError;
  }
  const bool pc = options.platform == softsynic::emu::Platform::pc;
  const bool virt = options.platform == softsynic::emu::Platform::virt;
  // pc: --kernel (multiboot) or --linux; virt: --linux, or --image for a
  // bare-metal ELF; bare: --image.
  const bool kernel_ok = pc ? !kernel.empty() && options.image.empty()
                      : virt ? (options.linux_kernel ? options.image.empty() : kernel.empty())
                             : kernel.empty();
  if (!kernel_ok || (!options.linux_kernel && !pc && !options.arguments.empty())) {
    std::fprintf(stderr, "softsynic-run: --kernel goes with --platform pc, --linux and --append with --platform pc "
                         "or virt, --image with the bare and virt platforms\n");
    return kUsageError;
  }
  if (virt && options.arch != softsynic::emu::Arch::aarch64) {
    std::fprintf(stderr, "softsynic-run: --platform virt goes with --arch aarch64\n");
    return kUsageError;
  }
  if (!kernel.empty()) options.image = kernel;
  // Serial input: stdin to COM1. auto takes an interactive session only,
  // stdin and stdout both terminals: a script that runs softsynic-run from
  // a terminal but reads its output keeps the deterministic run.
  const std::string serial_input = vm.count("serial-input") != 0 ? vm["serial-input"].as<Choice<kSerialInputs>>().value : "auto";
  const bool interactive = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0;
  if (serial_input == "stdin" && !pc && !virt) {
    std::fprintf(stderr, "softsynic-run: --serial-input stdin goes with --platform pc (COM1) or virt (the PL011)\n");
    return kUsageError;
  }
  const bool console_input = (pc || virt) && (serial_input == "stdin" || (serial_input == "auto" && interactive));
  if (console_input) {
    options.console_input = true;
    // Typing happens in host time; an idle guest waiting for it should too.
    if (vm.count("clock") == 0) options.host_clock = true;
  }
  if (options.image.empty()) {
    usage(stderr);
    return kUsageError;
  }
  if (!pc && options.vps > 64) {
    std::fprintf(stderr, "softsynic-run: the bare and virt platforms have at most 64 VPs\n");
    return kUsageError;
  }
  if (pc && !record_path.empty()) {
    std::fprintf(stderr, "softsynic-run: --platform pc takes no --record (use --timeline)\n");
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
  options.diagnostics = &std::cerr;

  try {
    softsynic::emu::Runner runner(options);
#ifdef SOFTSYNIC_RUN_HAVE_VMBUS
    // The VMBus host sits on the partition's public host API; it goes
    // before the runner (declared after it).
    std::unique_ptr<softsynic::vmbus::VmbusServer> vmbus;
    std::shared_ptr<softsynic::vmbus::EchoDevice> echo;
    std::shared_ptr<softsynic::vmbus::HeartbeatDevice> heartbeat;
    std::shared_ptr<softsynic::vmbus::ShutdownDevice> shutdown;
    if (vmbus_echo) {
      softsynic::vmbus::ServerOptions vo;
      if (vmbus_log || log) vo.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
      vo.time = &runner.time_source();
      vmbus = std::make_unique<softsynic::vmbus::VmbusServer>(runner.partition(), std::move(vo));
      echo = std::make_shared<softsynic::vmbus::EchoDevice>();
      vmbus->add_device(echo);
      if (vmbus_ic) {
        heartbeat = std::make_shared<softsynic::vmbus::HeartbeatDevice>();
        shutdown = std::make_shared<softsynic::vmbus::ShutdownDevice>();
        softsynic::vmbus::TimeSyncOptions ts;
        // Host time follows the reference clock from a fixed start (runs
        // repeat exactly), or the wall clock when the run follows it.
        if (options.host_clock) ts.parent_time_at_zero = softsynic::vmbus::wall_clock_parent_time_at_zero(0);
        vmbus->add_device(heartbeat);
        vmbus->add_device(shutdown);
        vmbus->add_device(std::make_shared<softsynic::vmbus::TimeSyncDevice>(ts));
        if (shutdown_after) shutdown->request_shutdown(static_cast<std::uint64_t>(*shutdown_after * 1e7));
      }
      softsynic::vmbus::VmbusServer& host = *vmbus;
      runner.add_deadline_source([&host] { return host.next_deadline(); }, [&host] { host.fire_due(); });
      runner.add_monitor_command(vmbus_monitor_help, [&host](std::string_view command) { return vmbus_monitor(host, command); });
      if (auto ec = vmbus->start()) {
        std::fprintf(stderr, "softsynic-run: cannot start the VMBus host: %s\n", ec.message().c_str());
        return softsynic::emu::kExitHostError;
      }
    }
#else
    static_cast<void>(vmbus_echo);
    static_cast<void>(vmbus_log);
#endif
    if (options.gdb) {
      // Scripts read the port from this line (port 0 picks a free one).
      std::fprintf(stderr, "softsynic-run: gdb stub listening on %s:%u%s\n", options.gdb->host.c_str(),
                   static_cast<unsigned>(runner.gdb_port()), options.gdb_wait ? ", waiting for gdb" : "");
      std::fflush(stderr);
    }
    // Console input from stdin while the run goes on; a terminal in raw
    // mode until then. Ctrl-A x stops the run.
    std::atomic<bool> quit{false};
    std::optional<softsynic::emu::tools::TerminalRawMode> raw;
    std::optional<softsynic::emu::tools::ConsoleInput> input;
    if (console_input) {
      raw.emplace(STDIN_FILENO);
      input.emplace(
          STDIN_FILENO, raw->active(), [&runner](std::span<const std::uint8_t> bytes) { return runner.console_input(bytes); },
          [&runner, &quit] {
            quit.store(true);
            runner.stop();
          });
    }
    softsynic::emu::RunResult result = runner.run();
    input.reset();
    raw.reset();
    if (quit.load()) {
      runner.remove_deadline_sources();
      std::fprintf(stderr, "softsynic-run: quit from the console (Ctrl-A x)\n");
      return 0;
    }
    // The VMBus host goes before the runner: stop the runner's threads from
    // asking it for deadlines first.
    runner.remove_deadline_sources();
#ifdef SOFTSYNIC_RUN_HAVE_VMBUS
    if (echo && (vmbus_log || log)) {
      const auto st = vmbus->status();
      std::fprintf(stderr, "vmbus: echo device: %llu packets, %llu bytes echoed; %llu protocol errors\n",
                   static_cast<unsigned long long>(echo->echoed_packets()),
                   static_cast<unsigned long long>(echo->echoed_bytes()),
                   static_cast<unsigned long long>(st.protocol_errors));
    }
    if (heartbeat && (vmbus_log || log)) {
      std::fprintf(stderr, "vmbus: heartbeat: %llu answered, %llu missed\n",
                   static_cast<unsigned long long>(heartbeat->answered()),
                   static_cast<unsigned long long>(heartbeat->missed()));
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
