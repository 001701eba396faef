// VMBus channel management ("control plane") messages: the message type
// numbers and the wire layout of each message body as it travels in the
// payload of a SynIC message of type kSynicMessageTypeChannel. Every body
// starts with ChannelMessageHeader. Layouts are packed, little-endian.
// Numbers and layouts as the public guest drivers define them.
// Not supported: TL_CONNECT_REQUEST / TL_CONNECT_RESULT (hvsocket),
// MODIFYCHANNEL / MODIFYCHANNEL_RESPONSE (decoded by name only), the pipe
// variant of the offer's user-defined area, confidential-channel flags.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "devices/vmbus/defs/guid.h"

namespace softsynic::vmbus {

// Open enum: the guest may send any number.
enum class ChannelMessageType : std::uint32_t {
  invalid = 0,
  offer_channel = 1,
  rescind_channel_offer = 2,
  request_offers = 3,
  all_offers_delivered = 4,
  open_channel = 5,
  open_channel_result = 6,
  close_channel = 7,
  gpadl_header = 8,
  gpadl_body = 9,
  gpadl_created = 10,
  gpadl_teardown = 11,
  gpadl_torndown = 12,
  relid_released = 13,
  initiate_contact = 14,
  version_response = 15,
  unload = 16,
  unload_response = 17,
  tl_connect_request = 22,
  modify_channel = 23,
  tl_connect_result = 24,
  modify_channel_response = 25,
};

struct ChannelMessageName {
  ChannelMessageType type;
  std::string_view name;
};

inline constexpr ChannelMessageName kChannelMessageNames[] = {
    {ChannelMessageType::invalid, "INVALID"},
    {ChannelMessageType::offer_channel, "OFFERCHANNEL"},
    {ChannelMessageType::rescind_channel_offer, "RESCIND_CHANNELOFFER"},
    {ChannelMessageType::request_offers, "REQUESTOFFERS"},
    {ChannelMessageType::all_offers_delivered, "ALLOFFERS_DELIVERED"},
    {ChannelMessageType::open_channel, "OPENCHANNEL"},
    {ChannelMessageType::open_channel_result, "OPENCHANNEL_RESULT"},
    {ChannelMessageType::close_channel, "CLOSECHANNEL"},
    {ChannelMessageType::gpadl_header, "GPADL_HEADER"},
    {ChannelMessageType::gpadl_body, "GPADL_BODY"},
    {ChannelMessageType::gpadl_created, "GPADL_CREATED"},
    {ChannelMessageType::gpadl_teardown, "GPADL_TEARDOWN"},
    {ChannelMessageType::gpadl_torndown, "GPADL_TORNDOWN"},
    {ChannelMessageType::relid_released, "RELID_RELEASED"},
    {ChannelMessageType::initiate_contact, "INITIATE_CONTACT"},
    {ChannelMessageType::version_response, "VERSION_RESPONSE"},
    {ChannelMessageType::unload, "UNLOAD"},
    {ChannelMessageType::unload_response, "UNLOAD_RESPONSE"},
    {ChannelMessageType::tl_connect_request, "TL_CONNECT_REQUEST"},
    {ChannelMessageType::modify_channel, "MODIFYCHANNEL"},
    {ChannelMessageType::tl_connect_result, "TL_CONNECT_RESULT"},
    {ChannelMessageType::modify_channel_response, "MODIFYCHANNEL_RESPONSE"},
};

constexpr std::string_view channel_message_name(std::uint32_t type) {
  for (const auto& n : kChannelMessageNames)
    if (static_cast<std::uint32_t>(n.type) == type) return n.name;
  return "UNKNOWN";
}

// Status values the host reports in OPENCHANNEL_RESULT and GPADL_CREATED.
inline constexpr std::uint32_t kStatusSuccess = 0;
inline constexpr std::uint32_t kStatusUnsuccessful = 0xC0000001;  // NTSTATUS STATUS_UNSUCCESSFUL

// VERSION_RESPONSE connection_state.
inline constexpr std::uint8_t kConnectionStateSuccessful = 0;

#pragma pack(push, 1)

struct ChannelMessageHeader {
  std::uint32_t message_type;
  std::uint32_t padding;
};
static_assert(sizeof(ChannelMessageHeader) == 8);

struct InitiateContact {
  ChannelMessageHeader header;
  std::uint32_t version_requested;
  std::uint32_t target_vcpu;  // VP that receives the host's messages
  // Below 5.0: the GPA of the two-page interrupt page. From 5.0: byte 0 is
  // the SINT the guest wants messages on, byte 1 the VTL.
  std::uint64_t interrupt_page_or_sint;
  std::uint64_t monitor_page1;
  std::uint64_t monitor_page2;
};
static_assert(sizeof(InitiateContact) == 40);
static_assert(offsetof(InitiateContact, version_requested) == 8);
static_assert(offsetof(InitiateContact, interrupt_page_or_sint) == 16);
static_assert(offsetof(InitiateContact, monitor_page2) == 32);

struct VersionResponse {
  ChannelMessageHeader header;
  std::uint8_t version_supported;  // nonzero: accepted
  std::uint8_t connection_state;
  std::uint16_t padding;
  std::uint32_t message_connection_id;  // from 5.0: where to post from now on
};
static_assert(sizeof(VersionResponse) == 16);

// Header-only messages: REQUESTOFFERS, ALLOFFERS_DELIVERED, UNLOAD,
// UNLOAD_RESPONSE.
struct HeaderOnly {
  ChannelMessageHeader header;
};
static_assert(sizeof(HeaderOnly) == 8);

inline constexpr std::size_t kOfferUserDefinedSize = 120;

struct ChannelOffer {
  Guid interface_type;
  Guid interface_instance;
  std::uint64_t reserved1;
  std::uint64_t reserved2;
  std::uint16_t channel_flags;
  std::uint16_t mmio_megabytes;
  std::array<std::uint8_t, kOfferUserDefinedSize> user_defined;
  std::uint16_t sub_channel_index;
  std::uint16_t reserved3;
};
static_assert(sizeof(ChannelOffer) == 176);
static_assert(offsetof(ChannelOffer, channel_flags) == 48);
static_assert(offsetof(ChannelOffer, user_defined) == 52);

// OfferChannel::monitor_flags bit 0: a monitor id was allocated.
inline constexpr std::uint8_t kOfferMonitorAllocated = 0x01;
// OfferChannel::interrupt_flags bit 0: the channel has its own event
// connection (no shared interrupt page).
inline constexpr std::uint16_t kOfferDedicatedInterrupt = 0x0001;

struct OfferChannel {
  ChannelMessageHeader header;
  ChannelOffer offer;
  std::uint32_t child_relid;
  std::uint8_t monitor_id;
  std::uint8_t monitor_flags;
  std::uint16_t interrupt_flags;
  std::uint32_t connection_id;  // from WIN7: the guest signals on it
};
static_assert(sizeof(OfferChannel) == 196);
static_assert(offsetof(OfferChannel, child_relid) == 184);
static_assert(offsetof(OfferChannel, connection_id) == 192);

struct RescindChannelOffer {
  ChannelMessageHeader header;
  std::uint32_t child_relid;
};
static_assert(sizeof(RescindChannelOffer) == 12);

struct OpenChannel {
  ChannelMessageHeader header;
  std::uint32_t child_relid;
  std::uint32_t open_id;
  std::uint32_t ring_buffer_gpadl;
  std::uint32_t target_vp;
  // Page of the GPADL where the host-to-guest ring starts.
  std::uint32_t downstream_ring_page_offset;
  std::array<std::uint8_t, kOfferUserDefinedSize> user_data;
};
static_assert(sizeof(OpenChannel) == 148);
static_assert(offsetof(OpenChannel, downstream_ring_page_offset) == 24);

struct OpenChannelResult {
  ChannelMessageHeader header;
  std::uint32_t child_relid;
  std::uint32_t open_id;
  std::uint32_t status;
};
static_assert(sizeof(OpenChannelResult) == 20);

struct CloseChannel {
  ChannelMessageHeader header;
  std::uint32_t child_relid;
};
static_assert(sizeof(CloseChannel) == 12);

// One range of a GPADL: byte_count bytes starting byte_offset into the
// first of the range's pages; the page frame numbers follow.
struct GpaRange {
  std::uint32_t byte_count;
  std::uint32_t byte_offset;
};
static_assert(sizeof(GpaRange) == 8);

struct GpadlHeader {
  ChannelMessageHeader header;
  std::uint32_t child_relid;
  std::uint32_t gpadl;
  std::uint16_t range_buffer_length;  // bytes of ranges and pfns, all messages
  std::uint16_t range_count;
  // GpaRange + u64 pfns follow.
};
static_assert(sizeof(GpadlHeader) == 20);

struct GpadlBody {
  ChannelMessageHeader header;
  std::uint32_t message_number;
  std::uint32_t gpadl;
  // u64 pfns follow.
};
static_assert(sizeof(GpadlBody) == 16);

struct GpadlCreated {
  ChannelMessageHeader header;
  std::uint32_t child_relid;
  std::uint32_t gpadl;
  std::uint32_t creation_status;
};
static_assert(sizeof(GpadlCreated) == 20);

struct GpadlTeardown {
  ChannelMessageHeader header;
  std::uint32_t child_relid;
  std::uint32_t gpadl;
};
static_assert(sizeof(GpadlTeardown) == 16);

struct GpadlTorndown {
  ChannelMessageHeader header;
  std::uint32_t gpadl;
};
static_assert(sizeof(GpadlTorndown) == 12);

struct RelidReleased {
  ChannelMessageHeader header;
  std::uint32_t child_relid;
};
static_assert(sizeof(RelidReleased) == 12);

#pragma pack(pop)

// Page frame numbers that fit in one message after each fixed part.
inline constexpr std::size_t kMaxMessagePayload = 240;
inline constexpr std::size_t kGpadlHeaderMaxPfns = (kMaxMessagePayload - sizeof(GpadlHeader) - sizeof(GpaRange)) / 8;
inline constexpr std::size_t kGpadlBodyMaxPfns = (kMaxMessagePayload - sizeof(GpadlBody)) / 8;
static_assert(kGpadlHeaderMaxPfns == 26);
static_assert(kGpadlBodyMaxPfns == 28);

}  // namespace softsynic::vmbus
