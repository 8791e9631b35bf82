// classify: hostile and truncated headers first (never a crash, never past the read budget),
// then real binaries of this machine, headers built here, scripts, text and the byte sources.
#include <ecluse/diff/classify.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace stdfs = std::filesystem;

using ecluse::diff::BufferSource;
using ecluse::diff::ByteSource;
using ecluse::diff::Classification;
using ecluse::diff::classify;
using ecluse::diff::FileKind;
using ecluse::diff::FileSource;

namespace {

constexpr std::uint64_t k_gib = 1024ULL * 1024 * 1024;
constexpr std::uint64_t k_cap = std::uint64_t{512} * 1024;

// ---- byte builders ---------------------------------------------------------------------

// Writes v as width bytes at offset, growing b with zeros when needed.
void put(std::string& b, std::size_t offset, std::uint64_t v, std::size_t width, bool big = false) {
  if (b.size() < offset + width) {
    b.resize(offset + width, '\0');
  }
  for (std::size_t i = 0; i < width; ++i) {
    const std::size_t shift = 8 * (big ? width - 1 - i : i);
    b[offset + i] = static_cast<char>((v >> shift) & 0xffU);
  }
}

struct ElfSpec {
  bool is64 = true;
  bool big = false;
  std::uint16_t type = 3;  // ET_DYN
  std::uint16_t machine = 62;
  std::uint64_t phoff = 0;
  std::uint64_t shoff = 0;
  std::uint16_t phnum = 0;
  std::uint16_t shnum = 0;
  std::uint16_t phentsize = 0;  // 0: the class's size
  std::uint16_t shentsize = 0;
};

std::uint16_t phent(const ElfSpec& s) {
  return s.phentsize != 0 ? s.phentsize : static_cast<std::uint16_t>(s.is64 ? 56 : 32);
}

std::uint16_t shent(const ElfSpec& s) {
  return s.shentsize != 0 ? s.shentsize : static_cast<std::uint16_t>(s.is64 ? 64 : 40);
}

std::string elf_header(const ElfSpec& s) {
  std::string b(
      "\x7f"
      "ELF",
      4);
  b += static_cast<char>(s.is64 ? 2 : 1);
  b += static_cast<char>(s.big ? 2 : 1);
  b += '\1';
  const std::size_t w = s.is64 ? 8 : 4;
  put(b, 16, s.type, 2, s.big);
  put(b, 18, s.machine, 2, s.big);
  put(b, 20, 1, 4, s.big);
  put(b, 24 + w, s.phoff, w, s.big);
  put(b, 24 + 2 * w, s.shoff, w, s.big);
  const std::size_t rest = 24 + 3 * w + 4;
  put(b, rest, s.is64 ? 64 : 52, 2, s.big);
  put(b, rest + 2, phent(s), 2, s.big);
  put(b, rest + 4, s.phnum, 2, s.big);
  put(b, rest + 6, shent(s), 2, s.big);
  put(b, rest + 8, s.shnum, 2, s.big);
  b.resize(s.is64 ? 64 : 52, '\0');  // e_shstrndx stays 0
  return b;
}

// One program header: p_type, p_offset, p_filesz.
struct Segment {
  std::uint32_t type = 0;
  std::uint64_t offset = 0;
  std::uint64_t filesz = 0;
};

void put_phdr(std::string& b, std::size_t at, const ElfSpec& s, const Segment& seg) {
  put(b, at, seg.type, 4, s.big);
  if (s.is64) {
    put(b, at + 8, seg.offset, 8, s.big);
    put(b, at + 32, seg.filesz, 8, s.big);
  } else {
    put(b, at + 4, seg.offset, 4, s.big);
    put(b, at + 16, seg.filesz, 4, s.big);
  }
}

void put_shdr(
    std::string& b, std::size_t at, const ElfSpec& s, std::uint32_t type, std::uint64_t size) {
  put(b, at + 4, type, 4, s.big);
  put(b, at + (s.is64 ? 32 : 20), size, s.is64 ? 8 : 4, s.big);
}

// A small but complete ELF: PT_INTERP (optional), PT_DYNAMIC with the given DT_FLAGS_1, and
// three section headers, one SHT_SYMTAB when with_symtab.
std::string elf_file(ElfSpec s,
                     const std::string& interp,
                     std::uint64_t flags_1,
                     bool with_symtab) {
  s.phoff = 0x40;
  s.phnum = 2;
  s.shoff = 0x400;
  s.shnum = 3;
  std::string b = elf_header(s);
  put_phdr(b, 0x40, s, {interp.empty() ? 1U : 3U, 0x200, interp.size() + 1});  // PT_LOAD if none
  put_phdr(b, 0x40 + phent(s), s, {2, 0x300, 64});
  put(b, 0x200 + interp.size(), 0, 1);
  b.replace(0x200, interp.size(), interp);
  const std::size_t w = s.is64 ? 8 : 4;
  put(b, 0x300, 0x6ffffffb, w, s.big);
  put(b, 0x300 + w, flags_1, w, s.big);
  put_shdr(b, 0x400, s, 0, 0);
  put_shdr(b, 0x400 + shent(s), s, with_symtab ? 2 : 3, 0);
  put_shdr(b, 0x400 + 2U * shent(s), s, 3, 0);
  return b;
}

struct PeSpec {
  bool plus = true;
  std::uint16_t machine = 0x8664;
  std::uint16_t subsystem = 3;
  bool dll = false;
  std::uint32_t lfanew = 0x80;
  std::uint32_t sec_offset = 0;
  std::uint32_t sec_size = 0;
  std::size_t total = 0x400;
};

std::string pe_file(const PeSpec& s) {
  std::string b(s.total, '\0');
  b.replace(0, 2, "MZ");
  put(b, 0x3c, s.lfanew, 4);
  const std::size_t pe = s.lfanew;
  b.replace(pe, 4, std::string("PE\0\0", 4));
  put(b, pe + 4, s.machine, 2);
  put(b, pe + 20, s.plus ? 240 : 224, 2);                // SizeOfOptionalHeader
  put(b, pe + 22, 0x0002U | (s.dll ? 0x2000U : 0U), 2);  // Characteristics
  const std::size_t opt = pe + 24;
  put(b, opt, s.plus ? 0x20b : 0x10b, 2);
  put(b, opt + 68, s.subsystem, 2);
  const std::size_t dirs = opt + (s.plus ? 112 : 96);
  put(b, dirs - 4, 16, 4);  // NumberOfRvaAndSizes
  put(b, dirs + 32, s.sec_offset, 4);
  put(b, dirs + 36, s.sec_size, 4);
  b.resize(std::max(b.size(), s.total), '\0');
  return b;
}

std::string macho_thin(bool is64, bool big, std::uint32_t cputype, std::uint32_t filetype) {
  std::string b;
  put(b, 0, is64 ? 0xfeedfacf : 0xfeedface, 4, big);
  put(b, 4, cputype, 4, big);
  put(b, 12, filetype, 4, big);
  put(b, 16, 0, 4, big);
  b.resize(is64 ? 32 : 28, '\0');
  return b;
}

struct FatArch {
  std::uint32_t cputype = 0;
  std::uint64_t offset = 0;  // 0: a slice of its own after the table
  std::uint64_t size = 0x1000;
};

std::string macho_fat(const std::vector<FatArch>& arches,
                      bool wide = false,
                      std::uint32_t count_override = 0) {
  std::string b;
  put(b, 0, wide ? 0xcafebabf : 0xcafebabe, 4, true);
  put(b, 4, count_override != 0 ? count_override : arches.size(), 4, true);
  const std::size_t entry = wide ? 32 : 20;
  for (std::size_t i = 0; i < arches.size(); ++i) {
    const std::size_t at = 8 + i * entry;
    const std::uint64_t offset = arches[i].offset != 0 ? arches[i].offset : 0x1000 * (i + 1);
    put(b, at, arches[i].cputype, 4, true);
    put(b, at + 8, offset, wide ? 8 : 4, true);
    put(b, at + (wide ? 16 : 12), arches[i].size, wide ? 8 : 4, true);
    if (arches[i].offset == 0) {
      b.resize(std::max<std::size_t>(b.size(), offset + arches[i].size), '\0');
      b.replace(offset, 32, macho_thin(true, false, arches[i].cputype, 2));
    }
  }
  return b;
}

// ---- sources ---------------------------------------------------------------------------

// Claims size bytes: prefix, then pattern repeated (aligned to absolute offsets). Counts every
// byte requested, and fails the test on any single request a header could have inflated.
class CountingSource final : public ByteSource {
 public:
  CountingSource(std::string prefix, std::string pattern, std::uint64_t size)
      : m_prefix(std::move(prefix)), m_pattern(std::move(pattern)), m_size(size) {}

  [[nodiscard]] std::uint64_t size() const override { return m_size; }

  [[nodiscard]] ecluse::Result<std::string> read_at(std::uint64_t offset,
                                                    std::size_t n) const override {
    CHECK(n <= k_cap);
    if (offset >= m_size) {
      return std::string();
    }
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(n, m_size - offset));
    m_total += len;
    std::string out(len, '\0');
    for (std::size_t i = 0; i < len; ++i) {
      const std::uint64_t at = offset + i;
      out[i] = at < m_prefix.size() ? m_prefix[static_cast<std::size_t>(at)]
                                    : m_pattern[static_cast<std::size_t>(at % m_pattern.size())];
    }
    return out;
  }

  [[nodiscard]] std::uint64_t total() const { return m_total; }

 private:
  std::string m_prefix;
  std::string m_pattern;
  std::uint64_t m_size;
  mutable std::uint64_t m_total = 0;
};

Classification classify_bytes(const std::string& bytes, std::string_view format = {}) {
  BufferSource src(bytes);
  auto c = classify(src, format);
  REQUIRE(c.has_value());
  return *c;
}

// Classifies a 1 GiB claimed file and checks the bytes read stay under the cap.
Classification classify_huge(const std::string& prefix, const std::string& pattern) {
  CountingSource src(prefix, pattern, k_gib);
  auto c = classify(src);
  REQUIRE(c.has_value());
  CHECK(src.total() <= k_cap);
  return *c;
}

std::string read_prefix(const stdfs::path& p, std::size_t n) {
  std::ifstream in(p, std::ios::binary);
  std::string b(n, '\0');
  in.read(b.data(), static_cast<std::streamsize>(n));
  b.resize(static_cast<std::size_t>(in.gcount()));
  return b;
}

// A fresh directory, removed on destruction.
struct TempDir {
  stdfs::path path;

  TempDir() {
    std::string tmpl = (stdfs::temp_directory_path() / "ecluse-classify-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  ~TempDir() {
    std::error_code ec;
    stdfs::remove_all(path, ec);
  }
};

Classification classify_path(const stdfs::path& p) {
  auto src = FileSource::open(p);
  if (!src) {
    FAIL(src.error().to_string());
  }
  auto c = classify(**src);
  REQUIRE(c.has_value());
  return *c;
}

}  // namespace

// ---- hostile and truncated inputs ------------------------------------------------------

TEST_CASE("diff::classify survives ELF headers truncated at every length") {
  SUBCASE("64-bit, 0 to 64 bytes") {
    const std::string full = elf_header(ElfSpec{});
    REQUIRE(full.size() == 64);
    for (std::size_t n = 0; n <= 64; ++n) {
      CAPTURE(n);
      const auto c = classify_bytes(full.substr(0, n));
      CHECK((c.kind == FileKind::elf) == (n == 64));
      if (n >= 4 && n < 64) {
        CHECK(c.kind == FileKind::other);
        CHECK(c.detail == "malformed ELF header");
      }
    }
  }
  SUBCASE("32-bit MSB, 0 to 52 bytes") {
    const std::string full = elf_header(ElfSpec{.is64 = false, .big = true, .machine = 8});
    for (std::size_t n = 0; n <= 52; ++n) {
      CAPTURE(n);
      CHECK((classify_bytes(full.substr(0, n)).kind == FileKind::elf) == (n == 52));
    }
  }
  SUBCASE("real binary cut at every length up to 2 KiB") {
    const std::string ls = read_prefix("/bin/ls", 2048);
    REQUIRE(ls.size() == 2048);
    for (std::size_t n = 0; n <= ls.size(); ++n) {
      CAPTURE(n);
      const auto c = classify_bytes(ls.substr(0, n));
      CHECK((c.kind == FileKind::elf) == (n >= 64));
    }
  }
  SUBCASE("bad class or byte order") {
    std::string b = elf_header(ElfSpec{});
    b[4] = 3;
    CHECK(classify_bytes(b).kind == FileKind::other);
    b[4] = 2;
    b[5] = 0;
    CHECK(classify_bytes(b).detail == "malformed ELF header");
  }
}

TEST_CASE("diff::classify ignores ELF tables outside the file") {
  SUBCASE("e_phoff and e_shoff past the end") {
    const auto c = classify_bytes(
        elf_header(ElfSpec{.phoff = 1U << 20, .shoff = 1U << 20, .phnum = 4, .shnum = 4}));
    CHECK(c.kind == FileKind::elf);
    CHECK(c.pie == false);
    CHECK(c.stripped == true);
  }
  SUBCASE("e_phoff and e_shoff overflowing") {
    const auto c = classify_bytes(elf_header(
        ElfSpec{.phoff = ~0ULL - 8, .shoff = ~0ULL - 8, .phnum = 0xffff, .shnum = 0xffff}));
    CHECK(c.kind == FileKind::elf);
    CHECK(c.stripped == true);
  }
  SUBCASE("entry sizes of zero or too large") {
    for (const std::uint16_t ent : {std::uint16_t{1}, std::uint16_t{0xffff}}) {
      const auto c = classify_bytes(
          elf_file(ElfSpec{.phentsize = ent, .shentsize = ent}, "/lib/ld.so", 0, true));
      CHECK(c.kind == FileKind::elf);
      CHECK(c.interpreter.empty());
    }
  }
  SUBCASE("PT_INTERP offset past the end") {
    ElfSpec s{.phoff = 64, .phnum = 1};
    std::string b = elf_header(s);
    put_phdr(b, 64, s, {3, 1U << 30, 16});
    b.resize(64 + 56, '\0');
    const auto c = classify_bytes(b);
    CHECK(c.kind == FileKind::elf);
    CHECK(c.interpreter.empty());
    CHECK(c.pie == true);  // the segment is there even when its bytes are not
  }
  SUBCASE("PT_INTERP with a huge size and no NUL") {
    ElfSpec s{.phoff = 64, .phnum = 1};
    std::string b = elf_header(s);
    put_phdr(b, 64, s, {3, 128, ~0ULL});
    b.resize(128);
    b += std::string(10000, 'A');
    const auto c = classify_bytes(b);
    CHECK(c.kind == FileKind::elf);
    CHECK(c.interpreter.size() == 4096);
  }
  SUBCASE("PT_INTERP with control characters") {
    const auto c = classify_bytes(elf_file(ElfSpec{}, "/lib/ld\x1b[31m.so", 0, true));
    CHECK(c.interpreter.empty());
  }
  SUBCASE("section count in section 0, claimed huge") {
    ElfSpec s{.shoff = 64, .shnum = 0};
    std::string b = elf_header(s);
    put_shdr(b, 64, s, 0, ~0ULL);
    put_shdr(b, 128, s, 2, 0);
    b.resize(64 + 2 * 64, '\0');
    CHECK(classify_bytes(b).stripped == false);
  }
}

TEST_CASE("diff::classify never reads past its budget whatever the headers claim") {
  SUBCASE("zeros") {
    CHECK(classify_huge("", std::string(1, '\0')).kind == FileKind::other);
  }
  SUBCASE("text") {
    CHECK(classify_huge("", "a").kind == FileKind::text);
  }
  SUBCASE("ELF with 0xffff segments and sections, every one PT_DYNAMIC without DT_NULL") {
    ElfSpec s{.phoff = 112, .shoff = 112, .phnum = 0xffff, .shnum = 0xffff};
    std::string pattern;
    put_phdr(pattern, 0, s, {2, 0x100000, ~0ULL});
    pattern.resize(56, '\x05');
    CHECK(classify_huge(elf_header(s), pattern).kind == FileKind::elf);
  }
  SUBCASE("ELF with every segment PT_INTERP of huge size") {
    ElfSpec s{.phoff = 112, .shoff = 112, .phnum = 0xffff, .shnum = 0xffff};
    std::string pattern;
    put_phdr(pattern, 0, s, {3, 0x200000, ~0ULL});
    pattern.resize(56, 'x');
    const auto c = classify_huge(elf_header(s), pattern);
    CHECK(c.kind == FileKind::elf);
    CHECK(c.interpreter.empty());
  }
  SUBCASE("ELF whose capped tables alone exceed the budget") {
    ElfSpec s{.phoff = 256,
              .shoff = 256,
              .phnum = 0xffff,
              .shnum = 0xffff,
              .phentsize = 256,
              .shentsize = 256};
    CountingSource src(elf_header(s), std::string(1, '\x02'), k_gib);
    REQUIRE(classify(src).has_value());
    CHECK(src.total() == 256 * 1024);
  }
  SUBCASE("ELF32 MSB with a section count of 2^32 - 1 in section 0") {
    ElfSpec s{.is64 = false, .big = true, .phoff = 52, .shoff = 48, .phnum = 0xffff, .shnum = 0};
    std::string pattern;
    put_shdr(pattern, 0, s, 3, 0xffffffff);
    CHECK(classify_huge(elf_header(s), pattern).kind == FileKind::elf);
  }
  SUBCASE("PE with a security directory deep inside the claimed size") {
    const std::string pe = pe_file(PeSpec{.sec_offset = 0x20000000, .sec_size = 0x10000000});
    const auto c = classify_huge(pe, std::string(1, '\0'));
    CHECK(c.kind == FileKind::pe);
    CHECK(c.authenticode == true);
  }
  SUBCASE("fat Mach-O with 0xffffffff arches") {
    CHECK(classify_huge(macho_fat({}, false, 0xffffffff), "\xff").kind == FileKind::other);
  }
}

TEST_CASE("diff::classify rejects PE headers that do not hold together") {
  SUBCASE("MZ alone, or shorter than a DOS header") {
    CHECK(classify_bytes("MZ").detail == "MS-DOS executable");
    CHECK(classify_bytes(pe_file(PeSpec{}).substr(0, 63)).kind == FileKind::other);
  }
  SUBCASE("e_lfanew past the end") {
    std::string b = pe_file(PeSpec{});
    put(b, 0x3c, 0x10000, 4);
    CHECK(classify_bytes(b).kind == FileKind::other);
    put(b, 0x3c, b.size() - 10, 4);  // the signature fits, the COFF header does not
    CHECK(classify_bytes(b).kind == FileKind::other);
  }
  SUBCASE("e_lfanew negative") {
    for (const std::uint32_t v : {0x80000000U, 0xffffffffU, 0xfffffffcU}) {
      std::string b = pe_file(PeSpec{});
      put(b, 0x3c, v, 4);
      CHECK(classify_bytes(b).kind == FileKind::other);
    }
  }
  SUBCASE("e_lfanew pointing at garbage") {
    std::string b = pe_file(PeSpec{});
    put(b, 0x3c, 0x100, 4);
    CHECK(classify_bytes(b).detail == "MS-DOS executable");
  }
  SUBCASE("unknown optional header magic") {
    std::string b = pe_file(PeSpec{});
    put(b, 0x80 + 24, 0x107, 2);
    CHECK(classify_bytes(b).kind == FileKind::other);
  }
  SUBCASE("optional header too small for the subsystem") {
    std::string b = pe_file(PeSpec{});
    put(b, 0x80 + 20, 60, 2);
    CHECK(classify_bytes(b).kind == FileKind::other);
  }
  SUBCASE("file ends inside the optional header") {
    CHECK(classify_bytes(pe_file(PeSpec{}).substr(0, 0x80 + 24 + 40)).kind == FileKind::other);
  }
  SUBCASE("security directory outside the file") {
    const auto past = classify_bytes(pe_file(PeSpec{.sec_offset = 0x10000, .sec_size = 0x100}));
    CHECK(past.kind == FileKind::pe);
    CHECK(past.authenticode == false);
    const auto overflow =
        classify_bytes(pe_file(PeSpec{.sec_offset = 0x300, .sec_size = 0xffffff00}));
    CHECK(overflow.authenticode == false);
    const auto empty = classify_bytes(pe_file(PeSpec{.sec_offset = 0x300, .sec_size = 0}));
    CHECK(empty.authenticode == false);
  }
  SUBCASE("security directory beyond NumberOfRvaAndSizes") {
    std::string b = pe_file(PeSpec{.sec_offset = 0x300, .sec_size = 0x100});
    put(b, 0x80 + 24 + 108, 4, 4);
    CHECK(classify_bytes(b).authenticode == false);
  }
}

TEST_CASE("diff::classify rejects implausible Mach-O universal headers") {
  SUBCASE("0xffffffff arches") {
    CHECK(classify_bytes(macho_fat({}, false, 0xffffffff) + std::string(64, '\0')).kind
          == FileKind::other);
  }
  SUBCASE("no arches") {
    CHECK(classify_bytes(macho_fat({}) + std::string(64, '\0')).detail
          == "malformed Mach-O universal header");
  }
  SUBCASE("31 arches") {
    std::vector<FatArch> many(31, FatArch{.cputype = 7});
    CHECK(classify_bytes(macho_fat(many)).kind == FileKind::other);
  }
  SUBCASE("Java class file") {
    std::string b;
    put(b, 0, 0xcafebabe, 4, true);
    put(b, 4, 0, 2, true);
    put(b, 6, 61, 2, true);  // Java 17
    b += std::string(100, '\0');
    const auto c = classify_bytes(b);
    CHECK(c.kind == FileKind::other);
    CHECK(c.detail == "Java class file");
  }
  SUBCASE("arch entries outside the file, overlapping the table or empty") {
    CHECK(classify_bytes(macho_fat({{7, 0x100000, 0x1000}})).kind == FileKind::other);
    CHECK(classify_bytes(macho_fat({{7, 0x1000, ~0ULL}}, true) + std::string(0x2000, '\0')).kind
          == FileKind::other);
    CHECK(classify_bytes(macho_fat({{7, 4, 16}}) + std::string(64, '\0')).kind == FileKind::other);
    CHECK(classify_bytes(macho_fat({{7, 64, 0}}) + std::string(64, '\0')).kind == FileKind::other);
  }
  SUBCASE("table cut short") {
    const std::string fat = macho_fat({{7, 0, 0x1000}, {0x01000007, 0, 0x1000}});
    CHECK(classify_bytes(fat.substr(0, 30)).kind == FileKind::other);
  }
  SUBCASE("thin header cut short") {
    const std::string thin = macho_thin(true, false, 0x01000007, 2);
    for (std::size_t n = 4; n < thin.size(); ++n) {
      CAPTURE(n);
      CHECK(classify_bytes(thin.substr(0, n)).detail == "malformed Mach-O header");
    }
  }
}

// ---- real and constructed binaries -----------------------------------------------------

TEST_CASE("diff::classify reads real ELF binaries of the machine") {
  SUBCASE("ls: a stripped PIE executable") {
    const stdfs::path ls = stdfs::exists("/usr/bin/ls") ? "/usr/bin/ls" : "/bin/ls";
    const auto c = classify_path(ls);
    CHECK(c.kind == FileKind::elf);
    CHECK(c.arch == "x86_64");
    CHECK(c.detail == "ELF 64-bit LSB pie executable");
    CHECK(c.pie == true);
    CHECK(c.stripped == true);
    CHECK(c.interpreter == "/lib64/ld-linux-x86-64.so.2");
    CHECK(c.executable());
  }
  SUBCASE("libz: a shared object") {
    std::error_code ec;
    const stdfs::path libz = stdfs::canonical("/usr/lib/x86_64-linux-gnu/libz.so.1", ec);
    if (ec) {
      MESSAGE("libz.so.1 not installed: skipped");
      return;
    }
    const auto c = classify_path(libz);
    CHECK(c.kind == FileKind::elf);
    CHECK(c.detail == "ELF 64-bit LSB shared object");
    CHECK(c.pie == false);
    CHECK(c.interpreter.empty());
  }
  SUBCASE("this test binary: not stripped") {
    std::error_code ec;
    const stdfs::path self = stdfs::read_symlink("/proc/self/exe", ec);
    REQUIRE(!ec);
    const auto c = classify_path(self);
    CHECK(c.kind == FileKind::elf);
    CHECK(c.stripped == false);
    CHECK(!c.interpreter.empty());
  }
}

TEST_CASE("diff::classify reads constructed ELF headers") {
  SUBCASE("32-bit MSB mips executable") {
    const auto c = classify_bytes(elf_file(
        ElfSpec{.is64 = false, .big = true, .type = 2, .machine = 8}, "/lib/ld.so.1", 0, false));
    CHECK(c.arch == "mips");
    CHECK(c.detail == "ELF 32-bit MSB executable");
    CHECK(c.pie == false);
    CHECK(c.stripped == true);
    CHECK(c.interpreter == "/lib/ld.so.1");
  }
  SUBCASE("static PIE: DF_1_PIE without an interpreter") {
    const auto c = classify_bytes(elf_file(ElfSpec{.machine = 183}, "", 0x08000000, true));
    CHECK(c.arch == "aarch64");
    CHECK(c.detail == "ELF 64-bit LSB pie executable");
    CHECK(c.stripped == false);
  }
  SUBCASE("relocatable, core, unknown type and machine") {
    CHECK(classify_bytes(elf_header(ElfSpec{.type = 1})).detail == "ELF 64-bit LSB relocatable");
    CHECK(classify_bytes(elf_header(ElfSpec{.type = 4})).detail == "ELF 64-bit LSB core");
    const auto odd = classify_bytes(elf_header(ElfSpec{.type = 0xfe00, .machine = 9999}));
    CHECK(odd.detail == "ELF 64-bit LSB type 0xfe00");
    CHECK(odd.arch == "machine 9999");
  }
}

TEST_CASE("diff::classify reads constructed PE headers") {
  SUBCASE("PE32 gui executable without a signature") {
    const auto c = classify_bytes(pe_file(PeSpec{.plus = false, .machine = 0x14c, .subsystem = 2}));
    CHECK(c.kind == FileKind::pe);
    CHECK(c.arch == "i386");
    CHECK(c.detail == "PE32 executable");
    CHECK(c.subsystem == "gui");
    CHECK(c.authenticode == false);
  }
  SUBCASE("PE32+ console dll with a signature") {
    const auto c =
        classify_bytes(pe_file(PeSpec{.dll = true, .sec_offset = 0x300, .sec_size = 0x100}));
    CHECK(c.arch == "x86_64");
    CHECK(c.detail == "PE32+ dll");
    CHECK(c.subsystem == "console");
    CHECK(c.authenticode == true);
  }
  SUBCASE("PE32 signed gui, arm64 EFI application, unknown machine") {
    CHECK(
        classify_bytes(
            pe_file(PeSpec{.plus = false, .subsystem = 2, .sec_offset = 0x200, .sec_size = 0x200}))
            .authenticode
        == true);
    const auto efi = classify_bytes(pe_file(PeSpec{.machine = 0xaa64, .subsystem = 10}));
    CHECK(efi.arch == "arm64");
    CHECK(efi.subsystem == "efi_application");
    CHECK(classify_bytes(pe_file(PeSpec{.machine = 0x1234})).arch == "machine 0x1234");
  }
}

TEST_CASE("diff::classify reads constructed Mach-O headers") {
  SUBCASE("thin 64-bit little-endian executable") {
    const auto c = classify_bytes(macho_thin(true, false, 0x0100000c, 2));
    CHECK(c.kind == FileKind::macho);
    CHECK(c.arch == "arm64");
    CHECK(c.detail == "Mach-O 64-bit executable");
  }
  SUBCASE("thin 32-bit big-endian dylib") {
    const auto c = classify_bytes(macho_thin(false, true, 18, 6));
    CHECK(c.arch == "ppc");
    CHECK(c.detail == "Mach-O 32-bit big-endian dylib");
  }
  SUBCASE("universal with 2 arches, 32- and 64-bit tables") {
    for (const bool wide : {false, true}) {
      const auto c =
          classify_bytes(macho_fat({{0x01000007, 0, 0x1000}, {0x0100000c, 0, 0x1000}}, wide));
      CHECK(c.kind == FileKind::macho);
      CHECK(c.arch == "x86_64,arm64");
      CHECK(c.detail == "Mach-O universal (2 arches)");
    }
  }
}

// ---- scripts, text, archives, other ----------------------------------------------------

TEST_CASE("diff::classify reads shebang lines") {
  SUBCASE("#!/bin/sh") {
    const auto c = classify_bytes("#!/bin/sh\necho hi\n");
    CHECK(c.kind == FileKind::script);
    CHECK(c.interpreter == "/bin/sh");
    CHECK(c.executable());
  }
  SUBCASE("env names the interpreter") {
    const auto c = classify_bytes("#!/usr/bin/env python3\nprint(1)\n");
    CHECK(c.interpreter == "python3");
    CHECK(c.detail == "script via /usr/bin/env");
    CHECK(classify_bytes("#!/usr/bin/env -S NODE_ENV=1 node --flag\n").interpreter == "node");
  }
  SUBCASE("blank after #!, arguments and CRLF") {
    CHECK(classify_bytes("#! /usr/bin/perl -w").interpreter == "/usr/bin/perl");
    CHECK(classify_bytes("#!/bin/bash\r\n").interpreter == "/bin/bash");
  }
  SUBCASE("hostile shebangs") {
    CHECK(classify_bytes("#!").detail == "script without interpreter");
    CHECK(classify_bytes("#!/usr/bin/env\n").interpreter.empty());
    CHECK(classify_bytes("#!" + std::string(1000, 'x')).interpreter.size() == 254);
    CHECK(classify_bytes("#!/bin/\x1b[2Jsh\n").interpreter == "/bin/\\x1b[2Jsh");
  }
}

TEST_CASE("diff::classify tells text, archives and other data apart") {
  SUBCASE("text") {
    CHECK(classify_bytes("hello\n").detail == "ASCII text");
    CHECK(classify_bytes("h\xc3\xa9llo\n").detail == "UTF-8 text");
    // An 8 KiB window that cuts a multi-byte character is still text.
    CHECK(classify_bytes(std::string(8191, 'a') + "\xc3\xa9" + "b").kind == FileKind::text);
  }
  SUBCASE("not text") {
    CHECK(classify_bytes(std::string("a\0b", 3)).kind == FileKind::other);
    CHECK(classify_bytes("\xff\xfe").kind == FileKind::other);
    CHECK(classify_bytes("abc\xc3").kind == FileKind::other);  // the whole file: cut is invalid
  }
  SUBCASE("empty") {
    const auto c = classify_bytes("");
    CHECK(c.kind == FileKind::other);
    CHECK(c.detail == "empty");
  }
  SUBCASE("archive format wins over data, not over code") {
    const auto zip = classify_bytes(std::string("PK\3\4\0\0", 6), "zip");
    CHECK(zip.kind == FileKind::archive);
    CHECK(zip.format == "zip");
    const auto sfx = classify_bytes(pe_file(PeSpec{}), "zip");
    CHECK(sfx.kind == FileKind::pe);
    CHECK(sfx.format == "zip");
    CHECK(classify_bytes(elf_header(ElfSpec{}).substr(0, 20), "tar").kind == FileKind::archive);
  }
}

TEST_CASE("diff::classify serialises stable names") {
  CHECK(ecluse::diff::to_string(FileKind::macho) == "macho");
  CHECK(ecluse::diff::to_string(FileKind::other) == "other");
  CHECK(ecluse::diff::to_json(classify_bytes(""))
        == ecluse::json::Json{{"kind", "other"}, {"detail", "empty"}});
  const auto pe = ecluse::diff::to_json(classify_bytes(pe_file(PeSpec{.subsystem = 2})));
  CHECK(pe
        == ecluse::json::Json{{"kind", "pe"},
                              {"arch", "x86_64"},
                              {"detail", "PE32+ executable"},
                              {"subsystem", "gui"},
                              {"authenticode", false}});
  const auto elf = ecluse::diff::to_json(classify_bytes(elf_file(ElfSpec{}, "/ld", 0, false)));
  CHECK(elf["pie"] == true);
  CHECK(elf["stripped"] == true);
  CHECK(elf["interpreter"] == "/ld");
  CHECK(!elf.contains("format"));
}

// ---- byte sources ----------------------------------------------------------------------

TEST_CASE("diff::FileSource refuses what is not a regular file") {
  TempDir dir;
  const std::string body = "#!/bin/sh\nexit 0\n";
  { std::ofstream(dir.path / "run.sh", std::ios::binary) << body; }
  SUBCASE("symlink") {
    std::error_code ec;
    stdfs::create_symlink(dir.path / "run.sh", dir.path / "link", ec);
    REQUIRE(!ec);
    auto src = FileSource::open(dir.path / "link");
    REQUIRE(!src.has_value());
    CHECK(src.error().reason == "store.io_error");
  }
  SUBCASE("missing file") {
    auto src = FileSource::open(dir.path / "absent");
    REQUIRE(!src.has_value());
    CHECK(src.error().reason == "store.io_error");
    CHECK(src.error().message.find("absent") != std::string::npos);
  }
  SUBCASE("directory") {
    auto src = FileSource::open(dir.path);
    REQUIRE(!src.has_value());
    CHECK(src.error().reason == "store.io_error");
  }
  SUBCASE("regular file") {
    auto src = FileSource::open(dir.path / "run.sh");
    REQUIRE(src.has_value());
    CHECK((*src)->size() == body.size());
    CHECK((*src)->read_at(2, 7).value() == "/bin/sh");
    CHECK((*src)->read_at(10, 1000).value() == "exit 0\n");
    CHECK((*src)->read_at(body.size(), 5).value().empty());
    CHECK((*src)->read_at(~0ULL, 5).value().empty());
    CHECK(classify_path(dir.path / "run.sh").interpreter == "/bin/sh");
  }
}

TEST_CASE("diff::BufferSource reads within its bytes") {
  const BufferSource src("abcdef");
  CHECK(src.read_at(0, 3).value() == "abc");
  CHECK(src.read_at(4, 100).value() == "ef");
  CHECK(src.read_at(6, 1).value().empty());
  CHECK(src.read_at(~0ULL, ~std::size_t{0}).value().empty());
}
