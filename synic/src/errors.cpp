// Host-side error category and the stable snake_case error names that
// traces use. No TLFS section: these are softsynic's own host API errors.
#include "synic/errors.h"

#include <array>
#include <string>

namespace softsynic {
namespace {

struct ErrorName {
  Error error;
  std::string_view name;
};

constexpr std::array kErrorNames = {
    ErrorName{Error::ok, "ok"},
    ErrorName{Error::queue_full, "queue_full"},
    ErrorName{Error::invalid_vp, "invalid_vp"},
    ErrorName{Error::invalid_vtl, "invalid_vtl"},
    ErrorName{Error::invalid_sint, "invalid_sint"},
    ErrorName{Error::invalid_flag, "invalid_flag"},
    ErrorName{Error::payload_too_large, "payload_too_large"},
    ErrorName{Error::invalid_message_type, "invalid_message_type"},
    ErrorName{Error::connection_id_in_use, "connection_id_in_use"},
    ErrorName{Error::null_port, "null_port"},
    ErrorName{Error::sint_not_ready, "sint_not_ready"},
    ErrorName{Error::flag_already_set, "flag_already_set"},
    ErrorName{Error::cancelled, "cancelled"},
    ErrorName{Error::monitor_id_in_use, "monitor_id_in_use"},
    ErrorName{Error::invalid_monitor_id, "invalid_monitor_id"},
    ErrorName{Error::invalid_monitor_page, "invalid_monitor_page"},
};

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "softsynic"; }
  std::string message(int ev) const override {
    const auto n = error_name(static_cast<Error>(ev));
    return n.empty() ? "unknown softsynic error " + std::to_string(ev) : std::string(n);
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::string_view error_name(Error e) noexcept {
  for (const auto& n : kErrorNames)
    if (n.error == e) return n.name;
  return {};
}

std::optional<Error> error_from_name(std::string_view name) noexcept {
  for (const auto& n : kErrorNames)
    if (n.name == name) return n.error;
  return std::nullopt;
}

}  // namespace softsynic
