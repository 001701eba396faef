// plan_linux_boot and apply_linux_boot_plan: see linux_boot.h.
#include "emu/pc/linux_boot.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "emu/image_loader.h"
#include "emu/pc/linux_boot_defs.h"
#include "synic/guest_memory.h"

namespace softsynic::emu {
namespace {

namespace lb = linux_boot;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t k4GiB = 1ull << 32;
constexpr std::uint64_t kPageSize = 0x1000;
constexpr std::uint64_t k2MiB = 2ull << 20;
constexpr std::size_t kPageDirectories = 4;  // 4 x 1 GiB: the low 4 GiB
constexpr std::size_t kEntriesPerTable = 512;

std::uint64_t read_le(std::span<const std::uint8_t> b, std::uint64_t at, unsigned size, const char* what) {
  if (at > b.size() || size > b.size() - at) throw LinuxBootError(std::string("kernel file truncated (") + what + ")");
  std::uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}

void put(Bytes& b, std::size_t at, std::uint64_t value, unsigned size) {
  for (unsigned i = 0; i < size; ++i) b.at(at + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint64_t area_end(const LinuxBootArea& a) { return a.cmdline + a.cmdline_capacity; }

void check_config(const LinuxBootConfig& c) {
  if (c.ram_bytes <= kLegacyBiosHole.addr + kLegacyBiosHole.size) throw LinuxBootError("Linux needs more than 1 MiB of RAM");
  if (c.ram_bytes > k4GiB) throw LinuxBootError("RAM above 4 GiB is not supported by the Linux loader");
}

// The command line, NUL-terminated, at the area's command-line address.
GuestWrite command_line(const LinuxBootConfig& c, std::uint64_t limit) {
  if (c.command_line.find('\0') != std::string::npos) throw LinuxBootError("command line contains a NUL byte");
  if (c.command_line.size() > limit || c.command_line.size() + 1 > c.area.cmdline_capacity) {
    throw LinuxBootError("command line of " + std::to_string(c.command_line.size()) + " bytes is longer than " +
                         std::to_string(std::min<std::uint64_t>(limit, c.area.cmdline_capacity - 1)));
  }
  Bytes b(c.command_line.begin(), c.command_line.end());
  b.push_back(0);
  return {c.area.cmdline, std::move(b), 0};
}

// The initrd at the highest page-aligned address below `top`, above the
// kernel. Returns its address (0 without an initrd).
std::uint64_t place_initrd(const LinuxBootConfig& c, std::uint64_t top, std::uint64_t kernel_high, LinuxBootPlan& plan) {
  if (c.initrd.empty()) return 0;
  top = std::min({top, c.ram_bytes, k4GiB});
  if (c.initrd.size() > top) throw LinuxBootError("initrd does not fit in RAM");
  const std::uint64_t gpa = (top - c.initrd.size()) & ~(kPageSize - 1);
  if (gpa < std::max(kernel_high, area_end(c.area))) {
    throw LinuxBootError("initrd of " + std::to_string(c.initrd.size()) + " bytes does not fit in RAM above the kernel");
  }
  plan.writes.push_back({gpa, Bytes(c.initrd.begin(), c.initrd.end()), 0});
  plan.initrd_gpa = gpa;
  return gpa;
}

std::vector<E820Entry> memory_map(const LinuxBootConfig& c) {
  std::vector<E820Entry> carve{kLegacyBiosHole};
  carve.insert(carve.end(), c.carve_outs.begin(), c.carve_outs.end());
  return build_e820(c.ram_bytes, carve);
}

// GDT and identity page tables of the low 4 GiB for the 64-bit entry.
void long_mode_tables(const LinuxBootArea& a, LinuxBootPlan& plan) {
  Bytes gdt(4 * 8, 0);
  put(gdt, lb::kBootCs, lb::kGdtCode64, 8);
  put(gdt, lb::kBootDs, lb::kGdtData, 8);
  plan.writes.push_back({a.gdt, std::move(gdt), 0});
  plan.gdt_base = a.gdt;
  plan.gdt_limit = 4 * 8 - 1;
  plan.code_selector = lb::kBootCs;
  plan.data_selector = lb::kBootDs;

  const std::uint64_t pdpt = a.pml4 + kPageSize, pd = a.pml4 + 2 * kPageSize;
  Bytes tables((2 + kPageDirectories) * kPageSize, 0);
  put(tables, 0, pdpt | lb::kPagePresentWritable, 8);
  for (std::size_t i = 0; i < kPageDirectories; ++i) {
    put(tables, kPageSize + 8 * i, (pd + i * kPageSize) | lb::kPagePresentWritable, 8);
    for (std::size_t j = 0; j < kEntriesPerTable; ++j) {
      const std::uint64_t phys = (i * kEntriesPerTable + j) * k2MiB;
      put(tables, (2 + i) * kPageSize + 8 * j, phys | lb::kPagePresentWritable | lb::kPageLarge, 8);
    }
  }
  plan.writes.push_back({a.pml4, std::move(tables), 0});
  plan.cr3 = a.pml4;
}

LinuxBootPlan plan_bzimage(std::span<const std::uint8_t> k, const LinuxBootConfig& c) {
  namespace h = lb::hdr;
  LinuxBootPlan plan;
  plan.format = LinuxKernelFormat::kBzImage;
  plan.protocol = static_cast<std::uint16_t>(read_le(k, h::kVersion, 2, "setup header"));
  if (plan.protocol < lb::kMinProtocol) {
    throw LinuxBootError("boot protocol " + std::to_string(plan.protocol >> 8) + "." + std::to_string(plan.protocol & 0xFF) +
                         " is older than 2.12");
  }
  if ((read_le(k, h::kXloadflags, 2, "setup header") & lb::kXlfKernel64) == 0) {
    throw LinuxBootError("bzImage has no 64-bit entry point (XLF_KERNEL_64 clear)");
  }
  unsigned setup_sects = static_cast<unsigned>(read_le(k, h::kSetupSects, 1, "setup header"));
  if (setup_sects == 0) setup_sects = lb::kDefaultSetupSects;
  const std::uint64_t pm_offset = (setup_sects + 1ull) * lb::kSectorSize;
  if (pm_offset >= k.size()) throw LinuxBootError("bzImage truncated: no protected-mode kernel after the setup sectors");
  const std::uint64_t pm_size = k.size() - pm_offset;

  const std::uint64_t pref = read_le(k, h::kPrefAddress, 8, "setup header");
  const std::uint64_t load = pref != 0 ? pref : lb::kDefaultLoadAddress;
  const std::uint64_t init_size = read_le(k, h::kInitSize, 4, "setup header");
  const std::uint64_t span = std::max(init_size, pm_size);
  if (load < area_end(c.area) || load >= c.ram_bytes || span > c.ram_bytes - load) {
    throw LinuxBootError("kernel needs [" + std::to_string(load) + ", +" + std::to_string(span) + ") but RAM ends at " +
                         std::to_string(c.ram_bytes));
  }
  plan.kernel_low = load;
  plan.kernel_high = load + span;
  plan.writes.push_back({load, Bytes(k.begin() + static_cast<std::ptrdiff_t>(pm_offset), k.end()), 0});

  // boot_params: zeroed, then the setup header as the kernel file has it;
  // it ends at 0x202 plus the byte at 0x201 (the jump's offset).
  Bytes bp(lb::kBootParamsSize, 0);
  const std::uint64_t hdr_end = std::min<std::uint64_t>(
      {h::kHeader + read_le(k, h::kJumpByte1, 1, "setup header"), lb::kBootParamsSize, k.size()});
  std::copy(k.begin() + h::kSetupSects, k.begin() + static_cast<std::ptrdiff_t>(hdr_end), bp.begin() + h::kSetupSects);
  bp[h::kTypeOfLoader] = lb::kLoaderUndefined;
  bp[h::kLoadFlags] = static_cast<std::uint8_t>(bp[h::kLoadFlags] | lb::kLoadedHigh);
  put(bp, h::kCode32Start, load, 4);

  std::uint64_t cmdline_limit = read_le(k, h::kCmdlineSize, 4, "setup header");
  plan.writes.push_back(command_line(c, cmdline_limit));
  put(bp, h::kCmdLinePtr, c.area.cmdline, 4);
  put(bp, lb::bp::kExtCmdLinePtr, c.area.cmdline >> 32, 4);

  const std::uint64_t initrd_max = read_le(k, h::kInitrdAddrMax, 4, "setup header");
  if (const std::uint64_t initrd = place_initrd(c, initrd_max + 1, plan.kernel_high, plan)) {
    put(bp, h::kRamdiskImage, initrd, 4);
    put(bp, h::kRamdiskSize, c.initrd.size(), 4);
    put(bp, lb::bp::kExtRamdiskImage, initrd >> 32, 4);
    put(bp, lb::bp::kExtRamdiskSize, static_cast<std::uint64_t>(c.initrd.size()) >> 32, 4);
  }
  if (c.rsdp_gpa != 0 && plan.protocol >= lb::kProtocolAcpiRsdp) put(bp, lb::bp::kAcpiRsdpAddr, c.rsdp_gpa, 8);

  plan.e820 = memory_map(c);
  if (plan.e820.size() > lb::kE820MaxEntries) throw LinuxBootError("memory map has more than 128 entries");
  bp[lb::bp::kE820Entries] = static_cast<std::uint8_t>(plan.e820.size());
  for (std::size_t i = 0; i < plan.e820.size(); ++i) {
    const std::size_t at = lb::bp::kE820Table + i * lb::kE820EntrySize;
    put(bp, at, plan.e820[i].addr, 8);
    put(bp, at + 8, plan.e820[i].size, 8);
    put(bp, at + 16, static_cast<std::uint32_t>(plan.e820[i].type), 4);
  }
  plan.writes.push_back({c.area.boot_params, std::move(bp), 0});

  long_mode_tables(c.area, plan);
  plan.mode = LinuxEntryMode::kLong64;
  plan.entry = load + lb::k64BitEntryOffset;
  plan.rsi = c.area.boot_params;
  return plan;
}

// The PVH entry from the notes of one PT_NOTE segment, if there.
std::optional<std::uint64_t> pvh_entry_in_notes(std::span<const std::uint8_t> notes) {
  std::uint64_t at = 0;
  auto pad4 = [](std::uint64_t n) { return (n + 3) & ~std::uint64_t{3}; };
  while (at + 12 <= notes.size()) {
    const std::uint64_t namesz = read_le(notes, at, 4, "ELF note");
    const std::uint64_t descsz = read_le(notes, at + 4, 4, "ELF note");
    const std::uint64_t type = read_le(notes, at + 8, 4, "ELF note");
    const std::uint64_t name_at = at + 12, desc_at = name_at + pad4(namesz);
    if (desc_at > notes.size() || descsz > notes.size() - desc_at) throw LinuxBootError("ELF note runs past its segment");
    const bool xen = namesz == sizeof lb::kXenNoteName &&
                     std::memcmp(notes.data() + name_at, lb::kXenNoteName, sizeof lb::kXenNoteName) == 0;
    if (xen && type == lb::kXenElfnotePhys32Entry) {
      if (descsz != 4 && descsz != 8) throw LinuxBootError("PVH entry note has a " + std::to_string(descsz) + "-byte value");
      return read_le(notes, desc_at, static_cast<unsigned>(descsz), "ELF note");
    }
    at = desc_at + pad4(descsz);
  }
  return std::nullopt;
}

LinuxBootPlan plan_pvh(std::span<const std::uint8_t> k, const LinuxBootConfig& c) {
  namespace e = lb::elf;
  if (read_le(k, e::kClass, 1, "ELF header") != e::kClass64 || read_le(k, e::kData, 1, "ELF header") != e::kDataLittle ||
      read_le(k, e::kMachine, 2, "ELF header") != e::kMachineX86_64) {
    throw LinuxBootError("ELF kernel is not a little-endian x86-64 ELF64 file");
  }
  LinuxBootPlan plan;
  plan.format = LinuxKernelFormat::kPvhElf;
  const std::uint64_t phoff = read_le(k, e::kPhoff, 8, "ELF header");
  const std::uint64_t phentsize = read_le(k, e::kPhentsize, 2, "ELF header");
  const std::uint64_t phnum = read_le(k, e::kPhnum, 2, "ELF header");
  if (phentsize < e::kPhdrSize) throw LinuxBootError("ELF program headers are too small");
  std::optional<std::uint64_t> entry;
  plan.kernel_low = ~std::uint64_t{0};
  for (std::uint64_t i = 0; i < phnum; ++i) {
    const std::uint64_t ph = phoff + i * phentsize;
    const std::uint64_t type = read_le(k, ph + e::kPType, 4, "program header");
    const std::uint64_t offset = read_le(k, ph + e::kPOffset, 8, "program header");
    const std::uint64_t filesz = read_le(k, ph + e::kPFilesz, 8, "program header");
    if ((type == e::kPtLoad || type == e::kPtNote) && (offset > k.size() || filesz > k.size() - offset)) {
      throw LinuxBootError("ELF segment " + std::to_string(i) + " runs past the end of the file");
    }
    const auto data = k.subspan(offset, filesz);
    if (type == e::kPtNote && !entry) entry = pvh_entry_in_notes(data);
    if (type != e::kPtLoad) continue;
    const std::uint64_t paddr = read_le(k, ph + e::kPPaddr, 8, "program header");
    const std::uint64_t memsz = read_le(k, ph + e::kPMemsz, 8, "program header");
    if (memsz < filesz) throw LinuxBootError("ELF segment " + std::to_string(i) + " has memsz below filesz");
    if (paddr < area_end(c.area) || paddr >= c.ram_bytes || memsz > c.ram_bytes - paddr) {
      throw LinuxBootError("ELF segment " + std::to_string(i) + " at " + std::to_string(paddr) + " is outside RAM above " +
                           std::to_string(area_end(c.area)));
    }
    plan.writes.push_back({paddr, Bytes(data.begin(), data.end()), memsz - filesz});
    plan.kernel_low = std::min(plan.kernel_low, paddr);
    plan.kernel_high = std::max(plan.kernel_high, paddr + memsz);
  }
  if (plan.writes.empty()) throw LinuxBootError("ELF kernel has no loadable segment");
  if (!entry) throw LinuxBootError("ELF kernel has no PVH entry note (Xen note 18: build it with CONFIG_PVH=y)");
  if (*entry >= k4GiB) throw LinuxBootError("PVH entry point is above 4 GiB");

  plan.writes.push_back(command_line(c, c.area.cmdline_capacity - 1));
  const std::uint64_t initrd = place_initrd(c, k4GiB, plan.kernel_high, plan);
  plan.e820 = memory_map(c);

  namespace hv = lb::hvm;
  const std::uint64_t modlist = c.area.start_info + hv::kSize + 8;  // 8-aligned after the 0x38-byte header
  const std::uint64_t memmap = modlist + hv::kModSize;
  Bytes si(memmap - c.area.start_info + plan.e820.size() * hv::kMemmapEntrySize, 0);
  if (si.size() > kPageSize) throw LinuxBootError("memory map too large for the start info page");
  put(si, hv::kMagic, lb::kHvmStartMagic, 4);
  put(si, hv::kVersion, lb::kHvmStartInfoVersion, 4);
  put(si, hv::kCmdlinePaddr, c.area.cmdline, 8);
  put(si, hv::kRsdpPaddr, c.rsdp_gpa, 8);
  if (initrd != 0) {
    put(si, hv::kNrModules, 1, 4);
    put(si, hv::kModlistPaddr, modlist, 8);
    put(si, modlist - c.area.start_info, initrd, 8);
    put(si, modlist - c.area.start_info + 8, c.initrd.size(), 8);
  }
  put(si, hv::kMemmapPaddr, memmap, 8);
  put(si, hv::kMemmapEntries, plan.e820.size(), 4);
  for (std::size_t i = 0; i < plan.e820.size(); ++i) {
    const std::size_t at = memmap - c.area.start_info + i * hv::kMemmapEntrySize;
    put(si, at, plan.e820[i].addr, 8);
    put(si, at + 8, plan.e820[i].size, 8);
    put(si, at + 16, static_cast<std::uint32_t>(plan.e820[i].type), 4);
  }
  plan.writes.push_back({c.area.start_info, std::move(si), 0});

  plan.mode = LinuxEntryMode::kProtected32;
  plan.entry = *entry;
  plan.ebx = static_cast<std::uint32_t>(c.area.start_info);
  return plan;
}

}  // namespace

LinuxBootPlan plan_linux_boot(std::span<const std::uint8_t> kernel, const LinuxBootConfig& config) {
  check_config(config);
  if (kernel.size() >= 4 && read_le(kernel, 0, 4, "magic") == lb::elf::kMagic) return plan_pvh(kernel, config);
  if (kernel.size() >= lb::hdr::kHeader + 4 && read_le(kernel, lb::hdr::kHeader, 4, "magic") == lb::kHdrSMagic &&
      read_le(kernel, lb::hdr::kBootFlag, 2, "magic") == lb::kBootFlagMagic) {
    return plan_bzimage(kernel, config);
  }
  throw LinuxBootError("not a Linux kernel: neither a bzImage (\"HdrS\" at 0x202) nor an ELF vmlinux");
}

void apply_linux_boot_plan(const LinuxBootPlan& plan, GuestMemory& ram) { apply_guest_writes(plan.writes, ram); }

}  // namespace softsynic::emu
