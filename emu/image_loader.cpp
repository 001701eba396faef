// ELF64 and flat-binary loading into guest RAM.
#include "emu/image_loader.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "emu/guest_writes.h"
#include "synic/guest_memory.h"

namespace softsynic::emu {
namespace {

// ELF header and program header layouts (System V gABI), by class.
struct ElfLayout {
  std::size_t ehdr_size, phdr_size;
  std::size_t entry, phoff, phentsize, phnum;        // in the file header
  std::size_t p_offset, p_paddr, p_filesz, p_memsz;  // in a program header
  unsigned word;                                     // bytes of an address field
};
constexpr ElfLayout kElf64{64, 56, 24, 32, 54, 56, 8, 24, 32, 40, 8};
constexpr ElfLayout kElf32{52, 32, 24, 28, 42, 44, 4, 12, 16, 20, 4};
constexpr std::uint32_t kPtLoad = 1;
constexpr char kClass32 = 1;
constexpr char kClass64 = 2;

template <typename T>
T get(const std::vector<char>& file, std::size_t offset) {
  if (offset > file.size() || sizeof(T) > file.size() - offset) throw std::runtime_error("ELF file truncated");
  T v;
  std::memcpy(&v, file.data() + offset, sizeof v);
  return v;
}

std::uint64_t get_word(const std::vector<char>& file, std::size_t offset, unsigned word) {
  return word == 8 ? get<std::uint64_t>(file, offset) : get<std::uint32_t>(file, offset);
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

bool zero_guest_range(GuestMemory& ram, std::uint64_t gpa, std::uint64_t size) {
  static constexpr std::byte kZeros[64 * 1024] = {};
  while (size != 0) {
    const std::uint64_t n = std::min<std::uint64_t>(size, sizeof kZeros);
    if (!ram.write(gpa, std::span(kZeros, n))) return false;
    gpa += n;
    size -= n;
  }
  return true;
}

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open image " + path);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

LoadedImage load_image(const std::string& path, GuestMemory& ram, std::uint64_t flat_base, std::uint16_t elf_machine,
                       std::uint64_t allowed_low, std::uint64_t allowed_high, std::uint16_t elf32_machine) {
  return load_image_bytes(read_file(path), path, ram, flat_base, elf_machine, allowed_low, allowed_high,
                          elf32_machine);
}

LoadedImage load_image_bytes(const std::vector<char>& file, const std::string& path, GuestMemory& ram,
                             std::uint64_t flat_base, std::uint16_t elf_machine, std::uint64_t allowed_low,
                             std::uint64_t allowed_high, std::uint16_t elf32_machine) {
  LoadedImage image;
  const bool is_elf = file.size() >= 4 && std::memcmp(file.data(), "\x7F" "ELF", 4) == 0;
  if (!is_elf) {
    place(ram, flat_base, file.data(), file.size(), allowed_low, allowed_high);
    image.entry = flat_base;
    image.low = flat_base;
    image.high = flat_base + file.size();
    return image;
  }
  const bool class32 = file.size() > 5 && file[4] == kClass32 && elf32_machine != 0;
  if (file.size() < kElf32.ehdr_size || !(file[4] == kClass64 || class32) || file[5] != 1 /* little-endian */) {
    throw std::runtime_error(path + (elf32_machine != 0 ? ": not a little-endian ELF32 or ELF64 file"
                                                        : ": not a little-endian ELF64 file"));
  }
  const ElfLayout& L = class32 ? kElf32 : kElf64;
  if (file.size() < L.ehdr_size) throw std::runtime_error(path + ": ELF file truncated");
  if (get<std::uint16_t>(file, 18) != (class32 ? elf32_machine : elf_machine)) {
    throw std::runtime_error(path + ": ELF for another architecture");
  }
  image.elf = true;
  image.entry = get_word(file, L.entry, L.word);
  const auto phoff = get_word(file, L.phoff, L.word);
  const auto phentsize = get<std::uint16_t>(file, L.phentsize);
  const auto phnum = get<std::uint16_t>(file, L.phnum);
  if (phentsize < L.phdr_size) throw std::runtime_error(path + ": bad program header size");
  image.low = ~std::uint64_t{0};
  for (std::uint16_t i = 0; i < phnum; ++i) {
    const std::size_t ph = phoff + std::size_t{i} * phentsize;
    if (get<std::uint32_t>(file, ph) != kPtLoad) continue;
    const auto offset = get_word(file, ph + L.p_offset, L.word);
    const auto paddr = get_word(file, ph + L.p_paddr, L.word);
    const auto filesz = get_word(file, ph + L.p_filesz, L.word);
    const auto memsz = get_word(file, ph + L.p_memsz, L.word);
    if (filesz > memsz || offset > file.size() || filesz > file.size() - offset) {
      throw std::runtime_error(path + ": bad PT_LOAD segment");
    }
    place(ram, paddr, file.data() + offset, filesz, allowed_low, allowed_high);
    const std::uint64_t bss = paddr + filesz;
    if (bss < allowed_low || bss > allowed_high || memsz - filesz > allowed_high - bss ||
        !zero_guest_range(ram, bss, memsz - filesz)) {
      throw std::runtime_error("image does not fit in guest RAM");
    }
    image.low = std::min(image.low, paddr);
    image.high = std::max(image.high, paddr + memsz);
  }
  if (image.high == 0) throw std::runtime_error(path + ": no PT_LOAD segment");
  return image;
}

void apply_guest_writes(std::span<const GuestWrite> writes, GuestMemory& ram) {
  for (const GuestWrite& w : writes) {
    if (!ram.write(w.gpa, std::as_bytes(std::span(w.bytes))) ||
        !zero_guest_range(ram, w.gpa + w.bytes.size(), w.zero_fill)) {
      throw LinuxBootError("Linux boot: [" + std::to_string(w.gpa) + ", +" + std::to_string(w.bytes.size() + w.zero_fill) +
                           ") is not RAM");
    }
  }
}

}  // namespace softsynic::emu
