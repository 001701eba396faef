// GuestMemory: how the SynIC reaches guest physical memory (the SIMP and
// SIEFP pages, hypercall input and output pages).
//
// Thread-safety: every method is thread-safe. The SynIC calls it from VP
// strands and, for event flags, from any host thread.
// Guest addresses outside RAM are reported (false / nullopt), never trapped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace softsynic {

class GuestMemory {
 public:
  virtual ~GuestMemory() = default;

  // Copies [gpa, gpa + out.size()) into out; false (nothing copied) when
  // any byte of the range is not guest RAM.
  virtual bool read(std::uint64_t gpa, std::span<std::byte> out) = 0;

  // Copies in to [gpa, gpa + in.size()); false (nothing written) when any
  // byte of the range is not guest RAM.
  virtual bool write(std::uint64_t gpa, std::span<const std::byte> in) = 0;

  // Atomically ORs bits into the little-endian u64 at gpa (8-byte aligned)
  // and returns the previous value; nullopt when not RAM or misaligned.
  virtual std::optional<std::uint64_t> fetch_or_u64(std::uint64_t gpa, std::uint64_t bits) = 0;

  // Atomically ANDs mask into the little-endian u64 at gpa (8-byte aligned)
  // and returns the previous value; nullopt when not RAM or misaligned.
  // Monitor pages (synic/monitor) clear the guest's pending bits with it:
  // a read followed by a write would lose bits another VP sets in between.
  // The default answers nullopt (unsupported) so that existing
  // implementations keep compiling; memory that a running guest shares
  // must override it.
  virtual std::optional<std::uint64_t> fetch_and_u64(std::uint64_t gpa, std::uint64_t mask) {
    static_cast<void>(gpa);
    static_cast<void>(mask);
    return std::nullopt;
  }

  // Host bytes of [gpa, gpa + len) when they stay valid and keep backing
  // that guest range for the object's lifetime, else nullptr (the default:
  // the SynIC then uses the calls above). The SynIC caches them for the
  // SIMP and SIEFP pages to keep virtual calls off its hot paths, and
  // accesses them as the calls above would (memcpy, atomic OR).
  virtual std::byte* stable_host_range(std::uint64_t gpa, std::uint64_t len) {
    static_cast<void>(gpa);
    static_cast<void>(len);
    return nullptr;
  }
};

// Guest RAM as host memory: one or more page-aligned regions, zero-filled.
// Emulators can hand host_pointer() ranges to their CPU (e.g. Unicorn's
// uc_mem_map_ptr) so guest and SynIC see the same bytes.
class RamGuestMemory final : public GuestMemory {
 public:
  struct Region {
    std::uint64_t gpa;
    std::uint64_t size;
  };

  // Regions must be 4 KiB aligned, non-empty and must not overlap; throws
  // std::invalid_argument otherwise (host misuse).
  explicit RamGuestMemory(std::vector<Region> regions);
  explicit RamGuestMemory(std::uint64_t size) : RamGuestMemory({Region{0, size}}) {}
  ~RamGuestMemory() override;
  RamGuestMemory(const RamGuestMemory&) = delete;
  RamGuestMemory& operator=(const RamGuestMemory&) = delete;

  bool read(std::uint64_t gpa, std::span<std::byte> out) override;
  bool write(std::uint64_t gpa, std::span<const std::byte> in) override;
  std::optional<std::uint64_t> fetch_or_u64(std::uint64_t gpa, std::uint64_t bits) override;
  std::optional<std::uint64_t> fetch_and_u64(std::uint64_t gpa, std::uint64_t mask) override;
  std::byte* stable_host_range(std::uint64_t gpa, std::uint64_t len) override { return host_pointer(gpa, len); }

  // Host pointer to [gpa, gpa + len) when it lies inside one region, else
  // nullptr. Stable for the object's lifetime.
  std::byte* host_pointer(std::uint64_t gpa, std::uint64_t len);
  const std::vector<Region>& regions() const { return regions_; }

 private:
  struct Backing;
  std::uint64_t* aligned_word(std::uint64_t gpa);  // nullptr: misaligned or not RAM
  struct Mapping {
    std::uint64_t gpa;
    std::uint64_t size;
    std::byte* bytes;
  };
  std::vector<Region> regions_;
  std::vector<std::unique_ptr<Backing>> backing_;
  std::vector<Mapping> mappings_;  // regions_ with their bytes: one array for host_pointer to scan
};

}  // namespace softsynic
