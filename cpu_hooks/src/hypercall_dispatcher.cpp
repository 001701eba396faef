// Architecture-neutral hypercall handling (TLFS "Hypercall Interface").
//
// Status choices where the TLFS leaves room (docs/EMULATOR_GUIDE.md):
//  - reserved control bits, nested bit, a rep count/start or a variable
//    header on a simple call, rep start > rep count, fast input or output
//    that does not fit the ABI's registers: INVALID_HYPERCALL_INPUT;
//  - slow-call GPA not 8-byte aligned: INVALID_ALIGNMENT; block crossing a
//    page: INVALID_HYPERCALL_INPUT; block not in guest RAM:
//    INVALID_PARAMETER;
//  - call switched off by a feature (post_messages, signal_events):
//    ACCESS_DENIED, as for a missing partition privilege;
//  - Get/SetVpRegisters: partition id other than self or the configured
//    id: INVALID_PARTITION_ID; another VP's registers: ACCESS_DENIED (the
//    guest has no AccessVpRegisters privilege, and another VP's SynIC lives
//    on another strand); VP index out of range: INVALID_VP_INDEX; input VTL
//    reserved bits or a VTL the partition lacks: INVALID_PARAMETER; a
//    higher VTL than the caller's: ACCESS_DENIED; unknown or hidden name:
//    UNKNOWN_REGISTER_NAME; invalid value (read-only register, reserved
//    bits, bad vector, non-zero upper 64 bits): INVALID_PARAMETER.
//    Failing element i reports i reps completed.
//  - Reserved fields inside the input blocks are ignored.
#include "cpu_hooks/src/hypercall_dispatcher.h"

#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "synic/defs/message.h"
#include "synic/partition.h"

namespace softsynic::detail {

namespace {

static_assert(std::endian::native == std::endian::little, "guest layouts are read in host byte order");

struct CallShape {
  bool rep;
  std::size_t header;       // fixed input bytes
  std::size_t in_element;   // input bytes per rep element
  std::size_t out_element;  // output bytes per rep element
};

std::optional<CallShape> shape_of(HvCallCode code) {
  switch (code) {
    case HvCallCode::get_vp_registers:
      return CallShape{true, sizeof(VpRegistersInputHeader), sizeof(std::uint32_t), sizeof(HvRegisterValue)};
    case HvCallCode::set_vp_registers:
      return CallShape{true, sizeof(VpRegistersInputHeader), sizeof(HvRegisterAssoc), 0};
    case HvCallCode::post_message:
      return CallShape{false, sizeof(PostMessageInput), 0, 0};
    case HvCallCode::signal_event:
      return CallShape{false, sizeof(SignalEventInput), 0, 0};
    default:
      return std::nullopt;
  }
}

// Hypercall blocks never exceed a page; larger requests (a rep count the
// guest cannot back) fail their checks and use the heap.
class Buffer {
 public:
  explicit Buffer(std::size_t size) : size_(size) {
    if (size > kInline) heap_.resize(size);
  }
  std::span<std::byte> span() { return {size_ > kInline ? heap_.data() : inline_.data(), size_}; }

 private:
  static constexpr std::size_t kInline = kHvPageSize;
  std::size_t size_;
  std::array<std::byte, kInline> inline_;  // filled by the CallIo before use
  std::vector<std::byte> heap_;
};

template <typename T>
T load_as(std::span<const std::byte> bytes, std::size_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

struct Outcome {
  HvStatus status = HvStatus::success;
  std::uint32_t reps = 0;
};

// Where a call's blocks live: guest memory (slow) or registers (fast).
class CallIo {
 public:
  virtual ~CallIo() = default;
  // Fills `input` and checks the output area; success or the status.
  virtual HvStatus load(std::span<std::byte> input, std::size_t output_size) = 0;
  // Stores output bytes [offset, offset + bytes.size()).
  virtual void store(std::size_t offset, std::span<const std::byte> bytes) = 0;
};

HvStatus check_block(std::uint64_t gpa, std::size_t size) {
  if (size == 0) return HvStatus::success;
  if (gpa % kHypercallInputAlignment != 0) return HvStatus::invalid_alignment;
  if ((gpa % kHvPageSize) + size > kHvPageSize) return HvStatus::invalid_hypercall_input;
  if (gpa > ~std::uint64_t{0} - size) return HvStatus::invalid_parameter;  // the top page wraps
  return HvStatus::success;
}

class SlowIo final : public CallIo {
 public:
  SlowIo(GuestMemory& memory, std::uint64_t input_gpa, std::uint64_t output_gpa)
      : memory_(memory), input_gpa_(input_gpa), output_gpa_(output_gpa) {}

  HvStatus load(std::span<std::byte> input, std::size_t output_size) override {
    if (HvStatus s = check_block(input_gpa_, input.size()); s != HvStatus::success) return s;
    if (HvStatus s = check_block(output_gpa_, output_size); s != HvStatus::success) return s;
    if (!input.empty() && !memory_.read(input_gpa_, input)) return HvStatus::invalid_parameter;
    // Probe the output block now, so a call never runs when its answer
    // cannot be stored.
    if (output_size != 0) {
      Buffer probe(output_size);
      if (!memory_.read(output_gpa_, probe.span())) return HvStatus::invalid_parameter;
    }
    return HvStatus::success;
  }

  void store(std::size_t offset, std::span<const std::byte> bytes) override {
    if (!bytes.empty()) memory_.write(output_gpa_ + offset, bytes);
  }

 private:
  GuestMemory& memory_;
  std::uint64_t input_gpa_;
  std::uint64_t output_gpa_;
};

// Input occupies the first slots; output starts at the next 16-byte
// boundary (the next XMM register on x86-64, X6 for the SMCCC
// GetVpRegisters of one name).
class FastIo final : public CallIo {
 public:
  explicit FastIo(const HypercallArgs& args) : block_(*args.fast), args_(args) {}

  HvStatus load(std::span<std::byte> input, std::size_t output_size) override {
    const std::size_t in_slots = (input.size() + 7) / 8;
    output_slot_ = (input.size() + 15) / 16 * 2;
    const std::size_t out_slots = (output_size + 7) / 8;
    if (in_slots > block_.size()) return HvStatus::invalid_hypercall_input;
    if (out_slots != 0 && output_slot_ + out_slots > block_.size()) return HvStatus::invalid_hypercall_input;
    for (std::size_t i = 0; i < in_slots; ++i) {
      const std::uint64_t slot = args_.gpas_are_fast_slots && i < 2 ? (i == 0 ? args_.input_gpa : args_.output_gpa)
                                                                    : block_.get(static_cast<unsigned>(i));
      std::memcpy(input.data() + i * 8, &slot, std::min<std::size_t>(8, input.size() - i * 8));
    }
    return HvStatus::success;
  }

  // Output elements are whole slots (16-byte register values).
  void store(std::size_t offset, std::span<const std::byte> bytes) override {
    for (std::size_t i = 0; i + 8 <= bytes.size(); i += 8)
      block_.set(static_cast<unsigned>(output_slot_ + (offset + i) / 8), load_as<std::uint64_t>(bytes, i));
  }

 private:
  FastRegisterBlock& block_;
  const HypercallArgs& args_;
  std::size_t output_slot_ = 0;
};

struct RegisterTarget {
  HvStatus status = HvStatus::success;
  std::uint32_t vp = 0;
  Vtl vtl = 0;
};

class VpRegistersCall {
 public:
  VpRegistersCall(SyntheticRegisters& registers, std::uint32_t vp, Vtl vtl, HypercallControl control)
      : registers_(registers), vp_(vp), vtl_(vtl), control_(control) {}

  Outcome get(std::span<const std::byte> input, std::span<std::byte> output) {
    return run(input, [&](RegisterTarget t, std::uint32_t i) {
      const auto name = HvRegisterName(load_as<std::uint32_t>(input, sizeof(VpRegistersInputHeader) + 4 * i));
      std::uint64_t value = 0;
      if (!registers_.visible(name)) return HvStatus::unknown_register_name;
      HvRegisterValue out{};
      if (auto id = registers_.identification(name)) {
        out = *id;
      } else {
        if (HvStatus s = status_of(registers_.read(t.vp, t.vtl, name, value)); s != HvStatus::success) return s;
        out = HvRegisterValue{value, 0};
      }
      std::memcpy(output.data() + sizeof(HvRegisterValue) * i, &out, sizeof(out));
      return HvStatus::success;
    });
  }

  Outcome set(std::span<const std::byte> input) {
    return run(input, [&](RegisterTarget t, std::uint32_t i) {
      const auto assoc = load_as<HvRegisterAssoc>(input, sizeof(VpRegistersInputHeader) + sizeof(HvRegisterAssoc) * i);
      const auto name = HvRegisterName(assoc.name);
      if (!registers_.visible(name)) return HvStatus::unknown_register_name;
      if (assoc.value.high != 0) {
        // Every synthetic register is 64 bits wide: the upper half is
        // reserved. Tell an unknown name from a bad value first.
        std::uint64_t probe = 0;
        const RegisterAccess exists = registers_.read(t.vp, t.vtl, name, probe);
        return exists == RegisterAccess::unknown ? HvStatus::unknown_register_name : HvStatus::invalid_parameter;
      }
      return status_of(registers_.write(t.vp, t.vtl, name, assoc.value.low));
    });
  }

 private:
  static HvStatus status_of(RegisterAccess access) {
    switch (access) {
      case RegisterAccess::ok:
        return HvStatus::success;
      case RegisterAccess::unknown:
        return HvStatus::unknown_register_name;
      case RegisterAccess::invalid:
      default:
        return HvStatus::invalid_parameter;
    }
  }

  RegisterTarget target(const VpRegistersInputHeader& h) const {
    Partition& partition = registers_.partition();
    if (h.partition_id != kHvPartitionIdSelf && h.partition_id != registers_.config().partition_id)
      return {HvStatus::invalid_partition_id};
    if (h.vp_index != kHvVpIndexSelf && h.vp_index != vp_)
      return {h.vp_index < partition.vp_count() ? HvStatus::access_denied : HvStatus::invalid_vp_index};
    const HvInputVtl input_vtl(h.input_vtl);
    if (input_vtl.reserved_bits_set()) return {HvStatus::invalid_parameter};
    const Vtl vtl = input_vtl.use_target_vtl() ? input_vtl.target_vtl() : vtl_;
    if (vtl >= partition.vtl_count()) return {HvStatus::invalid_parameter};
    if (vtl > vtl_) return {HvStatus::access_denied};
    return {HvStatus::success, vp_, vtl};
  }

  template <typename Element>
  Outcome run(std::span<const std::byte> input, Element element) {
    const RegisterTarget t = target(load_as<VpRegistersInputHeader>(input, 0));
    if (t.status != HvStatus::success) return {t.status, control_.rep_start()};
    for (std::uint32_t i = control_.rep_start(); i < control_.rep_count(); ++i)
      if (HvStatus s = element(t, i); s != HvStatus::success) return {s, i};
    return {HvStatus::success, control_.rep_count()};
  }

  SyntheticRegisters& registers_;
  std::uint32_t vp_;
  Vtl vtl_;
  HypercallControl control_;
};

HypercallResult result(HvStatus status, std::uint32_t reps = 0) {
  return HypercallResult{}.with_status(status).with_reps_completed(reps);
}

}  // namespace

HypercallResult HypercallDispatcher::dispatch(std::uint32_t vp, Vtl vtl, const HypercallArgs& args) {
  Partition& partition = registers_.partition();
  // Host misuse (the emulator passed a VP or VTL the partition lacks).
  if (vp >= partition.vp_count() || vtl >= partition.vtl_count()) return result(HvStatus::invalid_vp_index);
  const HypercallControl c = args.control;
  if (c.reserved_bits_set() || c.nested()) return result(HvStatus::invalid_hypercall_input);
  const std::optional<CallShape> shape = shape_of(c.code());
  if (!shape) return result(HvStatus::invalid_hypercall_code);
  if (c.variable_header_size() != 0) return result(HvStatus::invalid_hypercall_input);
  if (!shape->rep && (c.rep_count() != 0 || c.rep_start() != 0)) return result(HvStatus::invalid_hypercall_input);
  if (shape->rep && c.rep_start() > c.rep_count()) return result(HvStatus::invalid_hypercall_input);
  if (c.fast() && args.fast == nullptr) return result(HvStatus::invalid_hypercall_input);

  const HvFeatures& features = registers_.config().features;
  if ((c.code() == HvCallCode::post_message && !features.post_messages) ||
      (c.code() == HvCallCode::signal_event && !features.signal_events))
    return result(HvStatus::access_denied);

  // Fast HvSignalEvent: the whole input is fast slot 0.
  if (c.fast() && c.code() == HvCallCode::signal_event && args.fast->size() >= 1) {
    const std::uint64_t slot0 = args.gpas_are_fast_slots ? args.input_gpa : args.fast->get(0);
    const auto connection_id = static_cast<std::uint32_t>(slot0);
    const auto flag = static_cast<std::uint16_t>(slot0 >> 32);
    return result(partition.guest_signal_event(vp, vtl, connection_id, flag));
  }

  const std::size_t count = shape->rep ? c.rep_count() : 0;
  Buffer input_buffer(shape->header + shape->in_element * count);
  Buffer output_buffer(shape->out_element * count);
  const std::span<std::byte> input = input_buffer.span();
  const std::span<std::byte> output = output_buffer.span();
  SlowIo slow(partition.memory(), args.input_gpa, args.output_gpa);
  std::optional<FastIo> fast;
  CallIo* io = &slow;
  if (c.fast()) io = &fast.emplace(args);
  if (HvStatus s = io->load(input, output.size()); s != HvStatus::success) return result(s, c.rep_start());

  Outcome outcome;
  switch (c.code()) {
    case HvCallCode::post_message: {
      // Read in place: the payload is passed as a view of the input block.
      const auto payload_size = load_as<std::uint32_t>(input, offsetof(PostMessageInput, payload_size));
      if (payload_size > kMessagePayloadMax) {
        outcome.status = HvStatus::invalid_parameter;
        break;
      }
      outcome.status = partition.guest_post_message(
          vp, vtl, load_as<std::uint32_t>(input, offsetof(PostMessageInput, connection_id)),
          load_as<std::uint32_t>(input, offsetof(PostMessageInput, message_type)),
          std::span<const std::byte>(input.data() + offsetof(PostMessageInput, payload), payload_size));
      break;
    }
    case HvCallCode::signal_event: {
      const auto in = load_as<SignalEventInput>(input, 0);
      outcome.status = partition.guest_signal_event(vp, vtl, in.connection_id, in.flag_number);
      break;
    }
    case HvCallCode::get_vp_registers:
      outcome = VpRegistersCall(registers_, vp, vtl, c).get(input, output);
      break;
    case HvCallCode::set_vp_registers:
      outcome = VpRegistersCall(registers_, vp, vtl, c).set(input);
      break;
    default:
      return result(HvStatus::invalid_hypercall_code);
  }

  // Only the elements that completed in this call are stored.
  if (shape->out_element != 0 && outcome.reps > c.rep_start()) {
    const std::size_t first = shape->out_element * c.rep_start();
    const std::size_t end = shape->out_element * outcome.reps;
    io->store(first, std::span<const std::byte>(output.subspan(first, end - first)));
  }
  return result(outcome.status, outcome.reps);
}

}  // namespace softsynic::detail
