// The intake stage: finds a complete drop, copies it into quarantine (hashing while copying)
// and checks it against its drop.json. Produces StagedDrop, the input of every later stage.
//
// Reason codes: intake.* (the drop directory and payload), drop.* (drop.json, see
// drop_manifest.hpp), store.io_error.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/intake/drop_manifest.hpp>
#include <ecluse/store/content_store.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::intake {

namespace stdfs = std::filesystem;

// What is known about a drop before it is checked: enough to record a rejection.
struct DropIdentity {
  std::string id;  // hex SHA-256 of drop.json's bytes (of "no-drop.json:" + path when absent)
  std::string vendor;
  std::string product;
  std::string version;
  std::string channel;
  std::string source;  // absolute path of the drop directory

  [[nodiscard]] std::string short_id() const { return id.substr(0, 12); }
};

// A drop directory whose drop.json has been read once; every later check uses these bytes.
struct DropCandidate {
  DropIdentity who;
  std::optional<std::string> drop_json;  // absent when unreadable (why says so)
  std::optional<Error> why;
};

// Reads drop.json (bounded by limits.max_drop_json_bytes) and computes the drop id.
// Never fails: a missing or unreadable drop.json is carried in `why`.
DropCandidate open_drop(const stdfs::path& dir, const workspace::Limits& limits);

// The output of intake: a drop whose drop.json parsed and whose artifacts are in the content
// store with the listed sizes and digests. Only intake constructs it.
class StagedDrop {
 public:
  [[nodiscard]] const DropIdentity& identity() const { return m_who; }

  [[nodiscard]] const std::string& id() const { return m_who.id; }

  [[nodiscard]] const DropManifest& manifest() const { return m_manifest; }

  // The exact bytes of drop.json that manifest() was parsed from (SHA-256 = id()).
  [[nodiscard]] const std::string& drop_json() const { return m_drop_json; }

  // drop.json.sig as the drop carried it; nullopt when it had none.
  [[nodiscard]] const std::optional<std::string>& signature() const { return m_signature; }

  [[nodiscard]] const stdfs::path& evidence_dir() const { return m_evidence_dir; }

 private:
  friend struct StagedDropFactory;

  StagedDrop(DropIdentity who,
             DropManifest manifest,
             std::string drop_json,
             std::optional<std::string> signature,
             stdfs::path evidence_dir)
      : m_who(std::move(who)),
        m_manifest(std::move(manifest)),
        m_drop_json(std::move(drop_json)),
        m_signature(std::move(signature)),
        m_evidence_dir(std::move(evidence_dir)) {}

  DropIdentity m_who;
  DropManifest m_manifest;
  std::string m_drop_json;
  std::optional<std::string> m_signature;
  stdfs::path m_evidence_dir;
};

struct Context {
  const workspace::Workspace& ws;
  const store::ContentStore& objects;
  const Clock& clock;
  store::ProgressFn progress;  // total bytes copied so far; may be empty
};

// Intake's verdict: the staged drop or the rejection, and the evidence either way.
struct IntakeResult {
  DropIdentity who;
  Result<StagedDrop> staged;
  json::Json evidence;
};

// Checks and copies the candidate into quarantine. On rejection nothing is written: staged
// objects are discarded and quarantine/drops/ID is not created.
IntakeResult intake(const Context& ctx, DropCandidate candidate);

// Rebuilds the StagedDrop of a drop that intake already committed, from quarantine/drops/ID
// (after a restart). store.object_missing or store.object_corrupt when quarantine was damaged.
Result<StagedDrop> reload(const Context& ctx, const std::string& id, const std::string& source);

// Drop directories in dir holding a READY marker, oldest name first.
std::vector<stdfs::path> ready_drops(const stdfs::path& dir);

}  // namespace ecluse::intake
