// Hypervisor status codes (TLFS "Hypercall Status Codes").
//
// HvStatus is an open enum: any 16-bit value is representable, because a
// status can come back from a trace or a peer and must survive a round trip.
// Not supported: status codes the SynIC never produces are named only when a
// trace may spell them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace softsynic {

enum class HvStatus : std::uint16_t {
  success = 0x0000,
  invalid_hypercall_code = 0x0002,
  invalid_hypercall_input = 0x0003,
  invalid_alignment = 0x0004,
  invalid_parameter = 0x0005,
  access_denied = 0x0006,
  invalid_partition_state = 0x0007,
  operation_denied = 0x0008,
  unknown_property = 0x0009,
  property_value_out_of_range = 0x000A,
  insufficient_memory = 0x000B,
  partition_too_deep = 0x000C,
  invalid_partition_id = 0x000D,
  invalid_vp_index = 0x000E,
  invalid_port_id = 0x0011,
  invalid_connection_id = 0x0012,
  insufficient_buffers = 0x0013,
  not_acknowledged = 0x0014,
  invalid_vp_state = 0x0015,
  acknowledged = 0x0016,
  invalid_save_restore_state = 0x0017,
  invalid_synic_state = 0x0018,
  object_in_use = 0x0019,
  invalid_proximity_domain_info = 0x001A,
  no_data = 0x001B,
  inactive = 0x001C,
  no_resources = 0x001D,
  feature_unavailable = 0x001E,
  timeout = 0x0078,
  invalid_vtl_state = 0x0086,
  unknown_register_name = 0x0087,
};

struct HvStatusName {
  HvStatus status;
  std::string_view name;  // without the HV_STATUS_ prefix
};

// Every named status, for tools that print or parse them.
inline constexpr HvStatusName kHvStatusNames[] = {
    {HvStatus::success, "SUCCESS"},
    {HvStatus::invalid_hypercall_code, "INVALID_HYPERCALL_CODE"},
    {HvStatus::invalid_hypercall_input, "INVALID_HYPERCALL_INPUT"},
    {HvStatus::invalid_alignment, "INVALID_ALIGNMENT"},
    {HvStatus::invalid_parameter, "INVALID_PARAMETER"},
    {HvStatus::access_denied, "ACCESS_DENIED"},
    {HvStatus::invalid_partition_state, "INVALID_PARTITION_STATE"},
    {HvStatus::operation_denied, "OPERATION_DENIED"},
    {HvStatus::unknown_property, "UNKNOWN_PROPERTY"},
    {HvStatus::property_value_out_of_range, "PROPERTY_VALUE_OUT_OF_RANGE"},
    {HvStatus::insufficient_memory, "INSUFFICIENT_MEMORY"},
    {HvStatus::partition_too_deep, "PARTITION_TOO_DEEP"},
    {HvStatus::invalid_partition_id, "INVALID_PARTITION_ID"},
    {HvStatus::invalid_vp_index, "INVALID_VP_INDEX"},
    {HvStatus::invalid_port_id, "INVALID_PORT_ID"},
    {HvStatus::invalid_connection_id, "INVALID_CONNECTION_ID"},
    {HvStatus::insufficient_buffers, "INSUFFICIENT_BUFFERS"},
    {HvStatus::not_acknowledged, "NOT_ACKNOWLEDGED"},
    {HvStatus::invalid_vp_state, "INVALID_VP_STATE"},
    {HvStatus::acknowledged, "ACKNOWLEDGED"},
    {HvStatus::invalid_save_restore_state, "INVALID_SAVE_RESTORE_STATE"},
    {HvStatus::invalid_synic_state, "INVALID_SYNIC_STATE"},
    {HvStatus::object_in_use, "OBJECT_IN_USE"},
    {HvStatus::invalid_proximity_domain_info, "INVALID_PROXIMITY_DOMAIN_INFO"},
    {HvStatus::no_data, "NO_DATA"},
    {HvStatus::inactive, "INACTIVE"},
    {HvStatus::no_resources, "NO_RESOURCES"},
    {HvStatus::feature_unavailable, "FEATURE_UNAVAILABLE"},
    {HvStatus::timeout, "TIMEOUT"},
    {HvStatus::invalid_vtl_state, "INVALID_VTL_STATE"},
    {HvStatus::unknown_register_name, "UNKNOWN_REGISTER_NAME"},
};

// Name without prefix, or empty for a code that has no name.
constexpr std::string_view status_name(HvStatus s) {
  for (const auto& n : kHvStatusNames)
    if (n.status == s) return n.name;
  return {};
}

// Accepts "SUCCESS" or "HV_STATUS_SUCCESS".
constexpr std::optional<HvStatus> status_from_name(std::string_view name) {
  constexpr std::string_view prefix = "HV_STATUS_";
  if (name.substr(0, prefix.size()) == prefix) name.remove_prefix(prefix.size());
  for (const auto& n : kHvStatusNames)
    if (n.name == name) return n.status;
  return std::nullopt;
}

}  // namespace softsynic
