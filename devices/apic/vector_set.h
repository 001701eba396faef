// VectorSet and AtomicVectorSet: the 256-bit vector sets of the local APIC
// (IRR, ISR, TMR), as value types (Intel SDM vol. 3 "Local APIC": "IRR, ISR
// and TMR"). Bit v stands for vector v; the xAPIC exposes the set as eight
// 32-bit registers, word32(i) is register i.
//
// Thread-safety: VectorSet is a plain value (not thread-safe). Every method
// of AtomicVectorSet is thread-safe and lock-free; it backs the IRR, which
// any thread may set while the VP's own thread accepts.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <optional>

namespace softsynic::devices {

class VectorSet {
 public:
  static constexpr unsigned kWords = 4;

  constexpr void set(std::uint8_t v) { words_[v / 64] |= bit(v); }
  constexpr void clear(std::uint8_t v) { words_[v / 64] &= ~bit(v); }
  constexpr bool test(std::uint8_t v) const { return (words_[v / 64] & bit(v)) != 0; }
  constexpr bool empty() const { return (words_[0] | words_[1] | words_[2] | words_[3]) == 0; }
  // The highest vector in the set (the highest priority), if any.
  constexpr std::optional<std::uint8_t> highest() const {
    for (unsigned w = kWords; w-- > 0;) {
      if (words_[w] != 0) {
        return static_cast<std::uint8_t>(w * 64 + 63 - static_cast<unsigned>(std::countl_zero(words_[w])));
      }
    }
    return std::nullopt;
  }
  // 32-bit register i (vectors 32*i .. 32*i+31), i < 8.
  constexpr std::uint32_t word32(unsigned i) const {
    return static_cast<std::uint32_t>(words_[(i / 2) % kWords] >> (32 * (i % 2)));
  }
  constexpr std::uint64_t word64(unsigned i) const { return words_[i % kWords]; }
  constexpr void set_word64(unsigned i, std::uint64_t w) { words_[i % kWords] = w; }
  friend constexpr bool operator==(const VectorSet&, const VectorSet&) = default;

 private:
  static constexpr std::uint64_t bit(std::uint8_t v) { return std::uint64_t{1} << (v % 64); }
  std::array<std::uint64_t, kWords> words_{};
};

class AtomicVectorSet {
 public:
  // Returns true when v was not in the set before (release: what the setter
  // wrote before is visible to whoever takes v out).
  bool set(std::uint8_t v) {
    return (words_[v / 64].fetch_or(bit(v), std::memory_order_acq_rel) & bit(v)) == 0;
  }
  // Returns true when v was in the set.
  bool test_and_clear(std::uint8_t v) {
    return (words_[v / 64].fetch_and(~bit(v), std::memory_order_acq_rel) & bit(v)) != 0;
  }
  bool test(std::uint8_t v) const { return (words_[v / 64].load(std::memory_order_acquire) & bit(v)) != 0; }
  void clear_all() {
    for (auto& w : words_) w.store(0, std::memory_order_release);
  }
  // A consistent-per-word copy; bits set concurrently may or may not appear.
  VectorSet snapshot() const {
    VectorSet s;
    for (unsigned i = 0; i < VectorSet::kWords; ++i) s.set_word64(i, words_[i].load(std::memory_order_acquire));
    return s;
  }
  std::optional<std::uint8_t> highest() const { return snapshot().highest(); }

 private:
  static constexpr std::uint64_t bit(std::uint8_t v) { return std::uint64_t{1} << (v % 64); }
  std::array<std::atomic<std::uint64_t>, VectorSet::kWords> words_{};
};

}  // namespace softsynic::devices
