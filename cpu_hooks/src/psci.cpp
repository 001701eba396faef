// PsciService behaviour (Arm DEN0022, PSCI 0.2: CPU_ON, AFFINITY_INFO,
// MIGRATE_INFO_TYPE, SYSTEM_OFF, SYSTEM_RESET). See cpu_hooks/psci.h.
#include "cpu_hooks/psci.h"

namespace softsynic {

using namespace psci;

namespace {
constexpr std::uint64_t kFunctionIdMask = 0xFFFF'FFFF;  // the function id is W0
constexpr std::uint64_t kFastCall = std::uint64_t{1} << 31;
constexpr std::uint64_t kSmc64 = std::uint64_t{1} << 30;
constexpr std::uint64_t kLow32 = 0xFFFF'FFFF;

// SMC32 calls pass 32-bit arguments in W1-W3.
std::uint64_t argument(const Arm64Registers& regs, unsigned n, bool smc64) {
  const std::uint64_t v = regs.get_x(n);
  return smc64 ? v : v & kLow32;
}

std::uint64_t result(std::int32_t code) { return static_cast<std::uint64_t>(static_cast<std::int64_t>(code)); }
}  // namespace

PsciService::PsciService(PsciPlatform& platform, std::vector<std::uint64_t> vp_mpidrs)
    : platform_(platform), mpidrs_(std::move(vp_mpidrs)) {}

bool PsciService::is_psci(std::uint64_t function_id) {
  const std::uint64_t id = function_id & kFunctionIdMask;
  return (id & kFastCall) != 0 && owner(id) == kOwnerStandardSecure;
}

std::optional<std::uint32_t> PsciService::vp_for(std::uint64_t mpidr) const {
  for (std::uint32_t vp = 0; vp < mpidrs_.size(); ++vp)
    if ((mpidrs_[vp] & kMpidrAffinityMask) == (mpidr & kMpidrAffinityMask)) return vp;
  return std::nullopt;
}

std::int32_t PsciService::cpu_on(std::uint64_t target, std::uint64_t entry, std::uint64_t context_id) {
  const auto vp = vp_for(target);
  if (!vp) return ret::kInvalidParameters;
  switch (platform_.vp_state(*vp)) {
    case AffinityState::on: return ret::kAlreadyOn;
    case AffinityState::on_pending: return ret::kOnPending;
    case AffinityState::off: return platform_.power_on(*vp, entry, context_id);
    default: return ret::kInternalFailure;  // a state the platform should not report
  }
}

std::int32_t PsciService::affinity_info(std::uint64_t target, std::uint64_t lowest_level) const {
  if (lowest_level != 0) return ret::kInvalidParameters;
  const auto vp = vp_for(target);
  if (!vp) return ret::kInvalidParameters;
  return static_cast<std::int32_t>(platform_.vp_state(*vp));
}

void PsciService::call(std::uint32_t /*vp*/, Arm64Registers& regs) {
  const std::uint64_t id = regs.get_x(0) & kFunctionIdMask;
  const bool smc64 = (id & kSmc64) != 0;
  std::int32_t code = ret::kNotSupported;
  switch (id) {
    case fn::kVersion: code = static_cast<std::int32_t>(kVersion02); break;
    case fn::kMigrateInfoType: code = static_cast<std::int32_t>(kMigrateNotRequired); break;
    case fn::kCpuOn32:
    case fn::kCpuOn64:
      code = cpu_on(argument(regs, 1, smc64), argument(regs, 2, smc64), argument(regs, 3, smc64));
      break;
    case fn::kAffinityInfo32:
    case fn::kAffinityInfo64: code = affinity_info(argument(regs, 1, smc64), argument(regs, 2, smc64)); break;
    case fn::kSystemOff:
      platform_.system_off();
      code = ret::kInternalFailure;  // seen only if the guest runs on
      break;
    case fn::kSystemReset:
      platform_.system_reset();
      code = ret::kInternalFailure;
      break;
    default: break;  // NOT_SUPPORTED
  }
  regs.set_x(0, result(code));
}

}  // namespace softsynic
