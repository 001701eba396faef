// A flattened device tree (FDT) writer and the /chosen-only tree a Linux
// kernel booted without firmware needs (Devicetree Specification v0.4,
// chapter 5 "Flattened Devicetree (DTB) Format": header version 17,
// last compatible version 16, memory reservation block, structure and
// strings blocks; Linux's Documentation/arm64/booting.rst and
// drivers/firmware/efi/fdtparams.c for the /chosen properties).
// The writer emits nodes and properties in the order they are given;
// property names are shared in the strings block. Big-endian throughout.
// Not supported: memory reservation entries (the list is empty: Linux
// takes its reservations from the EFI memory map), phandles, overlays,
// reading a tree back.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace softsynic::devices {

class FdtWriter {
 public:
  // Nodes nest: begin_node("") is the root, then children by unit name.
  void begin_node(std::string_view name);
  void end_node();
  void property(std::string_view name, std::span<const std::uint8_t> value);
  void property_u32(std::string_view name, std::uint32_t value);
  void property_u64(std::string_view name, std::uint64_t value);  // two cells
  void property_string(std::string_view name, std::string_view value);
  // The blob; throws std::logic_error while a node is open or before the
  // root was written.
  std::vector<std::uint8_t> finish() const;

 private:
  std::uint32_t string_offset(std::string_view name);
  void token(std::uint32_t value);

  std::vector<std::uint8_t> structure_;
  std::string strings_;
  int depth_ = 0;
  bool root_done_ = false;
};

// What /chosen carries for a kernel that takes its firmware from EFI
// tables it is handed (fdtparams.c: all six linux,uefi-* properties must
// be there; cell sizes as Linux's EFI stub writes them: the two addresses
// 64-bit, the rest 32-bit).
struct ChosenParams {
  std::string bootargs;
  std::uint64_t initrd_start = 0;
  std::uint64_t initrd_end = 0;  // equal to start: no initrd properties
  std::uint64_t efi_system_table = 0;
  std::uint64_t efi_mmap_start = 0;
  std::uint32_t efi_mmap_size = 0;
  std::uint32_t efi_mmap_desc_size = 0;
  std::uint32_t efi_mmap_desc_ver = 0;
  std::uint32_t efi_secure_boot = 0;  // Linux's efi_secureboot_mode: 2 is "disabled"
};

// A tree with only the root (#address-cells = #size-cells = 2) and
// /chosen. Without /memory or any device node an arm64 kernel that finds
// ACPI through EFI boots from ACPI alone.
std::vector<std::uint8_t> build_chosen_fdt(const ChosenParams& params);

}  // namespace softsynic::devices
