// HvCallGetVpRegisters / HvCallSetVpRegisters: the synthetic register names
// on both architectures, slow and fast, rep calls with partial completion.
#include <doctest/doctest.h>

#include <cstring>

#include "harness.h"
#include "synic/defs/register_values.h"
#include "synic/defs/registers.h"

namespace softsynic::test {
namespace {

struct Header {
  std::uint64_t partition = kHvPartitionIdSelf;
  std::uint32_t vp = kHvVpIndexSelf;
  std::uint8_t vtl = 0;
};

struct Entry {
  std::uint32_t name;
  std::uint64_t low;
  std::uint64_t high = 0;
};

constexpr std::uint32_t raw(HvRegisterName n) { return static_cast<std::uint32_t>(n); }
constexpr std::uint32_t kBogusName = 0x00012345;

template <typename T>
void append(std::vector<std::byte>& out, const T& v) {
  const std::size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

std::vector<std::byte> header_bytes(const Header& h) {
  VpRegistersInputHeader raw_header{};
  raw_header.partition_id = h.partition;
  raw_header.vp_index = h.vp;
  raw_header.input_vtl = h.vtl;
  std::vector<std::byte> out;
  append(out, raw_header);
  return out;
}

std::vector<std::byte> set_input(const Header& h, const std::vector<Entry>& entries) {
  std::vector<std::byte> out = header_bytes(h);
  for (const Entry& e : entries) {
    HvRegisterAssoc a{};
    a.name = e.name;
    a.value = {e.low, e.high};
    append(out, a);
  }
  return out;
}

std::vector<std::byte> get_input(const Header& h, const std::vector<std::uint32_t>& names) {
  std::vector<std::byte> out = header_bytes(h);
  for (std::uint32_t n : names) append(out, n);
  return out;
}

HypercallControl rep_control(HvCallCode code, std::uint32_t count, std::uint32_t start = 0) {
  return HypercallControl{}.with_code(code).with_rep_count(count).with_rep_start(start);
}

GuestCall slow_call(Machine& m, HypercallControl c, const std::vector<std::byte>& input) {
  m.write(kInputPage, input.data(), input.size());
  return GuestCall{c, kInputPage, kOutputPage, {}};
}

GuestCall fast_call(HypercallControl c, std::vector<std::byte> input) {
  input.resize((input.size() + 7) / 8 * 8);
  GuestCall call{c.with_fast(true), 0, 0, {}};
  for (std::size_t i = 0; i < input.size(); i += 8) {
    std::uint64_t q;
    std::memcpy(&q, input.data() + i, 8);
    call.fast.push_back(q);
  }
  return call;
}

HvRegisterValue output_at(Machine& m, unsigned i) {
  return m.read_as<HvRegisterValue>(kOutputPage + sizeof(HvRegisterValue) * i);
}

const std::uint64_t kSint2 = SintReg{}.with_vector(0x12).with_masked(false).raw();  // a PPI on ARM64 too
const std::uint64_t kSint3 = SintReg{}.with_vector(0x13).with_masked(false).raw();

TEST_CASE("Set then Get a SINT through every ABI's slow rep calls") {
  for (const Abi* abi : all_abis()) {
    INFO(abi->name());
    Machine m(abi->arch(), abi->features());
    const CallResult set = abi->call(
        m, 0, 0,
        slow_call(m, rep_control(HvCallCode::set_vp_registers, 2),
                  set_input({}, {{raw(sint_register(2)), kSint2}, {raw(sint_register(3)), kSint3}})));
    CHECK(set.result.status() == HvStatus::success);
    CHECK(set.result.reps_completed() == 2);
    CHECK(set.outcome.reps_completed == 2);
    CHECK(set.written == written_names(*abi));
    CHECK(m.partition.vp(0).sint(0, 2).raw() == kSint2);
    CHECK(m.partition.vp(0).sint(0, 3).raw() == kSint3);
    CHECK(m.partition.vp(1).sint(0, 2) == SintReg{});  // only the caller's VP

    const CallResult get = abi->call(
        m, 0, 0,
        slow_call(m, rep_control(HvCallCode::get_vp_registers, 3),
                  get_input({}, {raw(sint_register(3)), raw(HvRegisterName::sversion), raw(sint_register(2))})));
    CHECK(get.result.status() == HvStatus::success);
    CHECK(get.result.reps_completed() == 3);
    CHECK(get.written == written_names(*abi));
    CHECK(output_at(m, 0).low == kSint3);
    CHECK(output_at(m, 1).low == kSversionValue);
    CHECK(output_at(m, 2).low == kSint2);
    CHECK(output_at(m, 2).high == 0);
  }
}

// Which fast forms fit each ABI's registers: x86-64 without XMM has only
// RDX and R8 (16 bytes: the header alone), 32-bit x86 likewise; XMM fast
// adds XMM0-XMM5; ARM64 has X1-X17 (HVC #1) or X2-X17 (SMCCC).
struct FastExpectation {
  const char* abi;
  bool fits;
  unsigned get_output_slot;  // first output slot of a one-name Get
};
const FastExpectation kFast[] = {
    {"x86-64", false, 0},     {"x86-64 xmm", true, 4},  {"x86 32-bit", false, 0},
    {"arm64 hvc#1", true, 4}, {"arm64 smccc", true, 4},
};

TEST_CASE("fast Set/GetVpRegisters of one register in every ABI") {
  for (const FastExpectation& e : kFast) {
    const Abi& abi = abi_named(e.abi);
    INFO(abi.name());
    Machine m(abi.arch(), abi.features());
    const CallResult set = abi.call(
        m, 1, 0, fast_call(rep_control(HvCallCode::set_vp_registers, 1), set_input({}, {{raw(sint_register(2)), kSint2}})));
    const CallResult get =
        abi.call(m, 1, 0, fast_call(rep_control(HvCallCode::get_vp_registers, 1), get_input({}, {raw(sint_register(2))})));
    if (!e.fits) {
      CHECK(set.result.status() == HvStatus::invalid_hypercall_input);
      CHECK(get.result.status() == HvStatus::invalid_hypercall_input);
      CHECK(m.partition.vp(1).sint(0, 2) == SintReg{});
      CHECK(get.written == written_names(abi));
      continue;
    }
    CHECK(set.result.status() == HvStatus::success);
    CHECK(set.result.reps_completed() == 1);
    CHECK(set.written == written_names(abi));
    CHECK(m.partition.vp(1).sint(0, 2).raw() == kSint2);
    CHECK(get.result.status() == HvStatus::success);
    CHECK(get.result.reps_completed() == 1);
    CHECK(get.slots[e.get_output_slot] == kSint2);
    CHECK(get.slots[e.get_output_slot + 1] == 0);
    CHECK(get.written == written_names(abi, {e.get_output_slot, e.get_output_slot + 1}));
  }
}

TEST_CASE("SMCCC fast GetVpRegisters answers in X6/X7 as the Linux arm64 driver reads it") {
  Machine m(HvArch::aarch64);
  REQUIRE(m.registers().write(0, 0, sint_register(2), kSint2) == RegisterAccess::ok);
  Arm64RegisterFile regs;
  regs.set_x(0, smccc::kHvHypercall);
  regs.set_x(1, rep_control(HvCallCode::get_vp_registers, 1).with_fast(true).raw());
  regs.set_x(2, kHvPartitionIdSelf);
  regs.set_x(3, kHvVpIndexSelf);
  regs.set_x(4, raw(sint_register(2)));
  regs.clear_written();
  const HypercallOutcome out = m.arm64().hvc(0, 0, kHvcImmSmccc, regs);
  CHECK(out.status == HvStatus::success);
  CHECK(regs.x[0] == HypercallResult{}.with_reps_completed(1).raw());
  CHECK(regs.x[6] == kSint2);
  CHECK(regs.x[7] == 0);
  CHECK(regs.written == ((1u << 0) | (1u << 6) | (1u << 7)));
}

TEST_CASE("XMM fast SetVpRegisters takes up to three registers; a fourth does not fit") {
  Machine m(HvArch::x86_64);
  const auto three = set_input({}, {{raw(sint_register(1)), kSint2}, {raw(sint_register(2)), kSint2}, {raw(sint_register(3)), kSint3}});
  const Abi& abi = abi_named("x86-64 xmm");
  CHECK(abi.call(m, 0, 0, fast_call(rep_control(HvCallCode::set_vp_registers, 3), three)).result.status() ==
        HvStatus::success);
  CHECK(m.partition.vp(0).sint(0, 3).raw() == kSint3);
  const auto four = set_input({}, {{raw(sint_register(4)), kSint2}, {raw(sint_register(5)), kSint2},
                                   {raw(sint_register(6)), kSint2}, {raw(sint_register(7)), kSint2}});
  CHECK(abi.call(m, 0, 0, fast_call(rep_control(HvCallCode::set_vp_registers, 4), four)).result.status() ==
        HvStatus::invalid_hypercall_input);
  CHECK(m.partition.vp(0).sint(0, 4) == SintReg{});
}

TEST_CASE("XMM fast calls are refused when the feature is off") {
  HvFeatures f;
  f.xmm_fast_hypercalls = false;
  Machine m(HvArch::x86_64, f);
  const CallResult r = abi_named("x86-64 xmm").call(
      m, 0, 0, fast_call(rep_control(HvCallCode::get_vp_registers, 1), get_input({}, {raw(sint_register(2))})));
  CHECK(r.result.status() == HvStatus::invalid_hypercall_input);
}

struct RepRow {
  const char* what;
  HypercallControl control;
  std::vector<Entry> entries;
  HvStatus expect;
  std::uint32_t reps;
  std::vector<bool> applied;  // which entries' SINTs changed
};

TEST_CASE("SetVpRegisters rep calls: partial completion reports the failing element") {
  const std::uint64_t bad_vector = SintReg{}.with_vector(5).with_masked(false).raw();
  const RepRow rows[] = {
      {"all valid", rep_control(HvCallCode::set_vp_registers, 3),
       {{raw(sint_register(4)), kSint2}, {raw(sint_register(5)), kSint2}, {raw(sint_register(6)), kSint2}},
       HvStatus::success, 3, {true, true, true}},
      {"unknown name in the middle", rep_control(HvCallCode::set_vp_registers, 3),
       {{raw(sint_register(4)), kSint2}, {kBogusName, 1}, {raw(sint_register(6)), kSint2}},
       HvStatus::unknown_register_name, 1, {true, false, false}},
      {"invalid value first (unmasked vector below 16)", rep_control(HvCallCode::set_vp_registers, 2),
       {{raw(sint_register(4)), bad_vector}, {raw(sint_register(5)), kSint2}},
       HvStatus::invalid_parameter, 0, {false, false}},
      {"read-only register (VP_INDEX)", rep_control(HvCallCode::set_vp_registers, 2),
       {{raw(sint_register(4)), kSint2}, {raw(HvRegisterName::vp_index), 3}},
       HvStatus::invalid_parameter, 1, {true, false}},
      {"upper 64 bits of the value set", rep_control(HvCallCode::set_vp_registers, 1),
       {{raw(sint_register(4)), kSint2, 1}}, HvStatus::invalid_parameter, 0, {false}},
      {"unknown name with upper bits set is still an unknown name", rep_control(HvCallCode::set_vp_registers, 1),
       {{kBogusName, 0, 1}}, HvStatus::unknown_register_name, 0, {false}},
      {"rep start skips completed elements", rep_control(HvCallCode::set_vp_registers, 3, 2),
       {{raw(sint_register(4)), bad_vector}, {kBogusName, 1}, {raw(sint_register(6)), kSint2}},
       HvStatus::success, 3, {false, false, true}},
      {"failure after a rep start counts from the list start", rep_control(HvCallCode::set_vp_registers, 3, 1),
       {{raw(sint_register(4)), kSint2}, {raw(sint_register(5)), kSint2}, {kBogusName, 1}},
       HvStatus::unknown_register_name, 2, {false, true, false}},
      {"rep start beyond rep count", rep_control(HvCallCode::set_vp_registers, 1, 2),
       {{raw(sint_register(4)), kSint2}}, HvStatus::invalid_hypercall_input, 0, {false}},
      {"rep count 0 does nothing", rep_control(HvCallCode::set_vp_registers, 0),
       {{raw(sint_register(4)), kSint2}}, HvStatus::success, 0, {false}},
      {"variable header on a rep call", rep_control(HvCallCode::set_vp_registers, 1).with_variable_header_size(2),
       {{raw(sint_register(4)), kSint2}}, HvStatus::invalid_hypercall_input, 0, {false}},
  };
  for (const Abi* abi : all_abis()) {
    for (const RepRow& row : rows) {
      INFO(abi->name() << ": " << row.what);
      Machine m(abi->arch(), abi->features());
      const CallResult r = abi->call(m, 0, 0, slow_call(m, row.control, set_input({}, row.entries)));
      CHECK(r.result.status() == row.expect);
      CHECK(r.result.reps_completed() == row.reps);
      CHECK(r.outcome.reps_completed == row.reps);
      CHECK(r.written == written_names(*abi));
      for (std::size_t i = 0; i < row.entries.size(); ++i) {
        const auto name = row.entries[i].name;
        if (name < raw(sint_register(0)) || name > raw(sint_register(15))) continue;
        const bool changed = !(m.partition.vp(0).sint(0, name - raw(sint_register(0))) == SintReg{});
        CHECK(changed == row.applied[i]);
      }
    }
  }
}

TEST_CASE("GetVpRegisters rep call stops at an unknown name and leaves later output untouched") {
  for (const Abi* abi : all_abis()) {
    INFO(abi->name());
    Machine m(abi->arch(), abi->features());
    const HvRegisterValue marker{0x1111, 0x2222};
    for (unsigned i = 0; i < 3; ++i) m.write(kOutputPage + 16 * i, &marker, sizeof(marker));
    const CallResult r = abi->call(
        m, 0, 0,
        slow_call(m, rep_control(HvCallCode::get_vp_registers, 3),
                  get_input({}, {raw(HvRegisterName::sversion), kBogusName, raw(HvRegisterName::scontrol)})));
    CHECK(r.result.status() == HvStatus::unknown_register_name);
    CHECK(r.result.reps_completed() == 1);
    CHECK(output_at(m, 0).low == kSversionValue);
    CHECK(output_at(m, 0).high == 0);
    CHECK(output_at(m, 1).low == 0x1111);
    CHECK(output_at(m, 2).high == 0x2222);
  }
}

struct HeaderRow {
  const char* what;
  Header header;
  Vtl caller_vtl;
  HvStatus expect;
};

TEST_CASE("Get/SetVpRegisters header: partition, VP index and input VTL") {
  const HeaderRow rows[] = {
      {"self, self", {}, 0, HvStatus::success},
      {"the configured partition id", {1, kHvVpIndexSelf, 0}, 0, HvStatus::success},
      {"another partition id", {5, kHvVpIndexSelf, 0}, 0, HvStatus::invalid_partition_id},
      {"the caller's own VP index", {kHvPartitionIdSelf, 1, 0}, 0, HvStatus::success},
      {"another VP of the partition", {kHvPartitionIdSelf, 0, 0}, 0, HvStatus::access_denied},
      {"a VP index out of range", {kHvPartitionIdSelf, 9, 0}, 0, HvStatus::invalid_vp_index},
      {"a higher target VTL", {kHvPartitionIdSelf, kHvVpIndexSelf, 0x11}, 0, HvStatus::access_denied},
      {"a lower target VTL from VTL 1", {kHvPartitionIdSelf, kHvVpIndexSelf, 0x10}, 1, HvStatus::success},
      {"a target VTL the partition lacks", {kHvPartitionIdSelf, kHvVpIndexSelf, 0x12}, 1, HvStatus::invalid_parameter},
      {"reserved input-VTL bits", {kHvPartitionIdSelf, kHvVpIndexSelf, 0x20}, 0, HvStatus::invalid_parameter},
  };
  for (const Abi* abi : all_abis())
    for (const HeaderRow& row : rows) {
      INFO(abi->name() << ": " << row.what);
      Machine m(abi->arch(), abi->features());
      const CallResult r = abi->call(m, 1, row.caller_vtl,
                                     slow_call(m, rep_control(HvCallCode::set_vp_registers, 1),
                                               set_input(row.header, {{raw(sint_register(2)), kSint2}})));
      CHECK(r.result.status() == row.expect);
      CHECK(r.result.reps_completed() == (row.expect == HvStatus::success ? 1u : 0u));
      const Vtl target = (row.header.vtl & 0x10) ? (row.header.vtl & 0xF) : row.caller_vtl;
      if (row.expect == HvStatus::success) CHECK(m.partition.vp(1).sint(target, 2).raw() == kSint2);
      CHECK(m.partition.vp(0).sint(0, 2) == SintReg{});
    }
}

TEST_CASE("slow rep-call blocks: alignment, page crossing and RAM") {
  struct Row {
    const char* what;
    std::uint64_t input;
    std::uint64_t output;
    std::uint32_t count;
    HvStatus expect;
  };
  const Row rows[] = {
      {"output GPA not 8-byte aligned", kInputPage, kOutputPage + 8 + 4, 1, HvStatus::invalid_alignment},
      {"output block crosses a page", kInputPage, kOutputPage + kHvPageSize - 16, 2, HvStatus::invalid_hypercall_input},
      {"output GPA outside RAM", kInputPage, kOutsideRam, 1, HvStatus::invalid_parameter},
      {"input list longer than a page", kInputPage, kOutputPage, 1021, HvStatus::invalid_hypercall_input},
  };
  for (const Abi* abi : all_abis())
    for (const Row& row : rows) {
      INFO(abi->name() << ": " << row.what);
      Machine m(abi->arch(), abi->features());
      const auto input = get_input({}, std::vector<std::uint32_t>(row.count, raw(HvRegisterName::sversion)));
      m.write(kInputPage, input.data(), std::min<std::size_t>(input.size(), kHvPageSize));
      const CallResult r = abi->call(
          m, 0, 0, GuestCall{rep_control(HvCallCode::get_vp_registers, row.count), row.input, row.output, {}});
      CHECK(r.result.status() == row.expect);
      CHECK(r.result.reps_completed() == 0);
    }
}

TEST_CASE("partition registers by name: GUEST_OS_ID, VP_INDEX, TIME_REF_COUNT") {
  for (const HvArch arch : {HvArch::x86_64, HvArch::aarch64}) {
    Machine m(arch);
    SyntheticRegisters& regs = m.registers();
    std::uint64_t v = 0;
    CHECK(regs.write(1, 0, HvRegisterName::guest_os_id, 0x8100'0000'0000'0000) == RegisterAccess::ok);
    CHECK(regs.read(0, 0, HvRegisterName::guest_os_id, v) == RegisterAccess::ok);
    CHECK(v == 0x8100'0000'0000'0000);  // partition-wide
    CHECK(regs.read(0, 1, HvRegisterName::guest_os_id, v) == RegisterAccess::ok);
    CHECK(v == 0);  // one per VTL
    CHECK(regs.read(1, 0, HvRegisterName::vp_index, v) == RegisterAccess::ok);
    CHECK(v == 1);
    CHECK(regs.write(1, 0, HvRegisterName::vp_index, 0) == RegisterAccess::invalid);
    m.clock.set(123456);
    CHECK(regs.read(0, 0, HvRegisterName::time_ref_count, v) == RegisterAccess::ok);
    CHECK(v == 123456);
    CHECK(regs.write(0, 0, HvRegisterName::time_ref_count, 0) == RegisterAccess::invalid);
    CHECK(regs.read(0, 0, HvRegisterName(kBogusName), v) == RegisterAccess::unknown);
  }
}

TEST_CASE("switched-off features hide their register names") {
  HvFeatures f;
  f.synic = false;
  f.vp_index = false;
  f.time_ref_count = false;
  Machine m(HvArch::aarch64, f);
  const CallResult r = abi_named("arm64 smccc").call(
      m, 0, 0,
      slow_call(m, rep_control(HvCallCode::get_vp_registers, 4),
                get_input({}, {raw(HvRegisterName::guest_os_id), raw(sint_register(0)), raw(HvRegisterName::vp_index),
                               raw(HvRegisterName::time_ref_count)})));
  CHECK(r.result.status() == HvStatus::unknown_register_name);
  CHECK(r.result.reps_completed() == 1);  // GUEST_OS_ID stays visible on ARM64
  CHECK_FALSE(m.registers().visible(HvRegisterName::vp_index));
  CHECK_FALSE(m.registers().visible(HvRegisterName::time_ref_count));
  CHECK_FALSE(m.registers().visible(HvRegisterName::scontrol));
  CHECK_FALSE(m.registers().visible(HvRegisterName::stimer0_config));  // stimers are off by default
}

TEST_CASE("SINT rules that depend on the configuration") {
  SUBCASE("ARM64 has no auto-EOI") {
    Machine m(HvArch::aarch64);
    CHECK(m.registers().write(0, 0, sint_register(2), SintReg(kSint2).with_auto_eoi(true).raw()) ==
          RegisterAccess::invalid);
    CHECK(m.partition.vp(0).sint(0, 2) == SintReg{});
  }
  SUBCASE("an unmasked ARM64 SINT's vector is a PPI INTID (16-31)") {
    Machine m(HvArch::aarch64);
    for (unsigned v : {16u, 20u, 31u})
      CHECK(m.registers().write(0, 0, sint_register(2), SintReg(kSint2).with_vector(static_cast<std::uint8_t>(v)).raw()) ==
            RegisterAccess::ok);
    for (unsigned v : {32u, 0x52u, 0xFFu})
      CHECK(m.registers().write(0, 0, sint_register(3), SintReg(kSint3).with_vector(static_cast<std::uint8_t>(v)).raw()) ==
            RegisterAccess::invalid);
    CHECK(m.partition.vp(0).sint(0, 3) == SintReg{});
    // Masked, the vector is only stored.
    CHECK(m.registers().write(0, 0, sint_register(3), SintReg{}.with_vector(0x52).raw()) == RegisterAccess::ok);
  }
  SUBCASE("x86-64 takes any vector from 16 up") {
    Machine m(HvArch::x86_64);
    CHECK(m.registers().write(0, 0, sint_register(2), SintReg(kSint2).with_vector(0xF3).raw()) == RegisterAccess::ok);
  }
  SUBCASE("x86-64 accepts auto-EOI") {
    Machine m(HvArch::x86_64);
    CHECK(m.registers().write(0, 0, sint_register(2), SintReg(kSint2).with_auto_eoi(true).raw()) ==
          RegisterAccess::ok);
  }
  SUBCASE("the polling bit is reserved without the sint_polling feature") {
    HvFeatures f;
    f.sint_polling = false;
    Machine m(HvArch::x86_64, f);
    CHECK(m.registers().write(0, 0, sint_register(2), SintReg(kSint2).with_polling(true).raw()) ==
          RegisterAccess::invalid);
    CHECK(m.registers().write(0, 0, sint_register(2), kSint2) == RegisterAccess::ok);
  }
}

// Stands in for the synthetic timers: owns STIMER0_CONFIG only.
struct FakeTimers {
  RegisterAccess read_register(std::uint32_t vp, Vtl, HvRegisterName name, std::uint64_t& value) {
    if (name != HvRegisterName::stimer0_config) return RegisterAccess::unknown;
    value = config[vp];
    return RegisterAccess::ok;
  }
  RegisterAccess write_register(std::uint32_t vp, Vtl, HvRegisterName name, std::uint64_t value) {
    if (name != HvRegisterName::stimer0_config) return RegisterAccess::unknown;
    if (value >> 32) return RegisterAccess::invalid;
    config[vp] = value;
    return RegisterAccess::ok;
  }
  std::uint64_t config[2] = {};
};

TEST_CASE("register owners answer the names the SynIC does not know, by MSR and by hypercall") {
  HvFeatures f;
  f.stimers = true;
  Machine m(HvArch::x86_64, f);
  FakeTimers timers;
  RegisterOwnerRef<FakeTimers> owner(timers);
  m.registers().add_owner(owner);

  CHECK(m.x86().wrmsr(1, 0, msr::kStimer0Config, 0x30003) == MsrResult::ok);
  CHECK(timers.config[1] == 0x30003);
  CHECK(m.x86().wrmsr(1, 0, msr::kStimer0Config, std::uint64_t{1} << 40) == MsrResult::gp);
  std::uint64_t v = 0;
  CHECK(m.x86().rdmsr(1, 0, msr::kStimer0Count, v) == MsrResult::not_mine);  // the owner does not know it

  const CallResult r = abi_named("x86-64").call(
      m, 1, 0,
      slow_call(m, rep_control(HvCallCode::get_vp_registers, 2),
                get_input({}, {raw(HvRegisterName::stimer0_config), raw(HvRegisterName::stimer0_count)})));
  CHECK(r.result.status() == HvStatus::unknown_register_name);
  CHECK(r.result.reps_completed() == 1);
  CHECK(output_at(m, 0).low == 0x30003);
}

TEST_CASE("a hidden name never reaches its owner") {
  Machine m(HvArch::x86_64);  // stimers off
  FakeTimers timers;
  RegisterOwnerRef<FakeTimers> owner(timers);
  m.registers().add_owner(owner);
  CHECK(m.x86().wrmsr(0, 0, msr::kStimer0Config, 1) == MsrResult::gp);
  CHECK(timers.config[0] == 0);
}

}  // namespace
}  // namespace softsynic::test
