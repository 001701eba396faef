// HypervTestDevice: the Hyper-V test device of QEMU's hyperv-testdev at
// port 0x3000, which the bare-metal SynIC conformance kernels drive. Each
// 32-bit write is a command:
//   bits 31-24 connection id, 23-16 control, 15-8 VP index, 7-0 SINT
// control 1/2: create/destroy a SINT route to (vp, sint);
//         3:   assert that route's SINT (its vector, no message or flag);
//         4/5: create/destroy a message connection: the guest's
//              HvPostMessage to `conn` is posted back to (vp, sint);
//         6/7: create/destroy an event connection: the guest's
//              HvSignalEvent on `conn` sets flag `conn` in (vp, sint)'s
//              event slot and raises the SINT.
// Invalid commands (unknown control, VP or SINT out of range, a route or
// connection that exists already or does not exist, a connection id the
// host uses) are reported to the log hook and ignored; they never stop the
// machine. Reads return 0.
// Not supported: VTLs other than 0; the echoed message is the guest's
// message type and payload (QEMU re-posts the raw hypercall input).
//
// Threading: io_write runs on the writing VP's strand (inside its CPU
// slice); asserting another VP's SINT is posted to that VP's strand. State
// is guarded by a mutex; the ports it registers are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "devices/pc/io_port_device.h"
#include "synic/ports.h"

namespace softsynic {
class Partition;
}

namespace softsynic::devices {

class HypervTestDevice final : public IoPortDevice {
 public:
  static constexpr std::uint16_t kPort = 0x3000;
  static constexpr std::uint16_t kPortCount = 4;

  enum class Control : std::uint8_t {
    sint_route_create = 1,
    sint_route_destroy = 2,
    sint_assert = 3,
    message_connection_create = 4,
    message_connection_destroy = 5,
    event_connection_create = 6,
    event_connection_destroy = 7,
  };

  HypervTestDevice(Partition& partition, std::function<void(const std::string&)> log);
  ~HypervTestDevice() override;

  std::uint32_t io_read(std::uint32_t, std::uint16_t, unsigned) override { return 0; }
  void io_write(std::uint32_t vp, std::uint16_t port, unsigned size, std::uint32_t value) override;

  // What exists now (tests).
  std::size_t route_count() const;
  std::size_t connection_count() const;

 private:
  struct Command {
    std::uint32_t conn;
    std::uint8_t control;
    std::uint32_t vp;
    std::uint8_t sint;
  };
  void execute(std::uint32_t writer, const Command& c);
  void assert_sint(std::uint32_t writer, std::uint32_t vp, std::uint8_t sint);
  void reject(const Command& c, const std::string& why);

  Partition& partition_;
  std::function<void(const std::string&)> log_;
  mutable std::mutex mutex_;
  std::set<std::pair<std::uint32_t, std::uint8_t>> routes_;
  std::map<std::uint32_t, PortHandle> message_connections_;
  std::map<std::uint32_t, PortHandle> event_connections_;
};

}  // namespace softsynic::devices
