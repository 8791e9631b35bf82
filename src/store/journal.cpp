// The hash-chained audit journal. Invariant: line N's "prev" is the SHA-256 of line N-1's exact
// bytes and its "seq" is N; HEAD names the last line; lines are written by one
// serialiser that escapes every control and non-ASCII character, so one entry is one line.
#include <ecluse/core/fault.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/store/journal.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>
#include <sstream>

namespace ecluse::store {

namespace {

const std::string k_zero_hash(64, '0');

struct Head {
  std::uint64_t seq = 0;
  std::string hash = k_zero_hash;
};

tl::unexpected<Error> io(std::string_view what, const std::filesystem::path& p) {
  return fail(reason::k_journal_io, fs::errno_message(what, p, errno), p.string());
}

Result<std::string> line_hash(std::string_view line) {
  ECLUSE_TRY(d, crypto::sha256(line));
  return d.hex();
}

// Reads the last complete line of the file (the journal is append-only, so the tail suffices).
Result<std::string> last_line(int fd, const std::filesystem::path& p) {
  struct stat st {};

  if (::fstat(fd, &st) != 0) {
    return io("cannot stat", p);
  }
  std::string tail;
  auto end = static_cast<std::uint64_t>(st.st_size);
  constexpr std::uint64_t k_step = 65536;
  while (end > 0) {
    const std::uint64_t start = end > k_step ? end - k_step : 0;
    std::string chunk(end - start, '\0');
    if (::pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(start))
        != static_cast<ssize_t>(chunk.size())) {
      return io("cannot read", p);
    }
    tail.insert(0, chunk);
    const auto body_end = tail.size() - (tail.back() == '\n' ? 1 : 0);
    const auto nl = tail.rfind('\n', body_end == 0 ? 0 : body_end - 1);
    if (nl != std::string::npos && nl < body_end) {
      return tail.substr(nl + 1, body_end - nl - 1);
    }
    end = start;
  }
  return tail.empty() ? tail : tail.substr(0, tail.size() - (tail.back() == '\n' ? 1 : 0));
}

Result<Head> head_of_line(const std::string& line) {
  Head h;
  if (line.empty()) {
    return h;
  }
  const auto parsed = json::parse_strict(line);
  if (parsed.failure != json::ParseFailure::none || !parsed.value.contains("seq")
      || !parsed.value.at("seq").is_number_unsigned()) {
    return fail(reason::k_journal_tampered,
                "the journal's last line is not a valid entry; run 'ecluse log --verify'");
  }
  h.seq = parsed.value.at("seq").get<std::uint64_t>();
  ECLUSE_TRY(hash, line_hash(line));
  h.hash = hash;
  return h;
}

Result<std::string> read_all(int fd, const std::filesystem::path& p) {
  std::string out;
  std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(out.size()));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io("cannot read", p);
    }
    if (n == 0) {
      return out;
    }
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
}

// Cuts an unterminated last line (left by a crash mid-write); returns what was cut.
Result<std::optional<json::Json>> cut_torn_tail(int fd, const std::filesystem::path& p) {
  struct stat st {};

  if (::fstat(fd, &st) != 0) {
    return io("cannot stat", p);
  }
  if (st.st_size == 0) {
    return std::optional<json::Json>{};
  }
  char last = '\n';
  if (::pread(fd, &last, 1, st.st_size - 1) != 1) {
    return io("cannot read", p);
  }
  if (last == '\n') {
    return std::optional<json::Json>{};
  }
  ECLUSE_TRY(text, read_all(fd, p));
  const auto nl = text.rfind('\n');
  const std::size_t keep = nl == std::string::npos ? 0 : nl + 1;
  ECLUSE_TRY(cut_hash, crypto::sha256(std::string_view(text).substr(keep)));
  if (::ftruncate(fd, static_cast<off_t>(keep)) != 0 || ::fdatasync(fd) != 0) {
    return io("cannot repair", p);
  }
  return std::optional<json::Json>{
      json::Json{{"removed_bytes", text.size() - keep}, {"removed_sha256", cut_hash.hex()}}};
}

json::Json entry_json(const JournalEntry& e, const Head& prev) {
  return json::Json{{"seq", prev.seq + 1},
                    {"time", e.time},
                    {"actor", e.actor},
                    {"drop", e.drop},
                    {"event", e.event},
                    {"details", e.details},
                    {"prev", prev.hash}};
}

}  // namespace

Status Journal::append(const JournalEntry& entry) const {
  const auto path = file();
  const fs::UniqueFd fd(
      ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) {
    return io("cannot open", path);
  }
  if (::flock(fd.get(), LOCK_EX) != 0) {
    return io("cannot lock", path);
  }
  ECLUSE_TRY(repair, cut_torn_tail(fd.get(), path));
  if (repair) {
    ECLUSE_CHECK(append_locked(
        fd.get(), path, JournalEntry{entry.time, "ecluse", "", "journal.repaired", *repair}));
  }
  return append_locked(fd.get(), path, entry);
  // The lock is released when fd closes.
}

Status Journal::append_locked(int fd,
                              const std::filesystem::path& path,
                              const JournalEntry& entry) const {
  ECLUSE_TRY(tail, last_line(fd, path));
  ECLUSE_TRY(prev, head_of_line(tail));
  const std::string line = json::dump_line(entry_json(entry, prev));
  ECLUSE_CHECK(fs::write_all(fd, line + "\n", path, reason::k_journal_io));
  if (::fdatasync(fd) != 0) {
    return io("cannot sync", path);
  }
  fault_point("journal.appended");
  ECLUSE_TRY(hash, line_hash(line));
  const json::Json head{{"seq", prev.seq + 1}, {"sha256", hash}};
  return fs::write_file_atomic(m_dir / "HEAD", json::dump_line(head) + "\n", reason::k_journal_io);
}

Result<Journal::Snapshot> Journal::snapshot() const {
  Snapshot snap;
  const auto path = file();
  const fs::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return snap;
    }
    return io("cannot open", path);
  }
  if (::flock(fd.get(), LOCK_SH) != 0) {
    return io("cannot lock", path);
  }
  snap.exists = true;
  ECLUSE_TRY(text, read_all(fd.get(), path));
  snap.text = std::move(text);
  const auto head_path = m_dir / "HEAD";
  const fs::UniqueFd head(::open(head_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (head.valid()) {
    ECLUSE_TRY(head_text, read_all(head.get(), head_path));
    snap.head = std::move(head_text);
  } else if (errno != ENOENT) {
    return io("cannot open", head_path);
  }
  return snap;
}

Result<std::vector<json::Json>> Journal::entries() const {
  ECLUSE_TRY(snap, snapshot());
  std::vector<json::Json> out;
  std::istringstream in(snap.text);
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto parsed = json::parse_strict(line);
    if (parsed.failure != json::ParseFailure::none || !parsed.value.is_object()) {
      return fail(reason::k_journal_tampered,
                  "journal line " + std::to_string(n) + " is not a valid entry");
    }
    out.push_back(std::move(parsed.value));
  }
  return out;
}

Result<JournalHead> Journal::head() const {
  // HEAD is replaced by rename, so one read sees one whole version of it.
  const auto path = m_dir / "HEAD";
  const fs::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return JournalHead{0, k_zero_hash};
    }
    return io("cannot open", path);
  }
  ECLUSE_TRY(text, read_all(fd.get(), path));
  const auto parsed = json::parse_strict(text);
  if (parsed.failure != json::ParseFailure::none || !parsed.value.is_object()
      || !parsed.value.contains("seq") || !parsed.value.at("seq").is_number_unsigned()
      || !parsed.value.contains("sha256") || !parsed.value.at("sha256").is_string()) {
    return fail(reason::k_journal_tampered, "journal/HEAD is malformed; run 'ecluse log --verify'");
  }
  return JournalHead{parsed.value.at("seq").get<std::uint64_t>(),
                     parsed.value.at("sha256").get<std::string>()};
}

Result<std::uint64_t> Journal::last_checkpoint_seq() const {
  const auto path = m_dir / "checkpoints.jsonl";
  const fs::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return std::uint64_t{0};
    }
    return io("cannot open", path);
  }
  ECLUSE_TRY(line, last_line(fd.get(), path));
  if (line.empty()) {
    return std::uint64_t{0};
  }
  const auto parsed = json::parse_strict(line);
  if (parsed.failure != json::ParseFailure::none || !parsed.value.is_object()
      || !parsed.value.contains("seq") || !parsed.value.at("seq").is_number_unsigned()) {
    return fail(reason::k_journal_tampered,
                "the last line of journal/checkpoints.jsonl is not a checkpoint");
  }
  return parsed.value.at("seq").get<std::uint64_t>();
}

Status Journal::add_checkpoint(const json::Json& checkpoint) const {
  const auto path = m_dir / "checkpoints.jsonl";
  const fs::UniqueFd fd(
      ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) {
    return io("cannot open", path);
  }
  if (::flock(fd.get(), LOCK_EX) != 0) {
    return io("cannot lock", path);
  }
  ECLUSE_CHECK(
      fs::write_all(fd.get(), json::dump_line(checkpoint) + "\n", path, reason::k_journal_io));
  if (::fdatasync(fd.get()) != 0) {
    return io("cannot sync", path);
  }
  return {};
}

Result<std::vector<json::Json>> Journal::checkpoints() const {
  const auto path = m_dir / "checkpoints.jsonl";
  const fs::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  std::vector<json::Json> out;
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return out;
    }
    return io("cannot open", path);
  }
  if (::flock(fd.get(), LOCK_SH) != 0) {
    return io("cannot lock", path);
  }
  ECLUSE_TRY(text, read_all(fd.get(), path));
  std::istringstream in(text);
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto parsed = json::parse_strict(line);
    if (parsed.failure != json::ParseFailure::none || !parsed.value.is_object()) {
      return fail(reason::k_journal_tampered,
                  "journal/checkpoints.jsonl line " + std::to_string(n) + " is not a JSON object");
    }
    out.push_back(std::move(parsed.value));
  }
  return out;
}

}  // namespace ecluse::store
