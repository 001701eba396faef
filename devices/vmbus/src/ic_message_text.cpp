// describe_ic_message: field-by-field text of IC messages; see
// ic_message_text.h.
#include "devices/vmbus/ic_message_text.h"

#include <cstdio>

#include "devices/vmbus/defs/ic_messages.h"
#include "devices/vmbus/ic_codec.h"

namespace softsynic::vmbus {
namespace {

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string join(const std::vector<IcVersion>& list) {
  std::string s;
  for (const IcVersion v : list) s += (s.empty() ? "" : ",") + v.to_string();
  return s.empty() ? "none" : s;
}

std::string shutdown_flags_text(std::uint32_t flags) {
  std::string s = (flags & kShutdownFlagHibernate) ? "hibernate" : (flags & kShutdownFlagRestart) ? "restart" : "power off";
  if (flags & kShutdownFlagForce) s += ", force";
  if (flags & ~(kShutdownFlagForce | kShutdownFlagRestart | kShutdownFlagHibernate)) s += ", unknown bits";
  return hex(flags) + "(" + s + ")";
}

std::string time_sync_flags_text(std::uint8_t flags) {
  switch (flags) {
    case kTimeSyncFlagProbe: return "0x0(probe)";
    case kTimeSyncFlagSync: return "0x1(sync)";
    case kTimeSyncFlagSample: return "0x2(sample)";
    default: return hex(flags) + "(unknown)";
  }
}

std::string body_text(const IcMessage& m) {
  const std::string short_body = " (short body: " + std::to_string(m.body().size()) + " bytes)";
  switch (m.type()) {
    case IcMessageType::negotiate: {
      const auto lists = decode_negotiate_lists(m);
      if (!lists) return short_body;
      return " frameworks=" + join(lists->frameworks) + " services=" + join(lists->services);
    }
    case IcMessageType::heartbeat: {
      const auto seq = decode_heartbeat_sequence(m);
      return seq ? " seq=" + std::to_string(*seq) : short_body;
    }
    case IcMessageType::shutdown: {
      const auto flags = decode_shutdown_flags(m);
      return flags ? " flags=" + shutdown_flags_text(*flags) : short_body;
    }
    case IcMessageType::time_sync: {
      const auto t = decode_time_sync(m);
      if (!t) return short_body;
      std::string s = " parent_time=" + std::to_string(t->parent_time);
      if (t->reference_time) s += " reference_time=" + std::to_string(*t->reference_time);
      return s + " flags=" + time_sync_flags_text(t->flags);
    }
    case IcMessageType::kvp_exchange:
    case IcMessageType::vss:
    case IcMessageType::file_copy:
    default:
      return " (" + std::to_string(m.body().size()) + " body bytes)";
  }
}

}  // namespace

std::string describe_ic_message(std::span<const std::byte> payload) {
  const auto m = IcMessage::decode(payload);
  if (!m) return "IC SHORT(" + std::to_string(payload.size()) + " bytes)";
  const IcHeader& h = m->header();
  std::string s = "IC " + std::string(ic_message_name(h.message_type));
  if (s == "IC UNKNOWN") s += "(" + std::to_string(h.message_type) + ")";
  s += m->is_response() ? " response" : (h.flags & kIcFlagRequest) ? " request" : " flags=" + hex(h.flags);
  s += " tid=" + std::to_string(h.transaction_id) + " fw=" + h.framework.to_string() +
       " msg=" + h.message_version.to_string();
  if (m->is_response()) s += " status=" + describe_ic_status(h.status);
  return s + body_text(*m);
}

std::string describe_ic_status(std::uint32_t status) {
  switch (status) {
    case kIcStatusOk: return "0x0(S_OK)";
    case kIcStatusFail: return "0x80004005(E_FAIL)";
    default: return hex(status);
  }
}

}  // namespace softsynic::vmbus
