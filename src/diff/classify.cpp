// classify: the byte sources, the bounded reader, the order in which formats are tried, and
// the script, text and JSON forms; the binary header parsers live in classify_<format>.cpp.
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/diff/classify.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <utility>
#include <vector>

#include "classify_formats.hpp"

namespace ecluse::diff {

namespace {

// How much of the start of a file decides between text and other (and holds every magic).
constexpr std::size_t k_head_bytes = std::size_t{8} * 1024;
// The kernel reads at most this much of a shebang line (BINPRM_BUF_SIZE).
constexpr std::size_t k_shebang_bytes = 256;

}  // namespace

// ---- byte sources ----------------------------------------------------------------------

Result<std::string> BufferSource::read_at(std::uint64_t offset, std::size_t n) const {
  if (offset >= m_bytes.size()) {
    return std::string();
  }
  const auto at = static_cast<std::size_t>(offset);
  return std::string(m_bytes.substr(at, std::min(n, m_bytes.size() - at)));
}

Result<std::unique_ptr<FileSource>> FileSource::open(const std::filesystem::path& file) {
  // O_NONBLOCK and O_NOCTTY: opening a fifo or a terminal must neither hang nor adopt it;
  // fstat then refuses anything but a regular file.
  const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return fail(reason::k_store_io, fs::errno_message("cannot open", file, errno), file.string());
  }
  fs::UniqueFd owned(fd);

  struct stat st {};

  if (::fstat(fd, &st) != 0) {
    return fail(reason::k_store_io, fs::errno_message("cannot stat", file, errno), file.string());
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(reason::k_store_io,
                "cannot read '" + file.string() + "': not a regular file",
                file.string());
  }
  return std::make_unique<FileSource>(
      owned.release(), static_cast<std::uint64_t>(st.st_size), file.string());
}

FileSource::~FileSource() {
  if (m_fd >= 0) {
    (void)::close(m_fd);
  }
}

Result<std::string> FileSource::read_at(std::uint64_t offset, std::size_t n) const {
  if (offset >= m_size) {
    return std::string();
  }
  std::string out(static_cast<std::size_t>(std::min<std::uint64_t>(n, m_size - offset)), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got =
        ::pread(m_fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return fail(reason::k_store_io, fs::errno_message("cannot read", m_name, errno), m_name);
    }
    if (got == 0) {
      break;  // the file shrank since it was opened
    }
    done += static_cast<std::size_t>(got);
  }
  out.resize(done);
  return out;
}

// ---- reader and fields -----------------------------------------------------------------

namespace detail {

Result<std::string> Reader::read(std::uint64_t offset, std::size_t n) {
  if (offset >= m_size || m_spent >= k_read_budget) {
    return std::string();
  }
  const std::uint64_t want = std::min({std::uint64_t{n}, m_size - offset, k_read_budget - m_spent});
  m_spent += want;
  ECLUSE_TRY(bytes, m_src.read_at(offset, static_cast<std::size_t>(want)));
  if (bytes.size() > want) {
    bytes.resize(static_cast<std::size_t>(want));
  }
  return bytes;
}

std::uint64_t Fields::uint(std::size_t offset, std::size_t width) const {
  if (offset > bytes.size() || width > bytes.size() - offset) {
    return 0;
  }
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const std::size_t at = big_endian ? offset + i : offset + width - 1 - i;
    v = (v << 8U) | static_cast<unsigned char>(bytes[at]);
  }
  return v;
}

std::string hex_label(std::string_view what, std::uint64_t value) {
  std::array<char, 24> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "0x%llx", static_cast<unsigned long long>(value));
  return std::string(what) + " " + buf.data();
}

}  // namespace detail

// ---- scripts and text ------------------------------------------------------------------

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// Splits the shebang line (after "#!") into words separated by blanks.
std::vector<std::string_view> shebang_words(std::string_view head) {
  std::string_view line = head.substr(2, k_shebang_bytes - 2);
  line = line.substr(0, line.find('\n'));
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) {
      ++i;
    }
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i]) && line[i] != '\r') {
      ++i;
    }
    if (i > start) {
      words.push_back(line.substr(start, i - start));
    }
    if (i < line.size() && line[i] == '\r') {
      break;
    }
  }
  return words;
}

bool is_env(std::string_view word) {
  return word == "env" || (word.size() > 4 && word.substr(word.size() - 4) == "/env");
}

// "#!/usr/bin/env [-S] [-i] [NAME=value] X …" runs X: env's options and assignments skipped.
Classification classify_script(std::string_view head) {
  Classification c;
  c.kind = FileKind::script;
  const auto words = shebang_words(head);
  if (words.empty()) {
    c.detail = "script without interpreter";
    return c;
  }
  if (!is_env(words[0])) {
    c.interpreter = printable(words[0]);
    c.detail = "script";
    return c;
  }
  c.detail = "script via " + printable(words[0]);
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (words[i].front() != '-' && words[i].find('=') == std::string_view::npos) {
      c.interpreter = printable(words[i]);
      break;
    }
  }
  return c;
}

// Drops a multi-byte UTF-8 sequence cut off by the end of the window.
std::string_view trim_cut_sequence(std::string_view window) {
  const std::size_t n = window.size();
  for (std::size_t back = 1; back <= std::min<std::size_t>(3, n); ++back) {
    const auto b = static_cast<unsigned char>(window[n - back]);
    if ((b & 0xc0U) == 0x80U) {
      continue;  // continuation byte: keep looking for the lead byte
    }
    const std::size_t need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? window.substr(0, n - back) : window;
  }
  return window;
}

bool is_text(std::string_view head, bool whole_file) {
  const std::string_view window = whole_file ? head : trim_cut_sequence(head);
  return window.find('\0') == std::string_view::npos && is_valid_utf8(window);
}

Classification text_or_other(std::string_view head, bool whole_file) {
  Classification c;
  if (head.empty()) {
    c.detail = "empty";
  } else if (is_text(head, whole_file)) {
    c.kind = FileKind::text;
    const bool ascii = std::all_of(
        head.begin(), head.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
    c.detail = ascii ? "ASCII text" : "UTF-8 text";
  }
  return c;
}

// Executable formats, in the order their magics are tested (they cannot overlap).
Result<std::optional<Classification>> classify_code(detail::Reader& in, std::string_view head) {
  ECLUSE_TRY(elf, detail::classify_elf(in, head));
  if (elf) {
    return elf;
  }
  ECLUSE_TRY(pe, detail::classify_pe(in, head));
  if (pe) {
    return pe;
  }
  ECLUSE_TRY(macho, detail::classify_macho(in, head));
  if (macho) {
    return macho;
  }
  if (head.substr(0, 2) == "#!") {
    return std::optional<Classification>(classify_script(head));
  }
  return std::optional<Classification>();
}

}  // namespace

// ---- classify --------------------------------------------------------------------------

// Code that runs wins over the unpack stage's archive format, so a self-extracting executable
// (a PE with a zip appended, an ELF with a payload) still counts as code; a malformed binary
// header (kind other) does not, and the archive format decides. The format is kept either way.
Result<Classification> classify(const ByteSource& src, std::string_view archive_format) {
  detail::Reader in(src);
  ECLUSE_TRY(head, in.read(0, k_head_bytes));
  ECLUSE_TRY(code, classify_code(in, head));
  Classification c;
  if (code && (code->executable() || archive_format.empty())) {
    c = std::move(*code);
  } else if (!archive_format.empty()) {
    c.kind = FileKind::archive;
    c.detail = "archive";
  } else {
    c = text_or_other(head, head.size() >= src.size());
  }
  c.format = std::string(archive_format);
  return c;
}

std::string_view to_string(FileKind k) {
  switch (k) {
    case FileKind::elf:
      return "elf";
    case FileKind::pe:
      return "pe";
    case FileKind::macho:
      return "macho";
    case FileKind::script:
      return "script";
    case FileKind::archive:
      return "archive";
    case FileKind::text:
      return "text";
    case FileKind::other:
      break;
  }
  return "other";
}

json::Json to_json(const Classification& c) {
  json::Json j{{"kind", std::string(to_string(c.kind))}};
  const auto put_string = [&j](const char* key, const std::string& v) {
    if (!v.empty()) {
      j[key] = v;
    }
  };
  const auto put_bool = [&j](const char* key, const std::optional<bool>& v) {
    if (v) {
      j[key] = *v;
    }
  };
  put_string("arch", c.arch);
  put_string("detail", c.detail);
  put_bool("pie", c.pie);
  put_bool("stripped", c.stripped);
  put_string("interpreter", c.interpreter);
  put_string("subsystem", c.subsystem);
  put_bool("authenticode", c.authenticode);
  put_string("format", c.format);
  return j;
}

}  // namespace ecluse::diff
