// RamGuestMemory: guest RAM as page-aligned, zero-filled host regions.
// TLFS: none (host side of guest physical memory). Not supported: accesses
// that span two adjacent regions fail as if they left RAM.
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "synic/guest_memory.h"

namespace softsynic {
namespace {
constexpr std::uint64_t kPage = 4096;
}  // namespace

// Anonymous pages: zero-filled by the kernel at first touch, so a guest
// pays for the RAM it uses rather than for all of it at start-up.
struct RamGuestMemory::Backing {
  explicit Backing(std::uint64_t size) : size(size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    bytes = static_cast<std::byte*>(p);
  }
  ~Backing() { ::munmap(bytes, size); }
  Backing(const Backing&) = delete;
  Backing& operator=(const Backing&) = delete;
  std::uint64_t size;
  std::byte* bytes = nullptr;
};

RamGuestMemory::RamGuestMemory(std::vector<Region> regions) : regions_(std::move(regions)) {
  for (const auto& r : regions_) {
    if (r.size == 0 || r.gpa % kPage != 0 || r.size % kPage != 0)
      throw std::invalid_argument("RamGuestMemory: regions must be non-empty and 4 KiB aligned");
    if (r.gpa + r.size < r.gpa) throw std::invalid_argument("RamGuestMemory: region wraps around 2^64");
  }
  auto sorted = regions_;
  std::sort(sorted.begin(), sorted.end(), [](const Region& a, const Region& b) { return a.gpa < b.gpa; });
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i - 1].gpa + sorted[i - 1].size > sorted[i].gpa)
      throw std::invalid_argument("RamGuestMemory: regions overlap");
  backing_.reserve(regions_.size());
  mappings_.reserve(regions_.size());
  for (const auto& r : regions_) {
    backing_.push_back(std::make_unique<Backing>(r.size));
    mappings_.push_back(Mapping{r.gpa, r.size, backing_.back()->bytes});
  }
}

RamGuestMemory::~RamGuestMemory() = default;

std::byte* RamGuestMemory::host_pointer(std::uint64_t gpa, std::uint64_t len) {
  for (const Mapping& m : mappings_) {
    // Overflow-safe: compare offsets, never gpa + len.
    if (gpa < m.gpa) continue;
    const std::uint64_t offset = gpa - m.gpa;
    if (offset >= m.size || len > m.size - offset) continue;
    return m.bytes + offset;
  }
  return nullptr;
}

bool RamGuestMemory::read(std::uint64_t gpa, std::span<std::byte> out) {
  std::byte* p = host_pointer(gpa, out.size());
  if (p == nullptr) return false;
  if (!out.empty()) std::memcpy(out.data(), p, out.size());
  return true;
}

bool RamGuestMemory::write(std::uint64_t gpa, std::span<const std::byte> in) {
  std::byte* p = host_pointer(gpa, in.size());
  if (p == nullptr) return false;
  if (!in.empty()) std::memcpy(p, in.data(), in.size());
  return true;
}

std::uint64_t* RamGuestMemory::aligned_word(std::uint64_t gpa) {
  if (gpa % sizeof(std::uint64_t) != 0) return nullptr;
  // Regions are page aligned, so an aligned gpa is an aligned host pointer.
  return reinterpret_cast<std::uint64_t*>(host_pointer(gpa, sizeof(std::uint64_t)));
}

std::optional<std::uint64_t> RamGuestMemory::fetch_or_u64(std::uint64_t gpa, std::uint64_t bits) {
  std::uint64_t* p = aligned_word(gpa);
  if (p == nullptr) return std::nullopt;
  return std::atomic_ref<std::uint64_t>(*p).fetch_or(bits, std::memory_order_acq_rel);
}

std::optional<std::uint64_t> RamGuestMemory::fetch_and_u64(std::uint64_t gpa, std::uint64_t mask) {
  std::uint64_t* p = aligned_word(gpa);
  if (p == nullptr) return std::nullopt;
  return std::atomic_ref<std::uint64_t>(*p).fetch_and(mask, std::memory_order_acq_rel);
}

}  // namespace softsynic
