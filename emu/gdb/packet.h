// Packet framing of the GDB remote serial protocol: "$payload#cc" where cc
// is the modulo-256 sum of the payload bytes as sent, in two hex digits;
// '+' and '-' acknowledge; a lone 0x03 byte asks the target to stop.
//
// Not thread-safe: one PacketReader per connection, used from that
// connection's strand. frame() and checksum() are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace softsynic::gdb {

// Longest payload accepted (and advertised as PacketSize).
inline constexpr std::size_t kMaxPacketSize = 0x4000;

std::uint8_t checksum(std::string_view sent);
// Frames a reply; '$', '#', '}' and '*' in the payload are escaped (0x7d,
// then the byte XOR 0x20), so binary replies are safe.
std::string frame(std::string_view payload);
// Undoes that escaping (binary data in X packets). A trailing lone escape
// byte is dropped.
std::string unescape(std::string_view sent);

struct PacketEvent {
  enum class Kind {
    packet,        // a well-formed packet: payload holds it as sent (escapes kept)
    bad_checksum,  // framed but its checksum is wrong (the sender repeats it after '-')
    oversized,     // longer than kMaxPacketSize: dropped
    interrupt,     // 0x03 outside a packet
    ack,
    nak,
  };
  Kind kind;
  std::string payload;
};

class PacketReader {
 public:
  // Consumes bytes; appends what they complete to `out`. Bytes outside a
  // packet other than '+', '-' and 0x03 are ignored.
  void feed(std::string_view bytes, std::vector<PacketEvent>& out);

 private:
  enum class State { idle, payload, checksum1, checksum2 };
  State state_ = State::idle;
  std::string payload_;
  bool oversized_ = false;
  char check_hi_ = 0;
};

}  // namespace softsynic::gdb
