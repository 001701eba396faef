// Readable SynIC event lines.
#include "emu/event_log.h"

#include <cstdio>
#include <ostream>

#include "synic/defs/registers.h"
#include "synic/errors.h"

namespace softsynic::emu {
namespace {

std::string_view kind_name(SynicEventKind kind) {
  switch (kind) {
    case SynicEventKind::host_post_queued:
      return "host_post_queued";
    case SynicEventKind::host_post_rejected:
      return "host_post_rejected";
    case SynicEventKind::message_delivered:
      return "message_delivered";
    case SynicEventKind::message_pending_set:
      return "message_pending_set";
    case SynicEventKind::interrupt_requested:
      return "interrupt_requested";
    case SynicEventKind::eom:
      return "eom";
    case SynicEventKind::guest_post_message:
      return "guest_post_message";
    case SynicEventKind::guest_signal_event:
      return "guest_signal_event";
    case SynicEventKind::event_flag_set:
      return "event_flag_set";
    case SynicEventKind::register_write:
      return "register_write";
    default:
      return "unknown_event";
  }
}

std::string status_text(HvStatus status) {
  auto name = status_name(status);
  if (!name.empty()) return std::string(name);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%#x", static_cast<unsigned>(status));
  return buf;
}

}  // namespace

std::string describe_event(const SynicEvent& e) {
  char head[64];
  std::snprintf(head, sizeof head, "synic: vp%u vtl%u %s", e.vp, static_cast<unsigned>(e.vtl),
                std::string(kind_name(e.kind)).c_str());
  std::string line = head;
  char buf[160];
  switch (e.kind) {
    case SynicEventKind::host_post_queued:
    case SynicEventKind::message_delivered:
    case SynicEventKind::message_pending_set:
      std::snprintf(buf, sizeof buf, " sint=%u type=%#x size=%zu", e.sint, e.message_type, e.payload.size());
      break;
    case SynicEventKind::host_post_rejected:
      std::snprintf(buf, sizeof buf, " sint=%u type=%#x error=%s", e.sint, e.message_type,
                    std::string(error_name(static_cast<Error>(e.error))).c_str());
      break;
    case SynicEventKind::interrupt_requested:
      std::snprintf(buf, sizeof buf, " sint=%u vector=%#x%s", e.sint, e.vector, e.auto_eoi ? " auto_eoi" : "");
      break;
    case SynicEventKind::eom:
      buf[0] = '\0';
      break;
    case SynicEventKind::guest_post_message:
      std::snprintf(buf, sizeof buf, " conn=%#x type=%#x size=%zu -> %s", e.connection_id, e.message_type,
                    e.payload.size(), status_text(e.status).c_str());
      break;
    case SynicEventKind::guest_signal_event:
      std::snprintf(buf, sizeof buf, " conn=%#x flag=%u -> %s", e.connection_id, e.flag, status_text(e.status).c_str());
      break;
    case SynicEventKind::event_flag_set:
      std::snprintf(buf, sizeof buf, " sint=%u flag=%u%s", e.sint, e.flag, e.raised ? " raised" : " (already set)");
      break;
    case SynicEventKind::register_write: {
      auto name = register_name(HvRegisterName(e.reg));
      std::snprintf(buf, sizeof buf, " %s=%#llx", name.empty() ? "reg" : std::string(name).c_str(),
                    static_cast<unsigned long long>(e.value));
      break;
    }
    default:
      buf[0] = '\0';
      break;
  }
  return line + buf;
}

void EventLog::on_synic_event(const SynicEvent& event) {
  std::string line = describe_event(event);
  std::lock_guard lock(mutex_);
  out_ << line << '\n';
}

}  // namespace softsynic::emu
