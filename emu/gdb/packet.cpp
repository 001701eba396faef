#include "emu/gdb/packet.h"

#include "emu/gdb/hex.h"

namespace softsynic::gdb {

std::uint8_t checksum(std::string_view sent) {
  unsigned sum = 0;
  for (char c : sent) sum += static_cast<unsigned char>(c);
  return static_cast<std::uint8_t>(sum);
}

std::string frame(std::string_view payload) {
  std::string body;
  body.reserve(payload.size() + 4);
  for (char c : payload) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      body += '}';
      body += static_cast<char>(c ^ 0x20);
    } else {
      body += c;
    }
  }
  const std::uint8_t sum = checksum(body);
  std::string out = "$" + body + "#";
  if (sum < 0x10) out += '0';
  out += hex_number(sum);
  return out;
}

std::string unescape(std::string_view sent) {
  std::string out;
  out.reserve(sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    if (sent[i] != '}') {
      out += sent[i];
    } else if (i + 1 < sent.size()) {
      out += static_cast<char>(sent[++i] ^ 0x20);
    }
  }
  return out;
}

void PacketReader::feed(std::string_view bytes, std::vector<PacketEvent>& out) {
  using Kind = PacketEvent::Kind;
  for (char c : bytes) {
    switch (state_) {
      case State::idle:
        if (c == '$') {
          state_ = State::payload;
          payload_.clear();
          oversized_ = false;
        } else if (c == '\x03') {
          out.push_back({Kind::interrupt, {}});
        } else if (c == '+') {
          out.push_back({Kind::ack, {}});
        } else if (c == '-') {
          out.push_back({Kind::nak, {}});
        }
        break;
      case State::payload:
        if (c == '#') {
          state_ = State::checksum1;
        } else if (c == '$') {
          payload_.clear();  // a new start abandons an unfinished packet
          oversized_ = false;
        } else if (payload_.size() < kMaxPacketSize) {
          payload_ += c;
        } else {
          oversized_ = true;
        }
        break;
      case State::checksum1:
        check_hi_ = c;
        state_ = State::checksum2;
        break;
      case State::checksum2: {
        state_ = State::idle;
        const char digits[] = {check_hi_, c};
        const auto sent = number_from_hex(std::string_view(digits, 2));
        if (oversized_) {
          out.push_back({Kind::oversized, {}});
        } else if (!sent || *sent != checksum(payload_)) {
          out.push_back({Kind::bad_checksum, {}});
        } else {
          out.push_back({Kind::packet, std::move(payload_)});
        }
        payload_.clear();
        break;
      }
    }
  }
}

}  // namespace softsynic::gdb
