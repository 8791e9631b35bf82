// The workspace: one directory holding ecluse.json, the stores, the journal and the repositories.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/signature.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ecluse::workspace {

namespace stdfs = std::filesystem;

// Bounds on what one drop may cost (docs/configuration.md documents each).
struct Limits {
  std::uint64_t max_drop_json_bytes = 1ULL << 20U;  // 1 MiB
  std::uint64_t max_signature_bytes = 1ULL << 20U;  // 1 MiB
  std::uint64_t max_artifacts = 100000;
  std::uint64_t max_artifact_bytes = 64ULL << 30U;  // 64 GiB
  std::uint64_t max_drop_bytes = 256ULL << 30U;     // 256 GiB
};

// Bounds on unpacking one drop (ecluse.json "unpack"; docs/configuration.md documents each).
// A breach stops the stage at once with the limit's reason code.
struct UnpackLimits {
  std::uint64_t max_depth = 4;                     // archives inside archives
  std::uint64_t max_total_bytes = 128ULL << 30U;   // unpacked bytes of the whole drop
  std::uint64_t max_entry_bytes = 16ULL << 30U;    // unpacked bytes of one entry
  std::uint64_t max_entries = 1000000;             // entries of all archives of the drop
  std::uint64_t max_entry_ratio = 250;             // entry bytes / its compressed bytes
  std::uint64_t max_archive_ratio = 100;           // archive's unpacked bytes / its size
  std::uint64_t ratio_floor_bytes = 16ULL << 20U;  // ratios apply past this many bytes
  std::uint64_t max_path_bytes = 4096;             // whole entry path
  std::uint64_t max_name_bytes = 255;              // one path component

  // Every limit with its value, as in ecluse.json's "unpack" section.
  [[nodiscard]] json::Json to_json() const;
};

// How promotions write the channel repositories (ecluse.json "promotion").
struct Promotion {
  int compression = 0;                    // zlib level of loose git objects (0 to 9): stored
  std::string committer_name = "ecluse";  // author and committer of promotion commits
  std::string committer_email = "ecluse@localhost";
  std::uint64_t root_expiry_days = 365;  // TUF metadata lifetimes
  std::uint64_t targets_expiry_days = 90;
  std::uint64_t snapshot_expiry_days = 7;
  std::uint64_t timestamp_expiry_days = 1;
};

// How `ecluse watch` runs (ecluse.json "watch"); its command-line options override these.
struct Watch {
  std::string ready = "marker";              // "marker" (a READY file) or "quiet" (no change)
  std::uint64_t quiet_seconds = 30;          // for "quiet"
  std::uint64_t jobs = 0;                    // drops at once; 0: the number of cores
  std::string promote_to = "preprod";        // signed drops go into this channel; "": none
  std::uint64_t retry_seconds = 15;          // a drop another process holds: looked at again after
  std::uint64_t reverify_every_seconds = 0;  // 0: no scheduled re-verification
};

struct Config {
  std::vector<std::string> channels{"preprod", "prod"};
  std::string incoming = "staging/incoming";  // relative to the workspace, or absolute
  Limits limits;
  UnpackLimits unpack;
  std::uint32_t busy_timeout_ms = 10000;  // how long to wait for a locked state.db
  // The state store: empty for SQLite (state.db), or a libpq connection string for a
  // PostgreSQL database shared by workers on several machines.
  std::string state_connection;
  std::uint64_t lease_seconds = 60;  // leases of drops and jobs: a dead holder's lapse after
  crypto::AlgorithmPolicy signature_policy;  // what a vendor signature may use
  Promotion promotion;
  Watch watch;

  // The full configuration as written to ecluse.json (every key with its value).
  [[nodiscard]] json::Json to_json() const;
  // Reads ecluse.json: unknown keys and out-of-range values are workspace.bad_config;
  // keys that are absent keep their defaults.
  static Result<Config> from_json(const json::Json& j);
};

class Workspace {
 public:
  // Opens an existing workspace (workspace.not_found when dir has no ecluse.json).
  static Result<Workspace> open(const stdfs::path& dir);

  [[nodiscard]] const stdfs::path& root() const { return m_root; }

  [[nodiscard]] const Config& config() const { return m_config; }

  [[nodiscard]] stdfs::path incoming_dir() const;

  [[nodiscard]] stdfs::path objects_dir() const { return m_root / "quarantine" / "objects"; }

  [[nodiscard]] stdfs::path drops_dir() const { return m_root / "quarantine" / "drops"; }

  [[nodiscard]] stdfs::path tmp_dir() const { return m_root / "quarantine" / "tmp"; }

  [[nodiscard]] stdfs::path state_db() const { return m_root / "state.db"; }

  [[nodiscard]] stdfs::path journal_dir() const { return m_root / "journal"; }

  [[nodiscard]] stdfs::path repos_dir() const { return m_root / "repos"; }

  [[nodiscard]] stdfs::path keys_dir() const { return m_root / "keys"; }

  // Pinned vendor trust: trust/VENDOR/ (signatures/README.md documents the layout).
  [[nodiscard]] stdfs::path trust_dir() const { return m_root / "trust"; }

  // Per-drop lock files (flock): one process at a time takes a given drop in.
  [[nodiscard]] stdfs::path locks_dir() const { return m_root / "locks"; }

 private:
  Workspace(stdfs::path root, Config config)
      : m_root(std::move(root)), m_config(std::move(config)) {}

  stdfs::path m_root;
  Config m_config;
};

// Creates the layout of DESIGN.md in dir with a default ecluse.json. Refuses
// (workspace.exists) when dir already holds a workspace or any of its parts.
Result<Workspace> init(const stdfs::path& dir);

// The workspace directory to use: the flag when given, else $ECLUSE_WORKSPACE, else ".".
stdfs::path resolve_dir(const std::string& flag);

}  // namespace ecluse::workspace
