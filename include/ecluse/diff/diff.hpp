// The diff stage: an unpacked drop compared with its baseline (the last accepted release of the
// same vendor, product and channel, or one named explicitly), every added or modified file
// classified and scanned for network endpoints the baseline did not name. Writes diff.json
// (docs/diff-report.md) and endpoints.json into the drop's evidence folder; produces
// DiffedDrop, the input of the policy verdict.
//
// Reason codes: diff.baseline_unreadable (the baseline's manifest or index cannot be read: an
// environment error, never a silent "no baseline"), diff.bad_baseline, store.io_error; the
// findings it records are diff.* (README's table).
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/diff/endpoints.hpp>
#include <ecluse/diff/tree_diff.hpp>
#include <ecluse/store/content_store.hpp>
#include <ecluse/store/state_store.hpp>
#include <ecluse/unpack/unpack.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::diff {

// Endpoints per content digest (hex) of every file of one drop.
using EndpointIndex = std::map<std::string, std::vector<Endpoint>>;

struct Baseline {
  store::DropRecord drop;
  unpack::Tree tree;
  std::optional<EndpointIndex> endpoints;  // nullopt: that drop was never diffed
  std::string source;                      // "accepted" or "explicit"
};

class DiffedDrop {
 public:
  [[nodiscard]] const unpack::UnpackedDrop& unpacked() const { return m_unpacked; }

  [[nodiscard]] const std::string& id() const { return m_unpacked.id(); }

  // What diff recorded: baseline, summary, the digests of diff.json and endpoints.json.
  [[nodiscard]] const json::Json& evidence() const { return m_evidence; }

 private:
  friend struct DiffedDropFactory;

  DiffedDrop(unpack::UnpackedDrop unpacked, json::Json evidence)
      : m_unpacked(std::move(unpacked)), m_evidence(std::move(evidence)) {}

  unpack::UnpackedDrop m_unpacked;
  json::Json m_evidence;
};

struct Context {
  const workspace::Workspace& ws;
  store::StateStore& state;
  const store::ContentStore& objects;
  const std::vector<std::string>& endpoint_allow;  // the policy's allow-list
};

// The baseline of a drop: explicit_id (a short id or full id) when non-empty, else the
// highest-version drop of the same vendor, product and channel that a verdict accepted
// (approved, signed or promoted), other than the drop itself; nullopt for a first release.
Result<std::optional<Baseline>> find_baseline(const Context& ctx,
                                              const store::DropRecord& self,
                                              const std::string& explicit_id);

// An unpacked drop's tree and endpoint index, read as a baseline is (diff.baseline_unreadable).
Result<Baseline> load_release(const Context& ctx,
                              const store::DropRecord& drop,
                              std::string source);

// The analysis of an unpacked drop against the baseline find_baseline() would choose for
// baseline_id, recording nothing (ecluse diff --baseline): the diff document and the findings
// the stage would record. Both tree manifests are read and parsed in parallel.
struct Preview {
  json::Json document;
  std::vector<store::Finding> findings;
};

Result<Preview> preview(const Context& ctx,
                        const store::DropRecord& drop,
                        const std::string& baseline_id);

struct DiffRun {
  Result<DiffedDrop> out;
  json::Json evidence;
  std::vector<store::Finding> findings;
};

// Compares an unpacked drop with its baseline (nullopt: first release).
DiffRun compare(const Context& ctx,
                const unpack::UnpackedDrop& drop,
                const std::optional<Baseline>& baseline);

// The DiffedDrop of a drop whose diff stage is committed (diff.json checked against its digest).
Result<DiffedDrop> reload(const Context& ctx, unpack::UnpackedDrop unpacked, json::Json evidence);

// The diff document of a diffed drop, checked against the digest in its evidence.
Result<json::Json> load_document(const workspace::Workspace& ws,
                                 const std::string& id,
                                 const json::Json& evidence);

inline constexpr std::string_view k_diff_file = "diff.json";
inline constexpr std::string_view k_endpoints_file = "endpoints.json";

}  // namespace ecluse::diff
