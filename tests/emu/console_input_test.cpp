// softsynic-run's console input (emu/tools/console_input.h): the Ctrl-A
// escape, the reader thread over a pipe (every byte once, in order, through
// a backlog that takes one byte at a time; end of file ends the input), and
// the terminal's raw mode on a pseudo-terminal, restored afterwards.
#include <doctest/doctest.h>

#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "emu/tools/console_input.h"

using softsynic::emu::tools::ConsoleInput;
using softsynic::emu::tools::EscapeParser;
using softsynic::emu::tools::TerminalRawMode;

namespace {

// Feeds `keys` and returns what is sent, with Q for quit and H for help.
std::string parse(const std::string& keys) {
  EscapeParser p;
  std::string out;
  for (char c : keys) {
    std::uint8_t b = 0;
    switch (p.feed(static_cast<std::uint8_t>(c), b)) {
      case EscapeParser::Action::send: out += static_cast<char>(b); break;
      case EscapeParser::Action::quit: out += 'Q'; break;
      case EscapeParser::Action::help: out += 'H'; break;
      case EscapeParser::Action::none: break;
    }
  }
  return out;
}

template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return pred();
}

}  // namespace

TEST_CASE("console escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-A h helps, other Ctrl-A pairs vanish") {
  CHECK(parse("ls\r") == "ls\r");
  CHECK(parse("a\x01xb") == "aQb");
  CHECK(parse("\x01\x01") == "\x01");
  CHECK(parse("\x01h\x01?") == "HH");
  CHECK(parse("\x01z!") == "!");
  CHECK(parse("\x03\x04") == "\x03\x04");  // Ctrl-C and Ctrl-D are ordinary bytes
}

TEST_CASE("console input over a pipe: every byte once and in order through a one-byte backlog; no escape; EOF ends it") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::mutex m;
  std::string got;
  std::atomic<bool> quit{false};
  {
    ConsoleInput input(
        fds[0], false,
        [&](std::span<const std::uint8_t> bytes) -> std::size_t {
          std::lock_guard lock(m);
          got += static_cast<char>(bytes[0]);
          return 1;
        },
        [&] { quit = true; });
    const std::string sent = "echo hi\r\x01x more";
    REQUIRE(write(fds[1], sent.data(), sent.size()) == static_cast<ssize_t>(sent.size()));
    close(fds[1]);
    CHECK(eventually([&] {
      std::lock_guard lock(m);
      return got == sent;
    }));
  }
  CHECK_FALSE(quit.load());
  close(fds[0]);
}

TEST_CASE("console input with the escape: bytes before Ctrl-A x are delivered, then quit is called and reading stops") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::mutex m;
  std::string got;
  std::atomic<int> quits{0};
  {
    ConsoleInput input(
        fds[0], true,
        [&](std::span<const std::uint8_t> bytes) {
          std::lock_guard lock(m);
          got.append(bytes.begin(), bytes.end());
          return bytes.size();
        },
        [&] { ++quits; });
    const std::string sent = "ab\x01\x01" "c\x01xdef";
    REQUIRE(write(fds[1], sent.data(), sent.size()) == static_cast<ssize_t>(sent.size()));
    CHECK(eventually([&] { return quits.load() == 1; }));
  }
  close(fds[1]);
  close(fds[0]);
  CHECK(got == "ab\x01" "c");
}

TEST_CASE("terminal raw mode: a pty loses echo, line editing and signals while it lasts and gets its mode back after") {
  int master = -1, slave = -1;
  REQUIRE(openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  termios before{};
  REQUIRE(tcgetattr(slave, &before) == 0);
  {
    TerminalRawMode raw(slave);
    CHECK(raw.active());
    termios now{};
    REQUIRE(tcgetattr(slave, &now) == 0);
    CHECK((now.c_lflag & (ECHO | ICANON | ISIG)) == 0);
    CHECK((now.c_oflag & OPOST) != 0);  // the host's own "\n" still starts a line
  }
  termios after{};
  REQUIRE(tcgetattr(slave, &after) == 0);
  CHECK(after.c_lflag == before.c_lflag);
  CHECK(after.c_iflag == before.c_iflag);
  CHECK(after.c_oflag == before.c_oflag);
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  TerminalRawMode not_a_terminal(fds[0]);
  CHECK_FALSE(not_a_terminal.active());
  close(fds[0]);
  close(fds[1]);
  close(master);
  close(slave);
}
