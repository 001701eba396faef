// Debian's gdb against the stub's TCP server, with a fake two-VP x86-64
// target behind it: the protocol as the real client speaks it. gdb runs in
// batch mode; its output is checked for what each command must show.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <string>

#include "emu/gdb/server.h"
#include "tests/gdb/fake_target.h"

namespace {

using namespace softsynic::gdb;

// The fake target, answering stop requests at once (its VPs never run).
class ServedTarget : public test::FakeTarget {
 public:
  ServedTarget() : FakeTarget(2) {}
  void stop_all() override {
    FakeTarget::stop_all();
    if (server != nullptr) server->report_stop({StopEvent::Reason::interrupted, 0});
  }
  GdbServer* server = nullptr;
};

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  const int status = pclose(pipe);
  CHECK(status == 0);
  return out;
}

}  // namespace

TEST_CASE("Debian's gdb: threads, registers, memory and monitor commands through the stub") {
  ServedTarget target;
  GdbServer server(target, Endpoint{"127.0.0.1", 0});
  target.server = &server;
  const std::string gdb = std::string(SOFTSYNIC_GDB) + " -nx -batch" +
                          " -ex 'target remote 127.0.0.1:" + std::to_string(server.port()) + "'" +
                          " -ex 'show architecture'"
                          " -ex 'info threads'"
                          " -ex 'thread 2'"
                          " -ex 'info registers rip'"
                          " -ex 'info registers cr3'"
                          " -ex 'thread 1'"
                          " -ex 'info registers rip'"
                          " -ex 'x/4xb 0x100000'"
                          " -ex 'monitor synic'"
                          " -ex 'detach' 2>&1";
  const std::string out = run("timeout 120 " + gdb);
  INFO(out);
  CHECK(out.find("(currently \"i386:x86-64\")") != std::string::npos);
  CHECK(out.find("Thread 1") != std::string::npos);
  CHECK(out.find("Thread 2") != std::string::npos);
  CHECK(out.find("rip            0x100100") != std::string::npos);  // VP 1's PC
  CHECK(out.find("cr3            0x202c") != std::string::npos);   // the fake's VP 1 value of register 44
  CHECK(out.find("rip            0x100000") != std::string::npos);  // VP 0's PC
  CHECK(out.find("0x100000:\t0x00\t0x01\t0x02\t0x03") != std::string::npos);
  CHECK(out.find("vp0 SCONTROL=0x1 SIMP=0x5000 (fake)") != std::string::npos);
  CHECK(out.find("[Inferior 1 (Remote target) detached]") != std::string::npos);
  // Detached: every VP resumed.
  REQUIRE_FALSE(target.resumes.empty());
}
