// Gpadl: a guest physical address descriptor list the guest built with
// GPADL_HEADER (+ GPADL_BODY) messages: one range of guest pages that the
// host reaches through GuestMemory. The server owns these; channels use
// one to find their ring buffers.
// Not supported: more than one range per GPADL (creation fails), a range
// that does not start at a page boundary (byte_offset != 0).
//
// Threading: a value type; the server guards it with its lock.
#pragma once

#include <cstdint>
#include <vector>

namespace softsynic::vmbus {

struct Gpadl {
  std::uint32_t id = 0;
  std::uint32_t child_relid = 0;
  std::uint32_t byte_count = 0;
  std::uint32_t expected_pfns = 0;  // from the header's range_buffer_length
  std::vector<std::uint64_t> pfns;  // grows as GPADL_BODY messages arrive
  bool in_use = false;              // a ring of an open channel lives in it

  bool complete() const { return pfns.size() == expected_pfns; }
};

}  // namespace softsynic::vmbus
