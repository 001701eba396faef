// ELF64 and flat-binary loading into guest RAM.
#include "emu/image_loader.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "synic/guest_memory.h"

namespace softsynic::emu {
namespace {

// ELF64 header and program header fields we read (System V gABI).
constexpr std::size_t kEhdrSize = 64;
constexpr std::size_t kPhdrSize = 56;
constexpr std::uint32_t kPtLoad = 1;

template <typename T>
T get(const std::vector<char>& file, std::size_t offset) {
  if (offset + sizeof(T) > file.size()) throw std::runtime_error("ELF file truncated");
  T v;
  std::memcpy(&v, file.data() + offset, sizeof v);
  return v;
}

void place(GuestMemory& ram, std::uint64_t gpa, const char* data, std::uint64_t size, std::uint64_t low,
           std::uint64_t high) {
  if (gpa < low || gpa > high || size > high - gpa) throw std::runtime_error("image does not fit in guest RAM");
  if (size == 0) return;
  if (!ram.write(gpa, std::span(reinterpret_cast<const std::byte*>(data), size))) {
    throw std::runtime_error("image does not fit in guest RAM");
  }
}

}  // namespace

LoadedImage load_image(const std::string& path, GuestMemory& ram, std::uint64_t flat_base, std::uint16_t elf_machine,
                       std::uint64_t allowed_low, std::uint64_t allowed_high) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open image " + path);
  std::vector<char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LoadedImage image;
  const bool is_elf = file.size() >= 4 && std::memcmp(file.data(), "\x7F" "ELF", 4) == 0;
  if (!is_elf) {
    place(ram, flat_base, file.data(), file.size(), allowed_low, allowed_high);
    image.entry = flat_base;
    image.low = flat_base;
    image.high = flat_base + file.size();
    return image;
  }
  if (file.size() < kEhdrSize || file[4] != 2 /* ELFCLASS64 */ || file[5] != 1 /* little-endian */) {
    throw std::runtime_error(path + ": not a little-endian ELF64 file");
  }
  if (get<std::uint16_t>(file, 18) != elf_machine) throw std::runtime_error(path + ": ELF for another architecture");
  image.elf = true;
  image.entry = get<std::uint64_t>(file, 24);
  const auto phoff = get<std::uint64_t>(file, 32);
  const auto phentsize = get<std::uint16_t>(file, 54);
  const auto phnum = get<std::uint16_t>(file, 56);
  if (phentsize < kPhdrSize) throw std::runtime_error(path + ": bad program header size");
  image.low = ~std::uint64_t{0};
  for (std::uint16_t i = 0; i < phnum; ++i) {
    const std::size_t ph = phoff + std::size_t{i} * phentsize;
    if (get<std::uint32_t>(file, ph) != kPtLoad) continue;
    const auto offset = get<std::uint64_t>(file, ph + 8);
    const auto paddr = get<std::uint64_t>(file, ph + 24);
    const auto filesz = get<std::uint64_t>(file, ph + 32);
    const auto memsz = get<std::uint64_t>(file, ph + 40);
    if (filesz > memsz || offset > file.size() || filesz > file.size() - offset) {
      throw std::runtime_error(path + ": bad PT_LOAD segment");
    }
    place(ram, paddr, file.data() + offset, filesz, allowed_low, allowed_high);
    std::vector<char> zeros(memsz - filesz, 0);
    place(ram, paddr + filesz, zeros.data(), zeros.size(), allowed_low, allowed_high);
    image.low = std::min(image.low, paddr);
    image.high = std::max(image.high, paddr + memsz);
  }
  if (image.high == 0) throw std::runtime_error(path + ": no PT_LOAD segment");
  return image;
}

}  // namespace softsynic::emu
