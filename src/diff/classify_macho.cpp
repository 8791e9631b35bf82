// Mach-O headers (<mach-o/loader.h> mach_header, <mach-o/fat.h> fat_header and fat_arch):
// thin images of either width and byte order, and universal (fat) files, which share their
// magic 0xcafebabe with Java class files and are told apart by a plausible arch table.
#include <array>
#include <string>

#include "classify_formats.hpp"

namespace ecluse::diff::detail {

namespace {

constexpr std::uint32_t k_fat_magic = 0xcafebabe;
constexpr std::uint32_t k_fat_magic_64 = 0xcafebabf;
constexpr std::uint32_t k_max_fat_arches = 30;  // more is a Java class file or garbage
constexpr std::uint16_t k_java_first_major = 45;
constexpr std::uint32_t k_cpu_arm64 = 0x0100000c;
constexpr std::uint32_t k_cpu_subtype_arm64e = 2;

constexpr std::array<Named, 7> k_cpus{{{7, "i386"},
                                       {0x01000007, "x86_64"},
                                       {12, "arm"},
                                       {k_cpu_arm64, "arm64"},
                                       {0x0200000c, "arm64_32"},
                                       {18, "ppc"},
                                       {0x01000012, "ppc64"}}};

constexpr std::array<Named, 12> k_filetypes{{{1, "object"},
                                             {2, "executable"},
                                             {3, "fvmlib"},
                                             {4, "core"},
                                             {5, "preload"},
                                             {6, "dylib"},
                                             {7, "dylinker"},
                                             {8, "bundle"},
                                             {9, "dylib stub"},
                                             {10, "dsym"},
                                             {11, "kext bundle"},
                                             {12, "fileset"}}};

std::string cpu_name(std::uint32_t cputype, std::uint32_t subtype) {
  if (cputype == k_cpu_arm64 && (subtype & 0xffffffU) == k_cpu_subtype_arm64e) {
    return "arm64e";
  }
  const std::string_view name = lookup(k_cpus, cputype);
  return name.empty() ? hex_label("cputype", cputype) : std::string(name);
}

// A thin image's header: the magic as read little-endian gives width and byte order.
std::optional<Classification> parse_thin(std::string_view head) {
  const std::uint32_t magic = Fields{head}.u32(0);
  const bool is64 = magic == 0xfeedfacf || magic == 0xcffaedfe;
  const bool big = magic == 0xcefaedfe || magic == 0xcffaedfe;
  if (!is64 && !big && magic != 0xfeedface) {
    return std::nullopt;
  }
  Classification c;
  if (head.size() < (is64 ? 32U : 28U)) {
    c.detail = "malformed Mach-O header";
    return c;
  }
  const Fields f{head, big};
  const std::uint32_t filetype = f.u32(12);
  const std::string_view type = lookup(k_filetypes, filetype);
  c.kind = FileKind::macho;
  c.arch = cpu_name(f.u32(4), f.u32(8));
  c.detail = std::string("Mach-O ") + (is64 ? "64-bit " : "32-bit ") + (big ? "big-endian " : "")
             + (type.empty() ? hex_label("filetype", filetype) : std::string(type));
  return c;
}

// The comma-separated arches of a fat table, or empty when an entry is implausible.
std::string fat_arches(std::string_view head, bool wide, std::uint32_t count, std::uint64_t size) {
  const std::size_t entry = wide ? 32 : 20;
  const std::size_t table_end = 8 + count * entry;
  if (head.size() < table_end) {
    return {};
  }
  const Fields f{head, true};
  std::string arches;
  for (std::size_t at = 8; at < table_end; at += entry) {
    const std::uint64_t offset = wide ? f.u64(at + 8) : f.u32(at + 8);
    const std::uint64_t length = wide ? f.u64(at + 16) : f.u32(at + 12);
    if (offset < table_end || length == 0 || !inside(offset, length, size)) {
      return {};
    }
    arches += (arches.empty() ? "" : ",") + cpu_name(f.u32(at), f.u32(at + 4));
  }
  return arches;
}

std::optional<Classification> parse_fat(std::string_view head, std::uint64_t size) {
  const Fields f{head, true};
  const std::uint32_t magic = f.u32(0);
  if (head.size() < 4 || (magic != k_fat_magic && magic != k_fat_magic_64)) {
    return std::nullopt;
  }
  Classification c;
  const std::uint32_t count = f.u32(4);
  if (magic == k_fat_magic && count > k_max_fat_arches && f.u16(6) >= k_java_first_major) {
    c.detail = "Java class file";  // u16 minor_version, u16 major_version
    return c;
  }
  std::string arches;
  if (head.size() >= 8 && count > 0 && count <= k_max_fat_arches) {
    arches = fat_arches(head, magic == k_fat_magic_64, count, size);
  }
  if (arches.empty()) {
    c.detail = "malformed Mach-O universal header";
    return c;
  }
  c.kind = FileKind::macho;
  c.arch = std::move(arches);
  c.detail = "Mach-O universal (" + std::to_string(count) + (count == 1 ? " arch)" : " arches)");
  return c;
}

}  // namespace

Result<std::optional<Classification>> classify_macho(Reader& in, std::string_view head) {
  if (head.size() < 4) {
    return std::optional<Classification>();
  }
  if (auto thin = parse_thin(head)) {
    return thin;
  }
  return parse_fat(head, in.size());
}

}  // namespace ecluse::diff::detail
