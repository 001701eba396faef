// Lengths of 64-bit-mode instructions; see x86_insn_length.h.
#include "emu/x86/x86_insn_length.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace softsynic::emu::x86 {
namespace {

// What follows an opcode byte. The maps below spell one character per
// opcode, 16 rows of 16 laid out like the SDM's appendix A tables.
enum class Operands : std::uint8_t {
  refused,         // '-' invalid in 64-bit mode, undefined, VEX/EVEX, or unsure
  prefix,          // 'p' a prefix in opcode position, i.e. after a REX
  none,            // '.'
  modrm,           // 'm'
  modrm_imm8,      // 'M'
  modrm_immz,      // 'Z'
  register_modrm,  // 'r' ModRM whose mod is ignored (MOV CR/DR): no address bytes
  needs_prefix,    // 'P' ModRM; undefined without a 66, F2 or F3 prefix
  imm8,            // 'b'
  imm16,           // 'w'
  immz,            // 'z' 2 bytes with 66 and no REX.W, else 4
  rel32,           // 'J' near branch; refused under 66 (Intel and AMD differ)
  special,         // '*' decided by the opcode's own case
};

using MapRows = std::array<std::string_view, 16>;
using OpcodeMap = std::array<Operands, 256>;

constexpr std::optional<Operands> operands_from(char c) {
  switch (c) {
    case '-': return Operands::refused;
    case 'p': return Operands::prefix;
    case '.': return Operands::none;
    case 'm': return Operands::modrm;
    case 'M': return Operands::modrm_imm8;
    case 'Z': return Operands::modrm_immz;
    case 'r': return Operands::register_modrm;
    case 'P': return Operands::needs_prefix;
    case 'b': return Operands::imm8;
    case 'w': return Operands::imm16;
    case 'z': return Operands::immz;
    case 'J': return Operands::rel32;
    case '*': return Operands::special;
    default: return std::nullopt;
  }
}

constexpr bool well_formed(const MapRows& rows) {
  for (std::string_view row : rows) {
    if (row.size() != 16) return false;
    for (char c : row) {
      if (!operands_from(c)) return false;
    }
  }
  return true;
}

constexpr OpcodeMap build_map(const MapRows& rows) {
  OpcodeMap map{};
  for (std::size_t i = 0; i < map.size(); ++i) {
    map[i] = operands_from(rows[i >> 4][i & 15]).value_or(Operands::refused);
  }
  return map;
}

// SDM table A-2. Specials: 0F, 8F (POP Ev, else XOP), A0-A3 (moffs),
// B8-BF (imm64 with REX.W), C6/C7 (MOV and XABORT/XBEGIN), C8 (ENTER),
// F6/F7 (TEST's immediate), FE/FF (groups 4 and 5).
constexpr MapRows kOneByteRows = {
    "mmmmbz--mmmmbz-*",  // 0x
    "mmmmbz--mmmmbz--",  // 1x
    "mmmmbzp-mmmmbzp-",  // 2x
    "mmmmbzp-mmmmbzp-",  // 3x
    "pppppppppppppppp",  // 4x REX
    "................",  // 5x
    "---mppppzZbM....",  // 6x 62 is EVEX
    "bbbbbbbbbbbbbbbb",  // 7x
    "MZ-Mmmmmmmmmmmm*",  // 8x
    "..........-.....",  // 9x
    "****....bz......",  // Ax
    "bbbbbbbb********",  // Bx
    "MMw.--***.w..b-.",  // Cx C4/C5 are VEX
    "mmmm---.mmmmmmmm",  // Dx
    "bbbbbbbbJJ-b....",  // Ex
    "p.pp..**......**",  // Fx
};

// SDM table A-3, legacy encodings only. Specials: 38 and 3A (three-byte
// maps), 71-73 (shift groups 12-14), 78/79 (VMREAD/VMWRITE, or SSE4a with
// a prefix), B8 (POPCNT with F3), BA (group 8).
constexpr MapRows kTwoByteRows = {
    "mmmm-.....-.-m.M",  // 0x 0F 0F is 3DNow!: its opcode byte comes last, as an imm8
    "mmmmmmmmmmmmmmmm",  // 1x
    "rrrr----mmmmmmmm",  // 2x
    "......-.*-*-----",  // 3x
    "mmmmmmmmmmmmmmmm",  // 4x
    "mmmmmmmmmmmmmmmm",  // 5x
    "mmmmmmmmmmmmPPmm",  // 6x
    "M***mmm.**--PPmm",  // 7x
    "JJJJJJJJJJJJJJJJ",  // 8x
    "mmmmmmmmmmmmmmmm",  // 9x
    "...mMm--...mMmmm",  // Ax
    "mmmmmmmm*-*mmmmm",  // Bx B9 is UD1
    "mmMmMMMm........",  // Cx
    "PmmmmmPmmmmmmmmm",  // Dx
    "mmmmmmPmmmmmmmmm",  // Ex
    "Pmmmmmmmmmmmmmm-",  // Fx FF is UD0
};

// SDM table A-4, the opcodes defined without VEX.
constexpr MapRows kThreeByte38Rows = {
    "mmmmmmmmmmmm----",  // 0x
    "m---mm-m----mmm-",  // 1x
    "mmmmmm--mmmm----",  // 2x
    "mmmmmm-mmmmmmmmm",  // 3x
    "mm--------------",  // 4x
    "----------------",  // 5x
    "----------------",  // 6x
    "----------------",  // 7x
    "mmm-------------",  // 8x
    "----------------",  // 9x
    "----------------",  // Ax
    "----------------",  // Bx
    "--------mmmmmm-m",  // Cx
    "--------m--mmmmm",  // Dx
    "----------------",  // Ex
    "mm---mm-mmmmm---",  // Fx
};

// SDM table A-5, the opcodes defined without VEX.
constexpr MapRows kThreeByte3ARows = {
    "--------MMMMMMMM",  // 0x
    "----MMMM--------",  // 1x
    "MMM-------------",  // 2x
    "----------------",  // 3x
    "MMM-M-----------",  // 4x
    "----------------",  // 5x
    "MMMM------------",  // 6x
    "----------------",  // 7x
    "----------------",  // 8x
    "----------------",  // 9x
    "----------------",  // Ax
    "----------------",  // Bx
    "------------M-MM",  // Cx
    "---------------M",  // Dx
    "----------------",  // Ex
    "----------------",  // Fx
};

static_assert(well_formed(kOneByteRows) && well_formed(kTwoByteRows) && well_formed(kThreeByte38Rows) &&
              well_formed(kThreeByte3ARows));

constexpr OpcodeMap kOneByteMap = build_map(kOneByteRows);
constexpr OpcodeMap kTwoByteMap = build_map(kTwoByteRows);
constexpr OpcodeMap kThreeByte38Map = build_map(kThreeByte38Rows);
constexpr OpcodeMap kThreeByte3AMap = build_map(kThreeByte3ARows);

constexpr std::uint8_t kOperandSizePrefix = 0x66;
constexpr std::uint8_t kAddressSizePrefix = 0x67;
constexpr std::uint8_t kRepnePrefix = 0xF2;
constexpr std::uint8_t kRepPrefix = 0xF3;
constexpr std::uint8_t kEscape = 0x0F;
constexpr std::uint8_t kEscape38 = 0x38;
constexpr std::uint8_t kEscape3A = 0x3A;
constexpr std::uint8_t kRexW = 0x08;
constexpr std::uint8_t kXabortXbeginModrm = 0xF8;  // C6 F8 ib, C7 F8 cw/cd

constexpr bool is_legacy_prefix(std::uint8_t b) {
  switch (b) {
    case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xF0: case 0xF2: case 0xF3:
      return true;
    default:
      return false;
  }
}

constexpr bool is_rex(std::uint8_t b) { return (b & 0xF0) == 0x40; }

struct Prefixes {
  bool operand_size = false;  // 66
  bool address_size = false;  // 67
  bool rep = false;           // F3
  bool repne = false;         // F2
  bool rex_w = false;
};

// The instruction's bytes as far as they may go: the given ones, at most 15.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> code)
      : code_(code.first(std::min(code.size(), kMaxInstructionLength))) {}

  std::optional<std::uint8_t> next() {
    if (pos_ >= code_.size()) return std::nullopt;
    return code_[pos_++];
  }
  bool skip(std::size_t n) {
    if (code_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  std::size_t position() const { return pos_; }

 private:
  std::span<const std::uint8_t> code_;
  std::size_t pos_ = 0;
};

constexpr unsigned mod_of(std::uint8_t modrm) { return modrm >> 6; }
constexpr unsigned reg_of(std::uint8_t modrm) { return (modrm >> 3) & 7; }
constexpr unsigned rm_of(std::uint8_t modrm) { return modrm & 7; }

constexpr std::size_t immz_size(const Prefixes& p) { return p.operand_size && !p.rex_w ? 2 : 4; }

// Reads a ModRM byte and its SIB and displacement (SDM 2.1.5, tables 2-2
// and 2-3; 64-bit mode's 67 keeps these 32-bit forms, never the 16-bit
// ones). REX.B does not matter: R12 takes a SIB and R13 with mod 00 is
// RIP-relative like their low counterparts.
std::optional<std::uint8_t> read_modrm(Reader& r) {
  const std::optional<std::uint8_t> modrm = r.next();
  if (!modrm) return std::nullopt;
  const unsigned mod = mod_of(*modrm);
  if (mod == 3) return modrm;
  std::size_t displacement = mod == 1 ? 1 : mod == 2 ? 4 : 0;
  if (rm_of(*modrm) == 4) {
    const std::optional<std::uint8_t> sib = r.next();
    if (!sib) return std::nullopt;
    if (mod == 0 && rm_of(*sib) == 5) displacement = 4;  // no base: disp32
  } else if (mod == 0 && rm_of(*modrm) == 5) {
    displacement = 4;  // RIP-relative
  }
  if (!r.skip(displacement)) return std::nullopt;
  return modrm;
}

std::optional<std::size_t> end_after(Reader& r, std::size_t immediate) {
  if (!r.skip(immediate)) return std::nullopt;
  return r.position();
}

std::optional<std::size_t> modrm_then(Reader& r, std::size_t immediate) {
  if (!read_modrm(r)) return std::nullopt;
  return end_after(r, immediate);
}

// The forms every map shares; `special` is the caller's.
std::optional<std::size_t> common_form(Reader& r, const Prefixes& p, Operands form) {
  switch (form) {
    case Operands::none: return r.position();
    case Operands::modrm: return modrm_then(r, 0);
    case Operands::modrm_imm8: return modrm_then(r, 1);
    case Operands::modrm_immz: return modrm_then(r, immz_size(p));
    case Operands::register_modrm: return end_after(r, 1);
    case Operands::needs_prefix:
      if (!p.operand_size && !p.rep && !p.repne) return std::nullopt;
      return modrm_then(r, 0);
    case Operands::imm8: return end_after(r, 1);
    case Operands::imm16: return end_after(r, 2);
    case Operands::immz: return end_after(r, immz_size(p));
    case Operands::rel32:
      if (p.operand_size) return std::nullopt;
      return end_after(r, 4);
    case Operands::refused:
    case Operands::prefix:
    case Operands::special:
    default:
      return std::nullopt;
  }
}

std::optional<std::size_t> one_byte_special(Reader& r, const Prefixes& p, std::uint8_t opcode) {
  switch (opcode) {
    case 0x8F: {  // POP Ev is /0; any other reg field is XOP's escape
      const std::optional<std::uint8_t> modrm = read_modrm(r);
      if (!modrm || reg_of(*modrm) != 0) return std::nullopt;
      return r.position();
    }
    case 0xA0: case 0xA1: case 0xA2: case 0xA3:  // moffs: an address-size offset
      return end_after(r, p.address_size ? 4 : 8);
    case 0xB8: case 0xB9: case 0xBA: case 0xBB: case 0xBC: case 0xBD: case 0xBE: case 0xBF:
      return end_after(r, p.rex_w ? 8 : immz_size(p));
    case 0xC6: {  // MOV Eb, Ib is /0; XABORT Ib is C6 F8
      const std::optional<std::uint8_t> modrm = read_modrm(r);
      if (!modrm || (reg_of(*modrm) != 0 && *modrm != kXabortXbeginModrm)) return std::nullopt;
      return end_after(r, 1);
    }
    case 0xC7: {  // MOV Ev, Iz is /0; XBEGIN is C7 F8, a branch (refused under 66)
      const std::optional<std::uint8_t> modrm = read_modrm(r);
      if (!modrm) return std::nullopt;
      if (*modrm == kXabortXbeginModrm && p.operand_size) return std::nullopt;
      if (reg_of(*modrm) != 0 && *modrm != kXabortXbeginModrm) return std::nullopt;
      return end_after(r, immz_size(p));
    }
    case 0xC8:  // ENTER Iw, Ib
      return end_after(r, 3);
    case 0xF6:
    case 0xF7: {  // group 3: TEST (/0, and its alias /1) alone takes an immediate
      const std::optional<std::uint8_t> modrm = read_modrm(r);
      if (!modrm) return std::nullopt;
      if (reg_of(*modrm) >= 2) return r.position();
      return end_after(r, opcode == 0xF6 ? 1 : immz_size(p));
    }
    case 0xFE: {  // group 4: INC and DEC only
      const std::optional<std::uint8_t> modrm = read_modrm(r);
      if (!modrm || reg_of(*modrm) >= 2) return std::nullopt;
      return r.position();
    }
    case 0xFF: {  // group 5: /7 is reserved
      const std::optional<std::uint8_t> modrm = read_modrm(r);
      if (!modrm || reg_of(*modrm) == 7) return std::nullopt;
      return r.position();
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::size_t> three_byte(Reader& r, const Prefixes& p, const OpcodeMap& map) {
  const std::optional<std::uint8_t> opcode = r.next();
  if (!opcode) return std::nullopt;
  return common_form(r, p, map[*opcode]);
}

// Groups 12-14 (0F 71-73): register operands only, and only these members.
std::optional<std::size_t> shift_group(Reader& r, const Prefixes& p, std::uint8_t opcode) {
  const std::optional<std::uint8_t> modrm = r.next();
  if (!modrm || mod_of(*modrm) != 3) return std::nullopt;
  unsigned members = 1u << 2 | 1u << 6;                  // /2 and /6 in all three
  if (opcode != 0x73) members |= 1u << 4;                // PSRAW, PSRAD
  if (opcode == 0x73 && p.operand_size) members |= 1u << 3 | 1u << 7;  // PSRLDQ, PSLLDQ
  if ((members & (1u << reg_of(*modrm))) == 0) return std::nullopt;
  return end_after(r, 1);
}

std::optional<std::size_t> two_byte_special(Reader& r, const Prefixes& p, std::uint8_t opcode) {
  switch (opcode) {
    case kEscape38: return three_byte(r, p, kThreeByte38Map);
    case kEscape3A: return three_byte(r, p, kThreeByte3AMap);
    case 0x71: case 0x72: case 0x73: return shift_group(r, p, opcode);
    case 0x78: case 0x79:  // VMREAD/VMWRITE; with a prefix, SSE4a's two-immediate forms
      if (p.operand_size || p.rep || p.repne) return std::nullopt;
      return modrm_then(r, 0);
    case 0xB8:  // POPCNT needs F3; without it, JMPE (IA-64 only)
      if (!p.rep) return std::nullopt;
      return modrm_then(r, 0);
    case 0xBA: {  // group 8: BT, BTS, BTR, BTC are /4-/7
      const std::optional<std::uint8_t> modrm = read_modrm(r);
      if (!modrm || reg_of(*modrm) < 4) return std::nullopt;
      return end_after(r, 1);
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<std::size_t> x86_64_instruction_length(std::span<const std::uint8_t> code) {
  Reader r(code);
  Prefixes p;
  std::optional<std::uint8_t> opcode = r.next();
  for (; opcode && is_legacy_prefix(*opcode); opcode = r.next()) {
    switch (*opcode) {
      case kOperandSizePrefix: p.operand_size = true; break;
      case kAddressSizePrefix: p.address_size = true; break;
      case kRepPrefix: p.rep = true; break;
      case kRepnePrefix: p.repne = true; break;
      default: break;  // segment overrides and LOCK change no length
    }
  }
  if (opcode && is_rex(*opcode)) {
    p.rex_w = (*opcode & kRexW) != 0;
    opcode = r.next();  // a prefix or REX here is refused by the map ('p')
  }
  if (!opcode) return std::nullopt;

  if (*opcode != kEscape) {
    const Operands form = kOneByteMap[*opcode];
    return form == Operands::special ? one_byte_special(r, p, *opcode) : common_form(r, p, form);
  }
  // Which of F2 and F3 selects a 0F-map instruction differs by decoder.
  if (p.rep && p.repne) return std::nullopt;
  opcode = r.next();
  if (!opcode) return std::nullopt;
  const Operands form = kTwoByteMap[*opcode];
  return form == Operands::special ? two_byte_special(r, p, *opcode) : common_form(r, p, form);
}

}  // namespace softsynic::emu::x86
