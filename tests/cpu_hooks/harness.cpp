#include "harness.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "synic/defs/message.h"

namespace softsynic::test {

bool RecordingMessagePort::on_message(const GuestMessage& m) {
  if (full) return false;
  messages.push_back({m.vtl, m.vp, m.connection_id, m.message_type,
                      std::vector<std::byte>(m.payload.begin(), m.payload.end())});
  return true;
}

namespace {
PartitionConfig two_vps_two_vtls() {
  PartitionConfig c;
  c.vp_count = 2;
  c.vtl_count = 2;
  return c;
}

template <typename T>
T must(boost::system::result<T> r) {
  if (!r) throw std::runtime_error("test setup: " + r.error().message());
  return std::move(*r);
}
}  // namespace

Machine::Machine(HvArch arch, HvFeatures features, X86Vendor vendor)
    : partition(two_vps_two_vtls(), ram, executor.executor()) {
  handles_.push_back(must(partition.add_message_port(kMessageConn, 0, message_port)));
  handles_.push_back(must(partition.add_message_port(kMessageConnVtl1, 1, message_port_vtl1)));
  handles_.push_back(must(partition.add_event_port(kEventConn, 0, event_port)));
  handles_.push_back(must(partition.add_event_port(kEventConnVtl1, 1, event_port_vtl1)));
  for (std::uint32_t vp = 0; vp < 2; ++vp) partition.vp(vp).set_interrupt_sink(0, &sink[vp]);
  HvConfig config;
  config.arch = arch;
  config.vendor = vendor;
  config.features = features;
  if (arch == HvArch::x86_64)
    x86_ = std::make_unique<X86Hypervisor>(partition, config, clock);
  else
    arm64_ = std::make_unique<Arm64Hypervisor>(partition, config, clock);
}

Machine::~Machine() {
  handles_.clear();
  run();
}

void Machine::write(std::uint64_t gpa, const void* data, std::size_t size) {
  if (!ram.write(gpa, std::span(static_cast<const std::byte*>(data), size)))
    throw std::runtime_error("test setup: write outside RAM");
}

std::vector<std::byte> Machine::read(std::uint64_t gpa, std::size_t size) {
  std::vector<std::byte> out(size);
  if (!ram.read(gpa, out)) throw std::runtime_error("test setup: read outside RAM");
  return out;
}

void write_post_message(Machine& m, std::uint64_t gpa, std::uint32_t connection, std::uint32_t type,
                        std::uint32_t payload_size, std::uint8_t fill) {
  PostMessageInput in{};
  in.connection_id = connection;
  in.message_type = type;
  in.payload_size = payload_size;
  in.payload.fill(std::byte{fill});
  m.write(gpa, &in, sizeof(in));
}

namespace {

constexpr std::uint64_t kGarbageHigh = 0xDEAD'BEEF'0000'0000;  // upper halves a 32-bit guest leaves behind

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<std::string> x86_written(const X86RegisterFile& regs) {
  std::vector<std::string> out;
  for (unsigned i = 0; i < kX86RegCount; ++i)
    if (regs.was_written(X86Reg(i))) out.emplace_back(x86_reg_name(X86Reg(i)));
  for (unsigned n = 0; n < kXmmCount; ++n)
    if (regs.xmm_was_written(n)) out.push_back("xmm" + std::to_string(n));
  return sorted(out);
}

class X86_64Abi final : public Abi {
 public:
  explicit X86_64Abi(bool xmm) : xmm_(xmm) {}
  std::string name() const override { return xmm_ ? "x86-64 xmm" : "x86-64"; }
  HvArch arch() const override { return HvArch::x86_64; }
  HvFeatures features() const override {
    HvFeatures f;
    f.xmm_fast_hypercalls = xmm_;
    return f;
  }
  std::vector<std::string> result_registers() const override { return {"rax"}; }
  std::string slot_name(unsigned i) const override {
    if (i == 0) return "rdx";
    if (i == 1) return "r8";
    return "xmm" + std::to_string((i - 2) / 2);
  }

  CallResult call(Machine& m, std::uint32_t vp, Vtl vtl, const GuestCall& c) const override {
    X86RegisterFile regs;
    regs.set(X86Reg::rcx, c.control.raw());
    regs.set(X86Reg::rdx, c.control.fast() ? slot(c, 0) : c.input_gpa);
    regs.set(X86Reg::r8, c.control.fast() ? slot(c, 1) : c.output_gpa);
    for (unsigned n = 0; n < 6; ++n) regs.set_xmm(n, Uint128{slot(c, 2 + 2 * n), slot(c, 3 + 2 * n)});
    regs.clear_written();
    CallResult r;
    r.outcome = m.x86().hypercall(vp, vtl, regs);
    r.result = HypercallResult(regs.get(X86Reg::rax));
    for (unsigned i = 0; i < 14; ++i) {
      if (i < 2) r.slots.push_back(regs.get(i == 0 ? X86Reg::rdx : X86Reg::r8));
      else r.slots.push_back(i % 2 == 0 ? regs.get_xmm((i - 2) / 2).low : regs.get_xmm((i - 2) / 2).high);
    }
    r.written = x86_written(regs);
    return r;
  }

 private:
  static std::uint64_t slot(const GuestCall& c, unsigned i) { return i < c.fast.size() ? c.fast[i] : 0; }
  bool xmm_;
};

class X86_32Abi final : public Abi {
 public:
  std::string name() const override { return "x86 32-bit"; }
  HvArch arch() const override { return HvArch::x86_64; }
  std::vector<std::string> result_registers() const override { return {"rax", "rdx"}; }
  std::string slot_name(unsigned i) const override { return i == 0 ? "rbx:rcx" : "rdi:rsi"; }

  CallResult call(Machine& m, std::uint32_t vp, Vtl vtl, const GuestCall& c) const override {
    X86RegisterFile regs;
    regs.is_long_mode = false;
    const std::uint64_t in = c.control.fast() ? slot(c, 0) : c.input_gpa;
    const std::uint64_t out = c.control.fast() ? slot(c, 1) : c.output_gpa;
    // Upper register halves hold garbage: the hooks must use the low halves.
    regs.set(X86Reg::rdx, kGarbageHigh | (c.control.raw() >> 32));
    regs.set(X86Reg::rax, kGarbageHigh | (c.control.raw() & 0xFFFF'FFFF));
    regs.set(X86Reg::rbx, kGarbageHigh | (in >> 32));
    regs.set(X86Reg::rcx, kGarbageHigh | (in & 0xFFFF'FFFF));
    regs.set(X86Reg::rdi, kGarbageHigh | (out >> 32));
    regs.set(X86Reg::rsi, kGarbageHigh | (out & 0xFFFF'FFFF));
    regs.clear_written();
    CallResult r;
    r.outcome = m.x86().hypercall(vp, vtl, regs);
    r.result = HypercallResult((regs.get(X86Reg::rdx) << 32) | (regs.get(X86Reg::rax) & 0xFFFF'FFFF));
    r.written = x86_written(regs);
    return r;
  }

 private:
  static std::uint64_t slot(const GuestCall& c, unsigned i) { return i < c.fast.size() ? c.fast[i] : 0; }
};

class Arm64Abi final : public Abi {
 public:
  explicit Arm64Abi(bool smccc) : smccc_(smccc) {}
  std::string name() const override { return smccc_ ? "arm64 smccc" : "arm64 hvc#1"; }
  HvArch arch() const override { return HvArch::aarch64; }
  std::vector<std::string> result_registers() const override { return {"x0"}; }
  std::string slot_name(unsigned i) const override { return "x" + std::to_string(first() + i); }

  CallResult call(Machine& m, std::uint32_t vp, Vtl vtl, const GuestCall& c) const override {
    Arm64RegisterFile regs;
    if (smccc_) regs.set_x(0, smccc::kHvHypercall);
    regs.set_x(first() - 1, c.control.raw());
    if (c.control.fast()) {
      for (unsigned i = 0; i < c.fast.size() && first() + i <= 17; ++i) regs.set_x(first() + i, c.fast[i]);
    } else {
      regs.set_x(first(), c.input_gpa);
      regs.set_x(first() + 1, c.output_gpa);
    }
    regs.clear_written();
    CallResult r;
    r.outcome = m.arm64().hvc(vp, vtl, smccc_ ? kHvcImmSmccc : kHvcImmHyperV, regs);
    r.result = HypercallResult(regs.get_x(0));
    for (unsigned n = first(); n <= 17; ++n) r.slots.push_back(regs.get_x(n));
    std::vector<std::string> written;
    for (unsigned n = 0; n < kArm64XCount; ++n)
      if (regs.was_written(n)) written.push_back("x" + std::to_string(n));
    r.written = sorted(written);
    return r;
  }

 private:
  unsigned first() const { return smccc_ ? 2 : 1; }
  bool smccc_;
};

}  // namespace

const std::vector<const Abi*>& all_abis() {
  static const X86_64Abi x64(false), x64_xmm(true);
  static const X86_32Abi x32;
  static const Arm64Abi native(false), smccc(true);
  static const std::vector<const Abi*> abis{&x64, &x64_xmm, &x32, &native, &smccc};
  return abis;
}

const Abi& abi_named(const std::string& name) {
  for (const Abi* a : all_abis())
    if (a->name() == name) return *a;
  throw std::invalid_argument("no ABI named " + name);
}

std::vector<std::string> written_names(const Abi& abi, std::vector<unsigned> output_slots) {
  std::vector<std::string> names = abi.result_registers();
  for (unsigned s : output_slots) names.push_back(abi.slot_name(s));
  return sorted(names);
}

}  // namespace softsynic::test
