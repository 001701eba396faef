// describe_message: field-by-field text of the control messages; see
// message_text.h.
#include "devices/vmbus/message_text.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "devices/vmbus/defs/channel_messages.h"
#include "devices/vmbus/defs/versions.h"

namespace softsynic::vmbus {
namespace {

// Copies what the payload has of T; the rest stays zero.
template <typename T>
T view(std::span<const std::byte> p) {
  T v{};
  std::memcpy(&v, p.data(), std::min(p.size(), sizeof v));
  return v;
}

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string version_text(std::uint32_t v) {
  return std::to_string(v >> 16) + "." + std::to_string(v & 0xFFFF) + "(" + std::string(version_name(v)) + ")";
}

}  // namespace

std::string describe_message(std::span<const std::byte> p) {
  if (p.size() < sizeof(ChannelMessageHeader)) return "SHORT(" + std::to_string(p.size()) + " bytes)";
  const auto type = view<ChannelMessageHeader>(p).message_type;
  std::string s(channel_message_name(type));
  if (s == "UNKNOWN") s += "(" + std::to_string(type) + ")";
  const auto u = [](std::uint32_t v) { return std::to_string(v); };
  switch (static_cast<ChannelMessageType>(type)) {
    case ChannelMessageType::initiate_contact: {
      const auto m = view<InitiateContact>(p);
      s += " version=" + version_text(m.version_requested) + " target_vp=" + u(m.target_vcpu);
      if (m.version_requested >= kVersionWin10V5)
        s += " sint=" + u(static_cast<std::uint32_t>(m.interrupt_page_or_sint & 0xFF));
      else
        s += " interrupt_page=" + hex(m.interrupt_page_or_sint);
      s += " monitor_pages=" + hex(m.monitor_page1) + "," + hex(m.monitor_page2);
      break;
    }
    case ChannelMessageType::version_response: {
      const auto m = view<VersionResponse>(p);
      s += " supported=" + u(m.version_supported) + " state=" + u(m.connection_state) +
           " message_connection=" + u(m.message_connection_id);
      break;
    }
    case ChannelMessageType::offer_channel: {
      const auto m = view<OfferChannel>(p);
      s += " relid=" + u(m.child_relid) + " interface=" + m.offer.interface_type.to_string() +
           " instance=" + m.offer.interface_instance.to_string() + " connection=" + hex(m.connection_id);
      if (m.monitor_flags & kOfferMonitorAllocated) s += " monitor_id=" + u(m.monitor_id);
      break;
    }
    case ChannelMessageType::rescind_channel_offer:
      s += " relid=" + u(view<RescindChannelOffer>(p).child_relid);
      break;
    case ChannelMessageType::open_channel: {
      const auto m = view<OpenChannel>(p);
      s += " relid=" + u(m.child_relid) + " open_id=" + u(m.open_id) + " gpadl=" + u(m.ring_buffer_gpadl) +
           " target_vp=" + u(m.target_vp) + " downstream_page=" + u(m.downstream_ring_page_offset);
      break;
    }
    case ChannelMessageType::open_channel_result: {
      const auto m = view<OpenChannelResult>(p);
      s += " relid=" + u(m.child_relid) + " open_id=" + u(m.open_id) + " status=" + hex(m.status);
      break;
    }
    case ChannelMessageType::close_channel:
      s += " relid=" + u(view<CloseChannel>(p).child_relid);
      break;
    case ChannelMessageType::gpadl_header: {
      const auto m = view<GpadlHeader>(p);
      s += " relid=" + u(m.child_relid) + " gpadl=" + u(m.gpadl) + " ranges=" + u(m.range_count) +
           " range_bytes=" + u(m.range_buffer_length);
      if (p.size() >= sizeof(GpadlHeader) + sizeof(GpaRange)) {
        const auto r = view<GpaRange>(p.subspan(sizeof(GpadlHeader)));
        s += " byte_count=" + u(r.byte_count) + " byte_offset=" + u(r.byte_offset);
      }
      break;
    }
    case ChannelMessageType::gpadl_body: {
      const auto m = view<GpadlBody>(p);
      s += " gpadl=" + u(m.gpadl) + " number=" + u(m.message_number) +
           " pfns=" + u(static_cast<std::uint32_t>(p.size() > sizeof m ? (p.size() - sizeof m) / 8 : 0));
      break;
    }
    case ChannelMessageType::gpadl_created: {
      const auto m = view<GpadlCreated>(p);
      s += " relid=" + u(m.child_relid) + " gpadl=" + u(m.gpadl) + " status=" + hex(m.creation_status);
      break;
    }
    case ChannelMessageType::gpadl_teardown: {
      const auto m = view<GpadlTeardown>(p);
      s += " relid=" + u(m.child_relid) + " gpadl=" + u(m.gpadl);
      break;
    }
    case ChannelMessageType::gpadl_torndown:
      s += " gpadl=" + u(view<GpadlTorndown>(p).gpadl);
      break;
    case ChannelMessageType::relid_released:
      s += " relid=" + u(view<RelidReleased>(p).child_relid);
      break;
    case ChannelMessageType::invalid:
    case ChannelMessageType::request_offers:
    case ChannelMessageType::all_offers_delivered:
    case ChannelMessageType::unload:
    case ChannelMessageType::unload_response:
    case ChannelMessageType::tl_connect_request:
    case ChannelMessageType::modify_channel:
    case ChannelMessageType::tl_connect_result:
    case ChannelMessageType::modify_channel_response:
    default:
      break;
  }
  return s;
}

}  // namespace softsynic::vmbus
