// ELF headers (System V gABI, "ELF header", "Program header", "Sections", "Dynamic section"):
// class, byte order, type, machine, PT_INTERP, DF_1_PIE and whether a symbol table remains.
// Every table is read with a capped entry count, whatever e_phnum or e_shnum claim.
#include <algorithm>
#include <array>
#include <string>

#include "classify_formats.hpp"

namespace ecluse::diff::detail {

namespace {

constexpr std::size_t k_max_segments = 256;
constexpr std::size_t k_max_sections = 2048;
constexpr std::size_t k_max_dynamic = 2048;
constexpr std::size_t k_max_entry_size = 256;
constexpr std::size_t k_max_interp = 4096;  // PATH_MAX

constexpr std::uint32_t k_pt_dynamic = 2;
constexpr std::uint32_t k_pt_interp = 3;
constexpr std::uint32_t k_sht_symtab = 2;
constexpr std::uint64_t k_dt_flags_1 = 0x6ffffffb;
constexpr std::uint64_t k_df_1_pie = 0x08000000;
constexpr std::uint16_t k_et_rel = 1;
constexpr std::uint16_t k_et_exec = 2;
constexpr std::uint16_t k_et_dyn = 3;
constexpr std::uint16_t k_et_core = 4;

struct ElfHeader {
  Fields f;  // the header itself, for byte order
  bool is64 = false;
  std::uint16_t type = 0;
  std::uint16_t machine = 0;
  std::uint64_t phoff = 0;
  std::uint64_t shoff = 0;
  std::uint16_t phentsize = 0;
  std::uint16_t phnum = 0;
  std::uint16_t shentsize = 0;
  std::uint16_t shnum = 0;
};

// One segment of interest: where its bytes are in the file.
struct Extent {
  bool present = false;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

struct Segments {
  Extent interp;
  Extent dynamic;
};

std::optional<ElfHeader> parse_header(std::string_view head) {
  const auto cls = static_cast<unsigned char>(head[4]);
  const auto data = static_cast<unsigned char>(head[5]);
  if ((cls != 1 && cls != 2) || (data != 1 && data != 2)) {
    return std::nullopt;
  }
  ElfHeader h;
  h.is64 = cls == 2;
  if (head.size() < (h.is64 ? 64U : 52U)) {
    return std::nullopt;
  }
  h.f = Fields{head.substr(0, 64), data == 2};
  h.type = h.f.u16(16);
  h.machine = h.f.u16(18);
  const std::size_t w = h.is64 ? 8 : 4;  // address width
  h.phoff = h.f.uint(24 + w, w);
  h.shoff = h.f.uint(24 + 2 * w, w);
  const std::size_t rest = 24 + 3 * w + 4;  // past e_flags
  h.phentsize = h.f.u16(rest + 2);
  h.phnum = h.f.u16(rest + 4);
  h.shentsize = h.f.u16(rest + 6);
  h.shnum = h.f.u16(rest + 8);
  return h;
}

// Reads up to count entries of entsize bytes at offset; only whole entries are returned.
Result<std::string> read_table(Reader& in,
                               std::uint64_t offset,
                               std::size_t entsize,
                               std::size_t count,
                               std::size_t min_entsize) {
  if (offset == 0 || entsize < min_entsize || entsize > k_max_entry_size) {
    return std::string();
  }
  ECLUSE_TRY(bytes, in.read(offset, entsize * count));
  bytes.resize(bytes.size() - bytes.size() % entsize);
  return bytes;
}

Result<Segments> read_segments(Reader& in, const ElfHeader& h) {
  const std::size_t count = std::min<std::size_t>(h.phnum, k_max_segments);
  ECLUSE_TRY(table, read_table(in, h.phoff, h.phentsize, count, h.is64 ? 56 : 32));
  Segments s;
  for (std::size_t at = 0; at < table.size(); at += h.phentsize) {
    const Fields e{std::string_view(table).substr(at, h.phentsize), h.f.big_endian};
    Extent x{true,
             h.is64 ? e.u64(8) : e.u32(4),     // p_offset
             h.is64 ? e.u64(32) : e.u32(16)};  // p_filesz
    const std::uint32_t type = e.u32(0);
    if (type == k_pt_interp && !s.interp.present) {
      s.interp = x;
    } else if (type == k_pt_dynamic && !s.dynamic.present) {
      s.dynamic = x;
    }
  }
  return s;
}

// The interpreter path: printable ASCII up to its NUL, or empty when it is not one.
Result<std::string> read_interp(Reader& in, const Extent& x) {
  if (!x.present || x.size == 0) {
    return std::string();
  }
  ECLUSE_TRY(bytes, in.read(x.offset, static_cast<std::size_t>(std::min(x.size, k_max_interp))));
  bytes = bytes.substr(0, bytes.find('\0'));
  for (const char c : bytes) {
    if (c < 0x20 || c > 0x7e) {
      return std::string();
    }
  }
  return bytes;
}

Result<bool> has_df_1_pie(Reader& in, const ElfHeader& h, const Extent& x) {
  const std::size_t entsize = h.is64 ? 16 : 8;
  if (!x.present) {
    return false;
  }
  const std::size_t count =
      static_cast<std::size_t>(std::min<std::uint64_t>(x.size / entsize, k_max_dynamic));
  ECLUSE_TRY(table, read_table(in, x.offset, entsize, count, entsize));
  const Fields t{table, h.f.big_endian};
  const std::size_t w = entsize / 2;
  for (std::size_t at = 0; at < table.size(); at += entsize) {
    const std::uint64_t tag = t.uint(at, w);
    if (tag == 0) {
      break;  // DT_NULL
    }
    if (tag == k_dt_flags_1) {
      return (t.uint(at + w, w) & k_df_1_pie) != 0;
    }
  }
  return false;
}

// True when no SHT_SYMTAB section is found, including when there are no readable sections.
Result<bool> is_stripped(Reader& in, const ElfHeader& h) {
  const std::size_t min_entsize = h.is64 ? 64 : 40;
  std::uint64_t count = h.shnum;
  if (count == 0 && h.shoff != 0) {
    // More than 0xff00 sections: the real count is section 0's sh_size.
    ECLUSE_TRY(first, read_table(in, h.shoff, h.shentsize, 1, min_entsize));
    count = Fields{first, h.f.big_endian}.uint(h.is64 ? 32 : 20, h.is64 ? 8 : 4);
  }
  const auto capped = static_cast<std::size_t>(std::min<std::uint64_t>(count, k_max_sections));
  ECLUSE_TRY(table, read_table(in, h.shoff, h.shentsize, capped, min_entsize));
  const Fields t{table, h.f.big_endian};
  for (std::size_t at = 0; at < table.size(); at += h.shentsize) {
    if (t.u32(at + 4) == k_sht_symtab) {
      return false;
    }
  }
  return true;
}

// e_machine values (gABI "ELF Header"); a few names depend on the class.
constexpr std::array<Named, 14> k_machines{{{2, "sparc"},
                                            {3, "i386"},
                                            {4, "m68k"},
                                            {20, "ppc"},
                                            {21, "ppc64"},
                                            {40, "arm"},
                                            {42, "sh"},
                                            {43, "sparc64"},
                                            {50, "ia64"},
                                            {62, "x86_64"},
                                            {183, "aarch64"},
                                            {247, "bpf"},
                                            {258, "loongarch64"},
                                            {0x9026, "alpha"}}};

std::string machine_name(std::uint16_t machine, bool is64) {
  switch (machine) {
    case 8:
      return is64 ? "mips64" : "mips";
    case 22:
      return is64 ? "s390x" : "s390";
    case 243:
      return is64 ? "riscv64" : "riscv32";
    default:
      break;
  }
  const std::string_view name = lookup(k_machines, machine);
  return name.empty() ? "machine " + std::to_string(machine) : std::string(name);
}

std::string type_name(const ElfHeader& h, bool pie) {
  switch (h.type) {
    case k_et_rel:
      return "relocatable";
    case k_et_exec:
      return "executable";
    case k_et_dyn:
      return pie ? "pie executable" : "shared object";
    case k_et_core:
      return "core";
    default:
      return hex_label("type", h.type);
  }
}

}  // namespace

Result<std::optional<Classification>> classify_elf(Reader& in, std::string_view head) {
  if (head.substr(0, 4) != "\x7f" "ELF") {
    return std::optional<Classification>();
  }
  Classification c;
  const auto h = head.size() >= 6 ? parse_header(head) : std::nullopt;
  if (!h) {
    c.detail = "malformed ELF header";
    return std::optional<Classification>(std::move(c));
  }
  ECLUSE_TRY(segments, read_segments(in, *h));
  ECLUSE_TRY(interp, read_interp(in, segments.interp));
  ECLUSE_TRY(flag_pie, has_df_1_pie(in, *h, segments.dynamic));
  ECLUSE_TRY(stripped, is_stripped(in, *h));
  const bool pie = h->type == k_et_dyn && (flag_pie || segments.interp.present);
  c.kind = FileKind::elf;
  c.arch = machine_name(h->machine, h->is64);
  c.detail = std::string("ELF ") + (h->is64 ? "64" : "32") + "-bit "
             + (h->f.big_endian ? "MSB " : "LSB ") + type_name(*h, pie);
  c.pie = pie;
  c.stripped = stripped;
  c.interpreter = std::move(interp);
  return std::optional<Classification>(std::move(c));
}

}  // namespace ecluse::diff::detail
