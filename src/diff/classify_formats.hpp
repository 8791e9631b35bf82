// Shared by the format parsers of classify: a read budget over a ByteSource, endian-aware
// field access that cannot read outside its window, and one entry point per binary format.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/diff/classify.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ecluse::diff::detail {

// Total bytes classify reads from one file, whatever its headers claim.
inline constexpr std::uint64_t k_read_budget = std::uint64_t{256} * 1024;

// Reads through a ByteSource, clamped to the file's end and to k_read_budget: a read past
// either gives fewer bytes (possibly none), never an error. Only the source's I/O fails.
class Reader {
 public:
  explicit Reader(const ByteSource& src) : m_src(src), m_size(src.size()) {}

  [[nodiscard]] std::uint64_t size() const { return m_size; }

  // Up to n bytes at offset.
  Result<std::string> read(std::uint64_t offset, std::size_t n);

 private:
  const ByteSource& m_src;
  std::uint64_t m_size;
  std::uint64_t m_spent = 0;
};

// A window of bytes read from the file; fields outside the window read as zero.
struct Fields {
  std::string_view bytes;
  bool big_endian = false;

  [[nodiscard]] std::uint64_t uint(std::size_t offset, std::size_t width) const;

  [[nodiscard]] std::uint16_t u16(std::size_t offset) const {
    return static_cast<std::uint16_t>(uint(offset, 2));
  }

  [[nodiscard]] std::uint32_t u32(std::size_t offset) const {
    return static_cast<std::uint32_t>(uint(offset, 4));
  }

  [[nodiscard]] std::uint64_t u64(std::size_t offset) const { return uint(offset, 8); }
};

// Does [offset, offset + length) lie inside a file of file_size bytes (without overflow)?
inline bool inside(std::uint64_t offset, std::uint64_t length, std::uint64_t file_size) {
  return offset <= file_size && length <= file_size - offset;
}

// One row of a table of names for a header field's values.
struct Named {
  std::uint64_t code;
  std::string_view name;
};

// The name of code in table, or empty when the table does not know it.
inline std::string_view lookup(std::span<const Named> table, std::uint64_t code) {
  for (const Named& row : table) {
    if (row.code == code) {
      return row.name;
    }
  }
  return {};
}

// "what 0x1c2" style label for values no table names.
std::string hex_label(std::string_view what, std::uint64_t value);

// Each parser looks at head (the file's first bytes, already read) and returns nullopt when
// the magic does not match. A matching magic with a malformed header gives kind other with a
// detail naming the format, so a reviewer still sees what the file pretends to be.
Result<std::optional<Classification>> classify_elf(Reader& in, std::string_view head);
Result<std::optional<Classification>> classify_pe(Reader& in, std::string_view head);
Result<std::optional<Classification>> classify_macho(Reader& in, std::string_view head);

}  // namespace ecluse::diff::detail
