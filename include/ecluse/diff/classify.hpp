// Classification of a file by its content (never by its name): ELF, PE, Mach-O, script,
// archive, text or other, with the facts a reviewer asks about executables. Own small header
// parsers, bounded reads only: a hostile file can make classification say "other", never
// read unbounded data, loop or crash.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ecluse::diff {

// Bounded random access to one file's bytes (a content-store object, or a buffer in tests).
class ByteSource {
 public:
  ByteSource() = default;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;
  ByteSource(ByteSource&&) = delete;
  ByteSource& operator=(ByteSource&&) = delete;
  virtual ~ByteSource() = default;

  [[nodiscard]] virtual std::uint64_t size() const = 0;
  // Up to n bytes at offset (fewer at the end of the file, none past it); store.io_error.
  [[nodiscard]] virtual Result<std::string> read_at(std::uint64_t offset, std::size_t n) const = 0;
};

// A buffer as a ByteSource (tests, small objects).
class BufferSource final : public ByteSource {
 public:
  explicit BufferSource(std::string_view bytes) : m_bytes(bytes) {}

  [[nodiscard]] std::uint64_t size() const override { return m_bytes.size(); }

  [[nodiscard]] Result<std::string> read_at(std::uint64_t offset, std::size_t n) const override;

 private:
  std::string_view m_bytes;
};

// A file opened read-only (O_NOFOLLOW) and read with pread.
class FileSource final : public ByteSource {
 public:
  // store.io_error when it cannot be opened or is not a regular file.
  static Result<std::unique_ptr<FileSource>> open(const std::filesystem::path& file);

  // Adopts fd (closed on destruction); name only labels error messages.
  FileSource(int fd, std::uint64_t size, std::string name = {})
      : m_fd(fd), m_size(size), m_name(std::move(name)) {}

  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  FileSource(FileSource&&) = delete;
  FileSource& operator=(FileSource&&) = delete;
  ~FileSource() override;

  [[nodiscard]] std::uint64_t size() const override { return m_size; }

  [[nodiscard]] Result<std::string> read_at(std::uint64_t offset, std::size_t n) const override;

 private:
  int m_fd;
  std::uint64_t m_size;
  std::string m_name;
};

enum class FileKind { elf, pe, macho, script, archive, text, other };

std::string_view to_string(FileKind k);

struct Classification {
  FileKind kind = FileKind::other;
  std::string arch;  // elf, pe, macho: "x86_64", "aarch64", "i386", "arm", …
  std::string
      detail;  // e.g. "ELF 64-bit LSB pie executable", "PE32+ dll", "Mach-O universal (2 arches)"
  std::optional<bool> pie;       // elf: ET_DYN with PT_INTERP (or DF_1_PIE), i.e. a PIE executable
  std::optional<bool> stripped;  // elf: no .symtab section
  std::string
      interpreter;        // elf: PT_INTERP; script: the shebang's interpreter (env's argument too)
  std::string subsystem;  // pe: "console", "gui", "native", "efi_application", …
  std::optional<bool> authenticode;  // pe: the security data directory is present and non-empty
  std::string format;                // archive: the unpack stage's format name

  // ELF, PE, Mach-O or a script: code that runs.
  [[nodiscard]] bool executable() const {
    return kind == FileKind::elf || kind == FileKind::pe || kind == FileKind::macho
           || kind == FileKind::script;
  }
};

// Classifies a file. archive_format is the unpack stage's format for the entry (empty when it
// is not an archive): non-empty gives kind archive, unless the bytes are ELF, PE, Mach-O or a
// script, which win so that a self-extracting executable still counts as code; format is set
// to archive_format either way. Text is valid UTF-8 without NUL in the first 8 KiB; an empty
// file is other with detail "empty". Reads at most 256 KiB in total whatever the file claims.
// store.io_error only when the source fails to read.
Result<Classification> classify(const ByteSource& src, std::string_view archive_format = {});

// {"kind", and each field that is set}: stable names, for reports and evidence.
json::Json to_json(const Classification& c);

}  // namespace ecluse::diff
