// The guest's crash report: CRASH_P0..P4 (0x40000100-0x40000104) and
// CRASH_CTL (0x40000105), TLFS "Partition Crash Enlightenment".
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "cpu_hooks/crash_msrs.h"
#include "harness.h"
#include "synic/defs/cpuid.h"

namespace softsynic::test {
namespace {

constexpr std::uint64_t kNotify = std::uint64_t{1} << 63;
constexpr std::uint64_t kMessage = std::uint64_t{1} << 62;
constexpr std::uint64_t kMessageGpa = 0x30000;

struct Reported {
  std::optional<GuestCrashReport> report;
  int count = 0;
};

void listen(Machine& m, Reported& out) {
  m.x86().set_crash_listener([&out](const GuestCrashReport& r) {
    out.report = r;
    ++out.count;
  });
}

TEST_CASE("crash MSRs: CPUID bit 10 of 0x40000003 EDX, CRASH_CTL reads as notify and message") {
  Machine m(HvArch::x86_64);
  CHECK((m.x86().cpuid(cpuid::kFeaturesLeaf)->edx & cpuid::kGuestCrashMsrs) != 0);
  std::uint64_t v = 0;
  REQUIRE(m.x86().rdmsr(0, 0, msr::kCrashCtl, v) == MsrResult::ok);
  CHECK(v == (kNotify | kMessage));
}

TEST_CASE("crash MSRs: P0-P4 read back, partition-wide; writing them reports nothing") {
  Machine m(HvArch::x86_64);
  Reported seen;
  listen(m, seen);
  for (std::uint32_t i = 0; i < msr::kCrashParameterCount; ++i)
    CHECK(m.x86().wrmsr(i % 2, 0, msr::kCrashP0 + i, 0x1000 + i) == MsrResult::ok);
  for (std::uint32_t i = 0; i < msr::kCrashParameterCount; ++i) {
    std::uint64_t v = 0;
    REQUIRE(m.x86().rdmsr(1, 0, msr::kCrashP0 + i, v) == MsrResult::ok);
    CHECK(v == 0x1000 + i);
  }
  CHECK(seen.count == 0);
}

TEST_CASE("crash MSRs: the notify bit reports P0-P4 and the reporting VP") {
  Machine m(HvArch::x86_64);
  Reported seen;
  listen(m, seen);
  const std::uint64_t params[] = {0xdead, 0x8100000601c00000, 0xffffffff81000000, 0x42, 0xffffc90000000000};
  for (std::uint32_t i = 0; i < 5; ++i) REQUIRE(m.x86().wrmsr(0, 0, msr::kCrashP0 + i, params[i]) == MsrResult::ok);
  CHECK(m.x86().wrmsr(1, 0, msr::kCrashCtl, 0) == MsrResult::ok);
  CHECK(seen.count == 0);  // no notify: nothing to report
  CHECK(m.x86().wrmsr(1, 0, msr::kCrashCtl, kNotify) == MsrResult::ok);
  REQUIRE(seen.count == 1);
  CHECK(seen.report->vp == 1);
  for (std::uint32_t i = 0; i < 5; ++i) CHECK(seen.report->parameters[i] == params[i]);
  CHECK(seen.report->control.notify());
  CHECK_FALSE(seen.report->control.message());
  CHECK(seen.report->message.empty());
}

TEST_CASE("crash MSRs: with the message bit, P3 is the text's GPA and P4 its length, one page at most") {
  struct Case {
    const char* what;
    std::uint64_t gpa;
    std::uint64_t length;
    std::string expected;
  };
  const std::string text = "Kernel panic - not syncing: test\n";
  const Case cases[] = {
      {"the whole text", kMessageGpa, text.size(), text},
      {"a length shorter than the text", kMessageGpa, 12, text.substr(0, 12)},
      {"a NUL ends it", kMessageGpa, 4096, text},
      {"a GPA outside RAM gives no text", std::uint64_t{1} << 50, 16, ""},
      {"no length, no text", kMessageGpa, 0, ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Machine m(HvArch::x86_64);
    Reported seen;
    listen(m, seen);
    std::vector<char> page(8192, 0);
    std::memcpy(page.data(), text.data(), text.size());
    m.write(kMessageGpa, page.data(), page.size());
    REQUIRE(m.x86().wrmsr(0, 0, msr::kCrashP0 + 3, c.gpa) == MsrResult::ok);
    REQUIRE(m.x86().wrmsr(0, 0, msr::kCrashP0 + 4, c.length) == MsrResult::ok);
    REQUIRE(m.x86().wrmsr(0, 0, msr::kCrashCtl, kNotify | kMessage) == MsrResult::ok);
    REQUIRE(seen.count == 1);
    CHECK(seen.report->message == c.expected);
  }
}

TEST_CASE("crash MSRs: a message longer than a page is cut at the page") {
  Machine m(HvArch::x86_64);
  Reported seen;
  listen(m, seen);
  std::vector<char> text(3 * 4096, 'x');
  m.write(kMessageGpa, text.data(), text.size());
  REQUIRE(m.x86().wrmsr(0, 0, msr::kCrashP0 + 3, kMessageGpa) == MsrResult::ok);
  REQUIRE(m.x86().wrmsr(0, 0, msr::kCrashP0 + 4, text.size()) == MsrResult::ok);
  REQUIRE(m.x86().wrmsr(0, 0, msr::kCrashCtl, kNotify | kMessage) == MsrResult::ok);
  REQUIRE(seen.count == 1);
  CHECK(seen.report->message.size() == 4096);
}

TEST_CASE("crash MSRs: reserved CRASH_CTL bits #GP and report nothing") {
  Machine m(HvArch::x86_64);
  Reported seen;
  listen(m, seen);
  CHECK(m.x86().wrmsr(0, 0, msr::kCrashCtl, kNotify | 1) == MsrResult::gp);
  CHECK(m.x86().wrmsr(0, 0, msr::kCrashCtl, std::uint64_t{1} << 57) == MsrResult::gp);
  CHECK(seen.count == 0);
}

TEST_CASE("crash MSRs: with the feature off every one is #GP and CPUID hides them") {
  HvFeatures f;
  f.guest_crash_msrs = false;
  Machine m(HvArch::x86_64, f);
  Reported seen;
  listen(m, seen);
  std::uint64_t v = 0;
  CHECK(m.x86().rdmsr(0, 0, msr::kCrashCtl, v) == MsrResult::gp);
  CHECK(m.x86().rdmsr(0, 0, msr::kCrashP0, v) == MsrResult::gp);
  CHECK(m.x86().wrmsr(0, 0, msr::kCrashP0 + 4, 1) == MsrResult::gp);
  CHECK(m.x86().wrmsr(0, 0, msr::kCrashCtl, kNotify) == MsrResult::gp);
  CHECK(seen.count == 0);
  CHECK((m.x86().cpuid(cpuid::kFeaturesLeaf)->edx & cpuid::kGuestCrashMsrs) == 0);
}

}  // namespace
}  // namespace softsynic::test
