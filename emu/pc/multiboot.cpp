// load_multiboot: see multiboot.h.
#include "emu/pc/multiboot.h"

#include <cstring>
#include <stdexcept>
#include <vector>

#include "emu/image_loader.h"
#include "synic/guest_memory.h"

namespace softsynic::emu {
namespace {

constexpr std::size_t kHeaderSearch = 8192;
constexpr std::uint32_t kFlagAddressFields = 1u << 16;
constexpr std::uint16_t kElfMachine386 = 3;
constexpr std::uint16_t kElfMachineX86_64 = 62;
constexpr std::uint64_t kFirstUsable = 0x1000;  // page 0 stays free
constexpr std::uint64_t kLowMemoryTop = 0xA'0000;
constexpr std::uint64_t kOneMiB = 0x10'0000;

// Boot information flags and field offsets (spec section 3.3).
constexpr std::uint32_t kInfoMemory = 1u << 0;
constexpr std::uint32_t kInfoCmdline = 1u << 2;
constexpr std::uint32_t kInfoMods = 1u << 3;
constexpr std::uint32_t kInfoLoaderName = 1u << 9;
constexpr std::size_t kInfoSize = 0x58;  // through vbe fields we leave 0
constexpr std::size_t kOffFlags = 0, kOffMemLower = 4, kOffMemUpper = 8, kOffCmdline = 16, kOffModsCount = 20,
                      kOffModsAddr = 24, kOffLoaderName = 64;
constexpr char kLoaderName[] = "softsynic";

struct Header {
  std::size_t offset;
  std::uint32_t flags;
  std::uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

std::uint32_t u32_at(const std::vector<char>& file, std::size_t offset) {
  std::uint32_t v = 0;
  if (offset + 4 <= file.size()) std::memcpy(&v, file.data() + offset, 4);
  return v;
}

Header find_header(const std::vector<char>& file, const std::string& path) {
  const std::size_t limit = std::min(file.size(), kHeaderSearch);
  for (std::size_t off = 0; off + 12 <= limit; off += 4) {
    if (u32_at(file, off) != kMultibootHeaderMagic) continue;
    const std::uint32_t flags = u32_at(file, off + 4);
    if (kMultibootHeaderMagic + flags + u32_at(file, off + 8) != 0) {
      throw std::runtime_error(path + ": multiboot header checksum is wrong");
    }
    return Header{off,
                  flags,
                  u32_at(file, off + 12),
                  u32_at(file, off + 16),
                  u32_at(file, off + 20),
                  u32_at(file, off + 24),
                  u32_at(file, off + 28)};
  }
  throw std::runtime_error(path + ": no multiboot header in the first 8 KiB");
}

void write(GuestMemory& ram, std::uint64_t gpa, const void* data, std::size_t size) {
  if (!ram.write(gpa, std::span(static_cast<const std::byte*>(data), size))) {
    throw std::runtime_error("multiboot: boot information does not fit in RAM");
  }
}

// The a.out kludge: the header says where the file's bytes go.
LoadedImage load_by_address_fields(const std::vector<char>& file, const Header& h, const std::string& path,
                                   GuestMemory& ram, std::uint64_t ram_bytes) {
  if (h.header_addr < h.load_addr || h.header_addr - h.load_addr > h.offset) {
    throw std::runtime_error(path + ": multiboot address fields do not match the header's place in the file");
  }
  const std::size_t file_start = h.offset - (h.header_addr - h.load_addr);
  std::uint64_t size = h.load_end_addr != 0 ? std::uint64_t{h.load_end_addr} - h.load_addr : file.size() - file_start;
  if (h.load_end_addr != 0 && h.load_end_addr < h.load_addr) throw std::runtime_error(path + ": load_end_addr below load_addr");
  if (size > file.size() - file_start) throw std::runtime_error(path + ": multiboot load range is past the file's end");
  const std::uint64_t end = h.bss_end_addr != 0 ? std::max<std::uint64_t>(h.bss_end_addr, h.load_addr + size)
                                                : h.load_addr + size;
  if (h.load_addr < kFirstUsable || end > ram_bytes) throw std::runtime_error("image does not fit in guest RAM");
  write(ram, h.load_addr, file.data() + file_start, size);
  if (!zero_guest_range(ram, h.load_addr + size, end - h.load_addr - size)) {
    throw std::runtime_error("image does not fit in guest RAM");
  }
  LoadedImage image;
  image.entry = h.entry_addr;
  image.low = h.load_addr;
  image.high = end;
  return image;
}

}  // namespace

MultibootKernel load_multiboot(const std::string& path, GuestMemory& ram, std::uint64_t ram_bytes,
                               const std::string& arguments) {
  const std::vector<char> file = read_file(path);
  const Header header = find_header(file, path);
  LoadedImage image;
  if ((header.flags & kFlagAddressFields) != 0) {
    image = load_by_address_fields(file, header, path, ram, ram_bytes);
  } else {
    const bool elf = file.size() >= 4 && std::memcmp(file.data(), "\x7F" "ELF", 4) == 0;
    if (!elf) throw std::runtime_error(path + ": not ELF and its multiboot header has no address fields (flag 16)");
    image = load_image_bytes(file, path, ram, 0, kElfMachineX86_64, kFirstUsable, ram_bytes, kElfMachine386);
  }
  if (image.entry > 0xFFFF'FFFF || image.high > 0xFFFF'FFFF) {
    throw std::runtime_error(path + ": entry or segments above 4 GiB");
  }

  std::string cmdline = path;
  if (!arguments.empty()) cmdline += " " + arguments;
  const std::uint64_t strings_size = cmdline.size() + 1 + sizeof kLoaderName;
  // 0x9000 as on QEMU, unless the kernel is there.
  std::uint64_t info = kMultibootInfoGpa;
  if (info + kInfoSize + strings_size > kLowMemoryTop ||
      (image.low < info + kInfoSize + strings_size && image.high > info)) {
    info = (image.high + 0xFFF) & ~std::uint64_t{0xFFF};
  }
  const std::uint64_t cmdline_gpa = info + kInfoSize;
  const std::uint64_t name_gpa = cmdline_gpa + cmdline.size() + 1;
  if (name_gpa + sizeof kLoaderName > ram_bytes || name_gpa > 0xFFFF'FFFF) {
    throw std::runtime_error("multiboot: boot information does not fit in RAM");
  }
  std::byte block[kInfoSize] = {};
  auto put = [&block](std::size_t offset, std::uint32_t value) { std::memcpy(block + offset, &value, 4); };
  put(kOffFlags, kInfoMemory | kInfoCmdline | kInfoMods | kInfoLoaderName);
  put(kOffMemLower, static_cast<std::uint32_t>(kLowMemoryTop / 1024));
  put(kOffMemUpper, static_cast<std::uint32_t>(ram_bytes > kOneMiB ? (ram_bytes - kOneMiB) / 1024 : 0));
  put(kOffCmdline, static_cast<std::uint32_t>(cmdline_gpa));
  put(kOffModsCount, 0);
  put(kOffModsAddr, 0);
  put(kOffLoaderName, static_cast<std::uint32_t>(name_gpa));
  write(ram, info, block, sizeof block);
  write(ram, cmdline_gpa, cmdline.c_str(), cmdline.size() + 1);
  write(ram, name_gpa, kLoaderName, sizeof kLoaderName);

  MultibootKernel kernel;
  kernel.entry = static_cast<std::uint32_t>(image.entry);
  kernel.info = static_cast<std::uint32_t>(info);
  kernel.image_low = image.low;
  kernel.image_high = image.high;
  return kernel;
}

}  // namespace softsynic::emu
