// Verification of the audit journal's hash chain. The checks run line by line in an order
// chosen so the first line they name is the one that was tampered with: a line out of
// sequence is named itself (removed or reordered entries) unless it repeats the previous
// seq (then the previous line was inserted); a broken "prev" names the previous line (edited).
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/store/journal.hpp>

#include <set>

namespace ecluse::store {

namespace {

const std::set<std::string> k_fields{"actor", "details", "drop", "event", "prev", "seq", "time"};

std::vector<std::string> split_lines(const std::string& text, bool& partial_last) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      partial_last = true;
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Why a line is not a well-formed entry, or empty when it is.
std::string shape_problem(const std::string& line, json::Json& out) {
  auto parsed = json::parse_strict(line);
  if (parsed.failure != json::ParseFailure::none || !parsed.value.is_object()) {
    return "not a valid JSON entry";
  }
  for (const auto& [key, value] : parsed.value.items()) {
    if (k_fields.count(key) == 0) {
      return "unexpected field '" + key + "'";
    }
  }
  if (parsed.value.size() != k_fields.size() || !parsed.value.at("seq").is_number_unsigned()
      || !parsed.value.at("prev").is_string()) {
    return "missing or mistyped fields";
  }
  if (json::dump_line(parsed.value) != line) {
    return "not in canonical form (edited)";
  }
  out = std::move(parsed.value);
  return {};
}

JournalCheck bad(std::uint64_t entries, std::uint64_t line, std::string problem) {
  return JournalCheck{false, entries, line, std::move(problem)};
}

Result<JournalCheck> check_head(const std::filesystem::path& head_path,
                                std::uint64_t n,
                                const std::string& last_hash) {
  std::error_code ec;
  if (!std::filesystem::exists(head_path, ec)) {
    return n == 0 ? JournalCheck{true, 0, 0, {}} : bad(n, 1, "journal/HEAD is missing");
  }
  ECLUSE_TRY(text,
             fs::read_file_bounded(head_path, 4096, reason::k_journal_io, reason::k_journal_io));
  const auto head = json::parse_strict(text);
  if (head.failure != json::ParseFailure::none || !head.value.is_object()
      || !head.value.contains("seq") || !head.value.at("seq").is_number_unsigned()
      || !head.value.contains("sha256") || !head.value.at("sha256").is_string()) {
    return bad(n, n, "journal/HEAD is malformed");
  }
  const auto seq = head.value.at("seq").get<std::uint64_t>();
  if (seq > n) {
    return bad(n,
               n + 1,
               "journal ends at line " + std::to_string(n) + " but HEAD records "
                   + std::to_string(seq) + " entries (truncated)");
  }
  if (seq < n) {
    return bad(n,
               seq + 1,
               "entries after the last recorded one (HEAD records " + std::to_string(seq) + ")");
  }
  if (n > 0 && head.value.at("sha256") != last_hash) {
    return bad(n, n, "last entry does not match the hash recorded in HEAD (edited)");
  }
  return JournalCheck{true, n, 0, {}};
}

}  // namespace

Result<JournalCheck> Journal::verify() const {
  std::error_code ec;
  std::string text;
  if (std::filesystem::exists(file(), ec)) {
    ECLUSE_TRY(
        content,
        fs::read_file_bounded(file(), UINT64_MAX, reason::k_journal_io, reason::k_journal_io));
    text = std::move(content);
  }
  bool partial_last = false;
  const auto lines = split_lines(text, partial_last);
  const std::uint64_t n = lines.size();
  std::string prev_hash(64, '0');
  for (std::uint64_t i = 1; i <= n; ++i) {
    const auto& line = lines[i - 1];
    if (partial_last && i == n) {
      return bad(n, i, "incomplete last line (truncated)");
    }
    json::Json entry;
    if (auto problem = shape_problem(line, entry); !problem.empty()) {
      return bad(n, i, problem);
    }
    const auto seq = entry.at("seq").get<std::uint64_t>();
    if (seq + 1 == i) {
      return bad(n,
                 i - 1,
                 "line " + std::to_string(i) + " repeats its seq (line " + std::to_string(i - 1)
                     + " was inserted)");
    }
    if (seq != i) {
      return bad(n,
                 i,
                 "seq is " + std::to_string(seq) + ", expected " + std::to_string(i)
                     + " (an entry was removed or reordered)");
    }
    if (entry.at("prev") != prev_hash) {
      return bad(
          n, i == 1 ? 1 : i - 1, "does not match the hash recorded by the next line (edited)");
    }
    ECLUSE_TRY(d, crypto::sha256(line));
    prev_hash = d.hex();
  }
  return check_head(file().parent_path() / "HEAD", n, prev_hash);
}

}  // namespace ecluse::store
