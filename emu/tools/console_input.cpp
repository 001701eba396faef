// softsynic-run's console input; see console_input.h.
#include "emu/tools/console_input.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace softsynic::emu::tools {
namespace {

// The terminal to restore, for atexit and signal handlers (one per process).
int g_fd = -1;
termios g_saved{};
volatile std::sig_atomic_t g_raw = 0;

constexpr std::array kFatalSignals = {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
std::array<struct sigaction, kFatalSignals.size()> g_previous{};

void restore_terminal() {
  if (g_raw != 0) {
    tcsetattr(g_fd, TCSANOW, &g_saved);  // async-signal-safe
    g_raw = 0;
  }
}

// Restores the terminal, then lets the signal do what it did before.
void on_fatal_signal(int sig) {
  restore_terminal();
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    if (kFatalSignals[i] == sig) sigaction(sig, &g_previous[i], nullptr);
  }
  raise(sig);
}

constexpr auto kPollMs = 50;
constexpr auto kBacklogRetry = std::chrono::milliseconds(5);

}  // namespace

TerminalRawMode::TerminalRawMode(int fd) {
  if (isatty(fd) == 0 || tcgetattr(fd, &g_saved) != 0) return;
  g_fd = fd;
  termios raw = g_saved;
  cfmakeraw(&raw);
  // The host's own messages ("softsynic-run: ...") end in "\n" alone.
  raw.c_oflag |= OPOST | ONLCR;
  static bool handlers_installed = false;
  if (!handlers_installed) {
    handlers_installed = true;
    std::atexit(restore_terminal);
    struct sigaction action {};
    action.sa_handler = on_fatal_signal;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < kFatalSignals.size(); ++i) sigaction(kFatalSignals[i], &action, &g_previous[i]);
  }
  if (tcsetattr(fd, TCSANOW, &raw) != 0) return;
  g_raw = 1;
  active_ = true;
}

TerminalRawMode::~TerminalRawMode() {
  if (active_) restore_terminal();
}

EscapeParser::Action EscapeParser::feed(std::uint8_t byte, std::uint8_t& out) {
  if (!prefix_) {
    if (byte == kEscapeKey) {
      prefix_ = true;
      return Action::none;
    }
    out = byte;
    return Action::send;
  }
  prefix_ = false;
  switch (byte) {
    case 'x':
    case 'X': return Action::quit;
    case kEscapeKey: out = kEscapeKey; return Action::send;
    case 'h':
    case 'H':
    case '?': return Action::help;
    default: return Action::none;
  }
}

ConsoleInput::ConsoleInput(int fd, bool escape, std::function<std::size_t(std::span<const std::uint8_t>)> deliver,
                           std::function<void()> quit)
    : fd_(fd), escape_(escape), deliver_(std::move(deliver)), quit_(std::move(quit)), thread_([this] { run(); }) {}

ConsoleInput::~ConsoleInput() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

// Hands every byte over, waiting while the guest's backlog is full.
void ConsoleInput::deliver_all(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty() && !stop_.load(std::memory_order_acquire)) {
    const std::size_t n = deliver_(bytes);
    bytes = bytes.subspan(n);
    if (n == 0) std::this_thread::sleep_for(kBacklogRetry);
  }
}

void ConsoleInput::run() {
  std::array<std::uint8_t, 4096> buffer{};
  EscapeParser parser;
  while (!stop_.load(std::memory_order_acquire)) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, kPollMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      if (ready < 0) return;
      continue;
    }
    const ssize_t n = read(fd_, buffer.data(), buffer.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;  // end of file or an error: no more input
    std::span<const std::uint8_t> got(buffer.data(), static_cast<std::size_t>(n));
    if (!escape_) {
      deliver_all(got);
      continue;
    }
    std::array<std::uint8_t, buffer.size()> plain{};
    std::size_t count = 0;
    for (std::uint8_t byte : got) {
      std::uint8_t out = 0;
      switch (parser.feed(byte, out)) {
        case EscapeParser::Action::send: plain[count++] = out; break;
        case EscapeParser::Action::quit:
          deliver_all({plain.data(), count});
          if (quit_) quit_();
          return;
        case EscapeParser::Action::help:
          std::fprintf(stderr, "\nsoftsynic-run console: Ctrl-A x quit, Ctrl-A Ctrl-A send Ctrl-A, Ctrl-A h this help\n");
          break;
        case EscapeParser::Action::none: break;
      }
    }
    deliver_all({plain.data(), count});
  }
}

}  // namespace softsynic::emu::tools
