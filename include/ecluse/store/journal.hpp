// The audit journal: append-only JSON lines, each chained to the previous by SHA-256.
//
// journal/journal.jsonl holds one entry per line:
//   {"actor","details","drop","event","prev","seq","time"}   (keys sorted, ASCII only)
// where prev is the hex SHA-256 of the previous line's bytes (64 zeros for the first) and seq
// counts from 1. journal/HEAD records the last seq and line hash so truncation is detected.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ecluse::store {

struct JournalEntry {
  std::string time;   // RFC 3339 UTC
  std::string actor;  // "cli:USER", "watcher", …
  std::string drop;   // drop id, or empty
  std::string event;  // dotted event name, e.g. "intake.received"
  json::Json details = json::Json::object();
};

struct JournalCheck {
  bool ok = true;
  std::uint64_t entries = 0;             // lines read
  std::uint64_t first_bad_line = 0;      // 1-based; 0 when ok
  std::string problem;                   // what is wrong at first_bad_line
  std::vector<std::string> line_hashes;  // SHA-256 of each line read, in order
};

// The last entry: its seq and the SHA-256 of its line (as journal/HEAD records them).
struct JournalHead {
  std::uint64_t seq = 0;
  std::string hash;
};

class Journal {
 public:
  explicit Journal(std::filesystem::path dir) : m_dir(std::move(dir)) {}

  // Appends one entry durably (fsync) under an exclusive lock, so concurrent writers from
  // several processes chain correctly. Strings are escaped: no entry can forge another.
  // A torn last line (a crash mid-write) is cut off first and the cut is journaled
  // ("journal.repaired", with the removed bytes' length and SHA-256).
  Status append(const JournalEntry& entry) const;

  // All entries, parsed (journal.tampered for a line that is not a JSON object).
  Result<std::vector<json::Json>> entries() const;

  // Re-walks the chain and HEAD; names the first line that was edited, removed, inserted,
  // reordered or truncated. Errors only when the journal cannot be read at all.
  Result<JournalCheck> verify() const;

  // journal/HEAD as recorded (seq 0 when the journal is empty).
  Result<JournalHead> head() const;

  // Signed checkpoints (journal/checkpoints.jsonl, one JSON object per line, docs/keys.md):
  // appended durably under a lock; read back in order (journal.tampered for a line that is
  // not a JSON object).
  Status add_checkpoint(const json::Json& checkpoint) const;
  Result<std::vector<json::Json>> checkpoints() const;
  // The seq the last checkpoint line names (0 when none), read from the file's tail.
  Result<std::uint64_t> last_checkpoint_seq() const;

 private:
  // journal.jsonl and HEAD read together under a shared lock (appends hold it exclusively).
  struct Snapshot {
    bool exists = false;
    std::string text;
    std::string head;  // empty when HEAD is absent
  };

  [[nodiscard]] Result<Snapshot> snapshot() const;
  Status append_locked(int fd, const std::filesystem::path& path, const JournalEntry& entry) const;

  [[nodiscard]] std::filesystem::path file() const { return m_dir / "journal.jsonl"; }

  std::filesystem::path m_dir;
};

}  // namespace ecluse::store
