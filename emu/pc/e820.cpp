// build_e820: see e820.h.
#include "emu/pc/e820.h"

#include <algorithm>

namespace softsynic::emu {

std::vector<E820Entry> build_e820(std::uint64_t ram_bytes, const std::vector<E820Entry>& carve_outs) {
  // Every boundary splits the address space into pieces of one type each.
  std::vector<std::uint64_t> points{0, ram_bytes};
  for (const E820Entry& c : carve_outs) {
    if (c.size == 0) continue;
    points.push_back(c.addr);
    points.push_back(c.addr + c.size);
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());

  std::vector<E820Entry> map;
  for (std::size_t i = 0; i + 1 < points.size(); ++i) {
    const std::uint64_t lo = points[i], hi = points[i + 1];
    bool covered = lo < ram_bytes;
    E820Type type = E820Type::kRam;
    for (const E820Entry& c : carve_outs) {
      if (c.size != 0 && lo >= c.addr && hi <= c.addr + c.size) {
        covered = true;
        type = c.type;  // the last one wins
      }
    }
    if (!covered) continue;
    if (!map.empty() && map.back().type == type && map.back().addr + map.back().size == lo) {
      map.back().size += hi - lo;
    } else {
      map.push_back({lo, hi - lo, type});
    }
  }
  return map;
}

}  // namespace softsynic::emu
