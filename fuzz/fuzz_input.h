// FuzzInput: reads typed values from a libFuzzer input, front to back.
// Past the end every read yields zero, so a harness never has to check
// lengths and a short input is simply a short program.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace softsynic::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }

  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(u16()) | (static_cast<std::uint32_t>(u16()) << 16); }
  std::uint64_t u64() { return static_cast<std::uint64_t>(u32()) | (static_cast<std::uint64_t>(u32()) << 32); }
  bool flag() { return (u8() & 1) != 0; }
  // A value in [0, n); n > 0.
  std::uint32_t below(std::uint32_t n) { return u8() % n; }

  // Copies up to out.size() bytes (zeros past the end of the input).
  void bytes(std::span<std::byte> out) {
    const std::size_t n = std::min(out.size(), size_ - std::min(size_, pos_));
    if (n != 0) std::memcpy(out.data(), data_ + pos_, n);
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), std::byte{0});
    pos_ += n;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace softsynic::fuzz
