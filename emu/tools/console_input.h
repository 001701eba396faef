// softsynic-run's console input: bytes from stdin to the guest's console
// (Runner::console_input, the pc platform's COM1), and the terminal set-up
// around it.
//
//  - TerminalRawMode: puts a terminal stdin into raw mode (no echo, no line
//    editing, no signals from Ctrl-C or Ctrl-Z: those bytes go to the
//    guest; output processing stays on so the host's own messages keep
//    their line starts) and restores the saved mode on every exit path:
//    its destructor, std::exit (atexit), and the signals that end a process
//    (SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE,
//    SIGILL; restored, then the signal's default action).
//  - ConsoleInput: a thread that reads stdin and hands the bytes over,
//    retrying while the guest's input backlog is full. With `escape` (a
//    terminal) Ctrl-A is a prefix, as in QEMU: Ctrl-A x quits (the quit
//    callback), Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints the keys;
//    anything else after Ctrl-A is dropped. End of file ends the input,
//    not the run.
//
// Threading: construct and destroy on the main thread. The quit callback
// runs on the input thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <thread>

namespace softsynic::emu::tools {

inline constexpr std::uint8_t kEscapeKey = 0x01;  // Ctrl-A

class TerminalRawMode {
 public:
  // Raw mode on `fd` if it is a terminal; otherwise nothing.
  explicit TerminalRawMode(int fd);
  ~TerminalRawMode();
  TerminalRawMode(const TerminalRawMode&) = delete;
  TerminalRawMode& operator=(const TerminalRawMode&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
};

// What the escape parser makes of one input byte.
class EscapeParser {
 public:
  enum class Action { none, send, quit, help };
  // Returns the action for `byte`; for send, `out` is the byte to send.
  Action feed(std::uint8_t byte, std::uint8_t& out);

 private:
  bool prefix_ = false;
};

class ConsoleInput {
 public:
  // `deliver` takes bytes and returns how many it took; `quit` is called
  // for Ctrl-A x. Reading starts at once.
  ConsoleInput(int fd, bool escape, std::function<std::size_t(std::span<const std::uint8_t>)> deliver,
               std::function<void()> quit);
  ~ConsoleInput();  // stops and joins the thread
  ConsoleInput(const ConsoleInput&) = delete;
  ConsoleInput& operator=(const ConsoleInput&) = delete;

 private:
  void run();
  void deliver_all(std::span<const std::uint8_t> bytes);

  int fd_;
  bool escape_;
  std::function<std::size_t(std::span<const std::uint8_t>)> deliver_;
  std::function<void()> quit_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace softsynic::emu::tools
