// GdbServer: the GDB remote protocol over TCP (one debugger at a time) on
// its own thread, running a GdbSession over a GdbTarget. A second
// debugger is refused while one is connected. When the debugger closes
// its connection or the connection breaks, the session releases the guest
// (breakpoints removed, every VP resumed).
//
// Threading: construct and destroy on one thread; report_stop() and
// wait_until_disconnected() are thread-safe (engines call report_stop from
// their threads); port() is thread-safe after construction. Everything else runs on the server's
// own thread, which makes every GdbTarget call.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "emu/gdb/target.h"

namespace softsynic::gdb {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
};

// "[HOST:]PORT": HOST a name or an address ("[::1]" for IPv6), loopback
// when omitted; PORT 0 picks a free port. nullopt when malformed.
std::optional<Endpoint> parse_endpoint(std::string_view text);

class GdbServer {
 public:
  // Binds and listens at once (throws boost::system::system_error, a
  // std::runtime_error, when it cannot),
  // then serves on its own thread until destroyed.
  GdbServer(GdbTarget& target, const Endpoint& endpoint);
  ~GdbServer();
  GdbServer(const GdbServer&) = delete;
  GdbServer& operator=(const GdbServer&) = delete;

  std::uint16_t port() const;
  void report_stop(const StopEvent& event);
  // Blocks until no debugger is connected, at most `limit` (the guest
  // ended: gdb takes the exit reply and closes). true: none connected.
  bool wait_until_disconnected(std::chrono::milliseconds limit);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace softsynic::gdb
