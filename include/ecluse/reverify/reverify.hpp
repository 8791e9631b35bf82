// Trigger three: scheduled re-verification of everything promoted (`ecluse reverify`). For
// each channel repository: the branch still descends from the head remembered at the last run
// (history is never rewritten); the whole consumer verification (promote::verify_channel:
// TUF chain and expiries, every target re-hashed on every core, attestations, commit and tag
// signatures); the key state now (a key the channel's TUF roles trust or that signed a
// release's verification summary is revoked in the key list); each artifact's operator CMS
// signature against the operator CA now; the vendor's signature of each release's drop
// against the vendor trust store now. Then the journal chain and its checkpoints. Before the
// timestamp or snapshot expire (or when the key list's roles changed), the channel's metadata
// is re-signed in a new commit. A fresh SLSA verification summary is signed for each release
// checked; the report (JSON and text) goes to reports/reverify/, the run into the journal.
// Policy (policy.json "reverify": {"demote": true}) withdraws a release that fails.
//
// Reason codes of problems: reverify.*, tuf.*, repo.*, attest.*, journal.*, signature.*,
// verify.*; errors: state.lease_held (another run is going), store.*, keys.*.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/pipeline/driver.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::reverify {

struct Options {
  std::vector<std::string> channels;  // empty: every channel of ecluse.json
  unsigned threads = 0;               // hashing: 0 for one thread per core
  bool refresh = true;                // re-sign timestamp and snapshot when due
  // Re-sign when the timestamp or snapshot expires within this (default: the timestamp's
  // whole lifetime, so a daily run always keeps a day ahead).
  std::optional<std::chrono::seconds> refresh_within;
  // Judge expiries and certificates as of this time instead of now (what will have expired
  // by then); nothing is re-signed.
  std::optional<TimePoint> at;
};

struct Problem {
  std::string channel;  // empty for the journal
  std::string release;  // "PRODUCT/VERSION" when the problem is one release's
  std::string reason;
  std::string message;
  std::string item;
};

struct ChannelResult {
  std::string channel;
  std::string head;                            // after the run (empty: no commit yet)
  json::Json verified = json::Json::object();  // promote::ChannelReport::to_json()
  std::vector<std::string> releases;
  std::string refreshed;  // the commit that re-signed the metadata, when one did
  std::vector<std::string> demoted;
  std::vector<std::string> summaries;  // the verification summaries written
};

struct Report {
  std::string run_at;
  std::vector<ChannelResult> channels;
  json::Json journal = json::Json::object();
  std::vector<Problem> problems;
  std::uint64_t bytes_hashed = 0;
  double hash_seconds = 0;  // wall time of the verification (hashing included)
  double seconds = 0;
  std::filesystem::path json_file;
  std::filesystem::path text_file;

  [[nodiscard]] bool ok() const { return problems.empty(); }

  [[nodiscard]] json::Json to_json() const;
  [[nodiscard]] std::string to_text() const;
};

// Runs every check above under the lease "reverify"; problems are in the report, errors are
// failures to run at all.
Result<Report> reverify(const pipeline::Session& s, const Options& opts);

}  // namespace ecluse::reverify
