#include "emu/gdb/target_description.h"

#include <optional>

namespace softsynic::gdb {
namespace {

struct FeatureSpec {
  std::string_view name;
  std::string_view types;  // type definitions placed in the feature
  std::vector<RegisterInfo> registers;
};

TargetDescription build(std::string_view architecture, std::vector<FeatureSpec> features, std::string_view pc) {
  TargetDescription d;
  d.xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n";
  d.xml += "<architecture>" + std::string(architecture) + "</architecture>\n";
  for (auto& f : features) {
    d.xml += "<feature name=\"" + std::string(f.name) + "\">\n";
    d.xml += f.types;
    for (auto& r : f.registers) {
      r.feature = f.name;
      d.xml += "<reg name=\"" + r.name + "\" bitsize=\"" + std::to_string(r.bits) + "\" type=\"" + r.type +
               "\" regnum=\"" + std::to_string(d.registers.size()) + "\"/>\n";
      d.registers.push_back(r);
    }
    d.xml += "</feature>\n";
  }
  d.xml += "</target>\n";
  d.pc_regno = d.regno(pc).value_or(0);
  return d;
}

std::vector<RegisterInfo> regs(std::initializer_list<std::string_view> names, unsigned bits, std::string_view type) {
  std::vector<RegisterInfo> out;
  for (auto n : names) out.push_back({std::string(n), bits, std::string(type), {}});
  return out;
}

template <class... Lists>
std::vector<RegisterInfo> join(Lists... lists) {
  std::vector<RegisterInfo> out;
  (out.insert(out.end(), lists.begin(), lists.end()), ...);
  return out;
}

// RFLAGS bits by name, so `info registers eflags` shows [ IF ZF ... ].
constexpr std::string_view kX86FlagsType =
    "<flags id=\"softsynic_rflags\" size=\"4\">\n"
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"PF\" start=\"2\" end=\"2\"/>\n"
    "<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>\n"
    "<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>\n"
    "<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>\n"
    "<field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>\n"
    "<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/>\n"
    "<field name=\"AC\" start=\"18\" end=\"18\"/><field name=\"VIF\" start=\"19\" end=\"19\"/>\n"
    "<field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/>\n"
    "</flags>\n";

TargetDescription x86_64() {
  return build(
      "i386:x86-64",
      {
          {"org.gnu.gdb.i386.core", kX86FlagsType,
           join(regs({"rax", "rbx", "rcx", "rdx", "rsi", "rdi"}, 64, "int64"), regs({"rbp", "rsp"}, 64, "data_ptr"),
                regs({"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}, 64, "int64"),
                regs({"rip"}, 64, "code_ptr"), regs({"eflags"}, 32, "softsynic_rflags"),
                regs({"cs", "ss", "ds", "es", "fs", "gs"}, 32, "int32"),
                // gdb's amd64 support requires the x87 registers in this
                // feature; engines may report them unavailable.
                regs({"st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7"}, 80, "i387_ext"),
                regs({"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"}, 32, "int"))},
          {"org.gnu.gdb.i386.segments", "", regs({"fs_base", "gs_base"}, 64, "int64")},
          {"org.softsynic.x86.sys", "", regs({"cr0", "cr2", "cr3", "cr4", "cr8", "efer"}, 64, "int64")},
      },
      "rip");
}

TargetDescription aarch64() {
  std::vector<RegisterInfo> x;
  for (int i = 0; i <= 30; ++i) x.push_back({"x" + std::to_string(i), 64, "int", {}});
  return build("aarch64",
               {{"org.gnu.gdb.aarch64.core", "",
                 join(x, regs({"sp"}, 64, "data_ptr"), regs({"pc"}, 64, "code_ptr"), regs({"cpsr"}, 32, "int"))}},
               "pc");
}

}  // namespace

std::optional<unsigned> TargetDescription::regno(std::string_view name) const {
  for (unsigned i = 0; i < registers.size(); ++i) {
    if (registers[i].name == name) return i;
  }
  return std::nullopt;
}

const TargetDescription& target_description(TargetArch arch) {
  static const TargetDescription x86 = x86_64();
  static const TargetDescription arm = aarch64();
  return arch == TargetArch::x86_64 ? x86 : arm;
}

}  // namespace softsynic::gdb
