// Integration-component messages on the wire: the byte layout of the
// host's negotiate, heartbeat, shutdown and time sync requests (offsets as
// a guest driver reads them), the guest's answers decoded, and short or
// odd answers reported instead of read past their end.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "devices/vmbus/defs/ic_messages.h"
#include "devices/vmbus/ic_codec.h"
#include "devices/vmbus/ic_message_text.h"

using namespace softsynic::vmbus;

namespace {

template <typename T>
T at(const std::vector<std::byte>& b, std::size_t offset) {
  T v{};
  REQUIRE(offset + sizeof v <= b.size());
  std::memcpy(&v, b.data() + offset, sizeof v);
  return v;
}

template <typename T>
void put(std::vector<std::byte>& b, std::size_t offset, T v) {
  REQUIRE(offset + sizeof v <= b.size());
  std::memcpy(b.data() + offset, &v, sizeof v);
}

// Header offsets as a guest reads them.
constexpr std::size_t kPipeSize = 4, kFramework = 8, kType = 12, kMessageVersion = 14, kBodySize = 18, kStatus = 20,
                      kTid = 24, kFlags = 25, kBody = 28;

// A guest's negotiate answer: counts, then framework and service versions.
std::vector<std::byte> negotiate_answer(std::uint16_t framework_count, std::uint16_t service_count,
                                        std::vector<IcVersion> versions) {
  std::vector<std::byte> b(kBody + 8 + 4 * versions.size());
  put<std::uint16_t>(b, kType, 0);
  put<std::uint8_t>(b, kFlags, kIcFlagTransaction | kIcFlagResponse);
  put<std::uint16_t>(b, kBody, framework_count);
  put<std::uint16_t>(b, kBody + 2, service_count);
  for (std::size_t i = 0; i < versions.size(); ++i) put<IcVersion>(b, kBody + 8 + 4 * i, versions[i]);
  return b;
}

IcMessage decoded(const std::vector<std::byte>& b) {
  auto m = IcMessage::decode(b);
  REQUIRE(m);
  return *m;
}

constexpr IcVersions kV3{IcVersion{3, 0}, IcVersion{3, 0}};

}  // namespace

TEST_CASE("ic: the headers take 28 bytes, and the body layouts have the sizes guests check") {
  CHECK(kIcBodyOffset == 28);
  CHECK(sizeof(HeartbeatData) == 40);
  CHECK(sizeof(ShutdownData) == 2060);
  CHECK(sizeof(TimeSyncData) == 25);
  CHECK(sizeof(TimeSyncRefData) == 22);
  CHECK(IcVersion{3, 2}.ordinal() == 0x00030002);
  CHECK(IcVersion{3, 2}.to_string() == "3.2");
  CHECK(kHeartbeatInterfaceId.to_string() == "57164f39-9115-4e78-ab55-382f3bd5422d");
  CHECK(kShutdownInterfaceId.to_string() == "0e0b6031-5213-4934-818b-38d90ced39db");
  CHECK(kTimeSyncInterfaceId.to_string() == "9527e630-d0ae-497b-adce-e80ab0175caf");
}

TEST_CASE("ic: a negotiate request offers frameworks 3.0 and 1.0, then the service versions, newest first") {
  const auto b = encode_negotiate_request(7, kIcFrameworkVersions, kHeartbeatVersions);
  REQUIRE(b.size() == kBody + 8 + 4 * 4);
  CHECK(at<std::uint32_t>(b, kPipeSize) == b.size() - 8);
  CHECK(at<std::uint16_t>(b, kType) == 0);
  CHECK(at<std::uint16_t>(b, kBodySize) == 8 + 16);
  CHECK(at<std::uint8_t>(b, kTid) == 7);
  CHECK(at<std::uint8_t>(b, kFlags) == (kIcFlagTransaction | kIcFlagRequest));
  CHECK(at<std::uint16_t>(b, kBody) == 2);
  CHECK(at<std::uint16_t>(b, kBody + 2) == 2);
  CHECK(at<IcVersion>(b, kBody + 8) == IcVersion{3, 0});
  CHECK(at<IcVersion>(b, kBody + 12) == IcVersion{1, 0});
  CHECK(at<IcVersion>(b, kBody + 16) == IcVersion{3, 0});
  CHECK(at<IcVersion>(b, kBody + 20) == IcVersion{1, 0});
  const auto lists = decode_negotiate_lists(decoded(b));
  REQUIRE(lists);
  CHECK(lists->frameworks == std::vector<IcVersion>{{3, 0}, {1, 0}});
  CHECK(lists->services == std::vector<IcVersion>{{3, 0}, {1, 0}});
  CHECK(describe_ic_message(b) ==
        "IC NEGOTIATE request tid=7 fw=3.0 msg=3.0 frameworks=3.0,1.0 services=3.0,1.0");
}

TEST_CASE("ic: the guest's negotiate answer is agreed, no common version, malformed or not offered") {
  SUBCASE("one framework and one offered service version: agreed") {
    const auto a = decode_negotiate_answer(decoded(negotiate_answer(1, 1, {{3, 0}, {3, 1}})), kIcFrameworkVersions,
                                           kShutdownVersions);
    CHECK(a.outcome == NegotiateOutcome::agreed);
    CHECK(a.versions == IcVersions{{3, 0}, {3, 1}});
  }
  SUBCASE("counts 0 and 0: no common version") {
    const auto a = decode_negotiate_answer(decoded(negotiate_answer(0, 0, {{0, 0}, {0, 0}})), kIcFrameworkVersions,
                                           kHeartbeatVersions);
    CHECK(a.outcome == NegotiateOutcome::no_common);
  }
  SUBCASE("a service version the host never offered") {
    const auto a = decode_negotiate_answer(decoded(negotiate_answer(1, 1, {{3, 0}, {2, 0}})), kIcFrameworkVersions,
                                           kHeartbeatVersions);
    CHECK(a.outcome == NegotiateOutcome::not_offered);
    CHECK(a.why.find("service 2.0") != std::string::npos);
  }
  SUBCASE("a framework version the host never offered") {
    const auto a = decode_negotiate_answer(decoded(negotiate_answer(1, 1, {{2, 0}, {3, 0}})), kIcFrameworkVersions,
                                           kHeartbeatVersions);
    CHECK(a.outcome == NegotiateOutcome::not_offered);
  }
  SUBCASE("counts other than 1/1 or 0/0") {
    const auto a = decode_negotiate_answer(decoded(negotiate_answer(2, 1, {{3, 0}, {1, 0}, {3, 0}})),
                                           kIcFrameworkVersions, kHeartbeatVersions);
    CHECK(a.outcome == NegotiateOutcome::malformed);
  }
  SUBCASE("counts promising more versions than the packet holds") {
    auto b = negotiate_answer(1, 1, {{3, 0}});  // one version for two
    const auto a = decode_negotiate_answer(decoded(b), kIcFrameworkVersions, kHeartbeatVersions);
    CHECK(a.outcome == NegotiateOutcome::malformed);
    put<std::uint16_t>(b, kBody, 0xFFFF);
    CHECK_FALSE(decode_negotiate_lists(decoded(b)));
    CHECK(describe_ic_message(b).find("short body") != std::string::npos);
  }
  SUBCASE("no room even for the counts") {
    std::vector<std::byte> b(kBody + 3);
    put<std::uint8_t>(b, kFlags, kIcFlagTransaction | kIcFlagResponse);
    const auto a = decode_negotiate_answer(decoded(b), kIcFrameworkVersions, kHeartbeatVersions);
    CHECK(a.outcome == NegotiateOutcome::malformed);
  }
}

TEST_CASE("ic: a heartbeat request carries the sequence number right after the headers") {
  const auto b = encode_heartbeat_request(kV3, 9, 41);
  REQUIRE(b.size() == kBody + 40);
  CHECK(at<std::uint16_t>(b, kType) == 1);
  CHECK(at<IcVersion>(b, kFramework) == IcVersion{3, 0});
  CHECK(at<IcVersion>(b, kMessageVersion) == IcVersion{3, 0});
  CHECK(at<std::uint16_t>(b, kBodySize) == 40);
  CHECK(at<std::uint32_t>(b, kStatus) == 0);
  CHECK(at<std::uint64_t>(b, kBody) == 41);
  CHECK(decode_heartbeat_sequence(decoded(b)) == 41u);
  CHECK(describe_ic_message(b) == "IC HEARTBEAT request tid=9 fw=3.0 msg=3.0 seq=41");
  // An answer as a guest writes it: in place, sequence + 1, response flags.
  auto answer = b;
  put<std::uint64_t>(answer, kBody, 42);
  put<std::uint8_t>(answer, kFlags, kIcFlagTransaction | kIcFlagResponse);
  CHECK(decoded(answer).is_response());
  CHECK(describe_ic_message(answer) == "IC HEARTBEAT response tid=9 fw=3.0 msg=3.0 status=0x0(S_OK) seq=42");
  answer.resize(kBody + 7);
  CHECK_FALSE(decode_heartbeat_sequence(decoded(answer)));
}

TEST_CASE("ic: a shutdown request is the whole 2060-byte body with the flags at byte 8 of it") {
  const auto b = encode_shutdown_request(IcVersions{{3, 0}, {3, 2}}, 1, kShutdownFlagForce, 5, 30);
  REQUIRE(b.size() == kBody + 2060);  // guests refuse a shorter one
  CHECK(at<std::uint16_t>(b, kType) == 3);
  CHECK(at<std::uint32_t>(b, kBody) == 5);
  CHECK(at<std::uint32_t>(b, kBody + 4) == 30);
  CHECK(at<std::uint32_t>(b, kBody + 8) == kShutdownFlagForce);
  CHECK(decode_shutdown_flags(decoded(b)) == kShutdownFlagForce);
  CHECK(describe_ic_message(b) == "IC SHUTDOWN request tid=1 fw=3.0 msg=3.2 flags=0x1(power off, force)");
}

TEST_CASE("ic: time sync 4.0 samples carry the reference time; older ones the three-time layout") {
  SUBCASE("4.0") {
    const auto b = encode_time_sync_request(IcVersions{{3, 0}, {4, 0}}, 2, 1000, 77, kTimeSyncFlagSync);
    REQUIRE(b.size() == kBody + 22);
    CHECK(at<std::uint16_t>(b, kType) == 4);
    CHECK(at<std::uint64_t>(b, kBody) == 1000);
    CHECK(at<std::uint64_t>(b, kBody + 8) == 77);
    CHECK(at<std::uint8_t>(b, kBody + 16) == kTimeSyncFlagSync);
    const auto t = decode_time_sync(decoded(b));
    REQUIRE(t);
    CHECK(t->reference_time == 77u);
    CHECK(describe_ic_message(b) ==
          "IC TIMESYNC request tid=2 fw=3.0 msg=4.0 parent_time=1000 reference_time=77 flags=0x1(sync)");
  }
  SUBCASE("3.0") {
    const auto b = encode_time_sync_request(IcVersions{{3, 0}, {3, 0}}, 2, 1000, 77, kTimeSyncFlagSample);
    REQUIRE(b.size() == kBody + 25);
    CHECK(at<std::uint64_t>(b, kBody) == 1000);
    CHECK(at<std::uint64_t>(b, kBody + 8) == 0);   // child time
    CHECK(at<std::uint64_t>(b, kBody + 16) == 0);  // round trip
    CHECK(at<std::uint8_t>(b, kBody + 24) == kTimeSyncFlagSample);
    const auto t = decode_time_sync(decoded(b));
    REQUIRE(t);
    CHECK_FALSE(t->reference_time);
    CHECK(t->flags == kTimeSyncFlagSample);
  }
}

TEST_CASE("ic: bytes shorter than the headers, unknown types and odd flags decode without reading past the end") {
  CHECK_FALSE(IcMessage::decode({}));
  std::vector<std::byte> b(27);
  CHECK_FALSE(IcMessage::decode(b));
  CHECK(describe_ic_message(b) == "IC SHORT(27 bytes)");
  b.resize(28);
  const auto m = IcMessage::decode(b);
  REQUIRE(m);
  CHECK(m->body().empty());
  put<std::uint16_t>(b, kType, 9);
  put<std::uint8_t>(b, kFlags, 0x80);
  CHECK(describe_ic_message(b) == "IC UNKNOWN(9) flags=0x80 tid=0 fw=0.0 msg=0.0 (0 body bytes)");
  put<std::uint16_t>(b, kType, 3);
  CHECK_FALSE(decode_shutdown_flags(decoded(b)));
  CHECK_FALSE(decode_time_sync(decoded(b)));
  CHECK(ic_message_name(2) == "KVP_EXCHANGE");
  CHECK(describe_ic_status(0x80004005) == "0x80004005(E_FAIL)");
  CHECK(describe_ic_status(0x1234) == "0x1234");
}
