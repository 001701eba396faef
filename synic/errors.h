// Host-side errors: what a host API call reports when the host misuses it or
// the guest is not ready. Guest-visible outcomes are HvStatus values, not
// these. Each error has a stable snake_case name (used by traces).
#pragma once

#include <optional>
#include <string_view>

#include <boost/system/error_code.hpp>

namespace softsynic {

enum class Error {
  ok = 0,
  queue_full,             // post_message: the (VTL, VP, SINT) queue is at capacity
  invalid_vp,             // VP index out of range
  invalid_vtl,            // VTL >= the partition's vtl_count
  invalid_sint,           // SINT >= 16
  invalid_flag,           // event flag >= 2048
  payload_too_large,      // payload over 240 bytes
  invalid_message_type,   // message type 0 (the "slot free" marker)
  connection_id_in_use,   // a port with this connection id exists
  null_port,              // a null port object was passed
  sint_not_ready,         // event port: SCONTROL or SIEFP disabled, flag not set
  flag_already_set,       // event port: the flag was already set (no interrupt)
  cancelled,              // a pending async_post_message was abandoned (partition gone)
  monitor_id_in_use,      // monitor pages: the (VTL, monitor id) is already registered
  invalid_monitor_id,     // monitor pages: monitor id >= 128
  invalid_monitor_page,   // monitor pages: a GPA not 4 KiB aligned, or not guest RAM
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

std::string_view error_name(Error e) noexcept;
std::optional<Error> error_from_name(std::string_view name) noexcept;

}  // namespace softsynic

namespace boost::system {
template <>
struct is_error_code_enum<softsynic::Error> : std::true_type {};
}  // namespace boost::system
