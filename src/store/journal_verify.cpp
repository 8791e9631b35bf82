// Verification of the audit journal's hash chain. The checks run line by line in an order
// chosen so the first line they name is the one that was tampered with: a line out of
// sequence is named itself (removed or reordered entries) unless it repeats the previous
// seq (then the previous line was inserted); a broken "prev" names the previous line (edited).
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/store/journal.hpp>

#include <optional>
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
    if (!k_fields.contains(key)) {
      return "unexpected field " + json::dump_line(key);
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
  return JournalCheck{false, entries, line, std::move(problem), {}};
}

// The "prev" a later line (or HEAD, after the last line) records for line i (1-based).
std::string recorded_after(const std::vector<std::string>& lines,
                           std::uint64_t i,
                           const json::Json& head) {
  if (i < lines.size()) {
    const auto next = json::parse_strict(lines[i]);
    if (next.value.is_object() && next.value.contains("prev")
        && next.value.at("prev").is_string()) {
      return next.value.at("prev").get<std::string>();
    }
    return {};
  }
  return head.is_object() && head.contains("sha256") && head.at("sha256").is_string()
             ? head.at("sha256").get<std::string>()
             : std::string();
}

JournalCheck check_head(const std::string& text, std::uint64_t n, const std::string& last_hash) {
  if (text.empty()) {
    return bad(n, n == 0 ? 1 : n, "journal/HEAD is missing");
  }
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
  if (head.value.at("sha256") != last_hash) {
    return bad(n, n, "last entry does not match the hash recorded in HEAD (edited)");
  }
  return JournalCheck{true, n, 0, {}, {}};
}

// Checks line i (1-based) against its predecessor; empty when it is in place.
std::optional<JournalCheck> check_line(const std::vector<std::string>& lines,
                                       const std::vector<std::string>& hashes,
                                       std::uint64_t i,
                                       const json::Json& head) {
  const std::uint64_t n = lines.size();
  json::Json entry;
  if (auto problem = shape_problem(lines[i - 1], entry); !problem.empty()) {
    return bad(n, i, problem);
  }
  const auto seq = entry.at("seq").get<std::uint64_t>();
  const std::string expected_prev = i == 1 ? std::string(64, '0') : hashes[i - 2];
  const bool chains = entry.at("prev") == expected_prev;
  if (i > 1 && seq + 1 == i) {
    // Two lines claim one seq: the one that chains onto its predecessor was forged to fit.
    const std::uint64_t inserted = chains ? i : i - 1;
    return bad(n, inserted, "repeats seq " + std::to_string(seq) + " (an entry was inserted)");
  }
  if (seq != i) {
    return bad(n,
               i,
               "seq is " + std::to_string(seq) + ", expected " + std::to_string(i)
                   + " (an entry was removed or reordered)");
  }
  if (!chains) {
    // Either this line's own prev was edited (then what follows no longer matches it either)
    // or the line before it was.
    const bool this_line_intact = recorded_after(lines, i, head) == hashes[i - 1];
    const std::uint64_t edited = this_line_intact && i > 1 ? i - 1 : i;
    return bad(n, edited, "does not match the hash chain (edited)");
  }
  return std::nullopt;
}

}  // namespace

Result<JournalCheck> Journal::verify() const {
  ECLUSE_TRY(snap, snapshot());
  if (!snap.exists) {
    return bad(0, 1, "journal/journal.jsonl is missing");
  }
  bool partial_last = false;
  const auto lines = split_lines(snap.text, partial_last);
  const std::uint64_t n = lines.size();
  std::vector<std::string> hashes;
  for (const auto& line : lines) {
    ECLUSE_TRY(d, crypto::sha256(line));
    hashes.push_back(d.hex());
  }
  const auto head = json::parse_strict(snap.head).value;
  const std::uint64_t complete = partial_last ? n - 1 : n;
  auto with_hashes = [&](JournalCheck c) {
    c.line_hashes = hashes;
    return c;
  };
  for (std::uint64_t i = 1; i <= complete; ++i) {
    if (auto problem = check_line(lines, hashes, i, head)) {
      return with_hashes(*problem);
    }
  }
  if (partial_last) {
    return with_hashes(
        bad(n, n, "incomplete last line (truncated, or torn by a crash: the next append cuts it)"));
  }
  return with_hashes(check_head(snap.head, n, n == 0 ? std::string(64, '0') : hashes.back()));
}

}  // namespace ecluse::store
