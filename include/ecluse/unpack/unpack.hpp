// The unpack stage: every artifact of a verified drop taken apart, recursively, into the
// content store, with a tree manifest (tree.hpp) kept with the drop and its digest in the
// evidence. Nothing is written outside quarantine/: entries become objects, never files at
// their own paths. Produces UnpackedDrop, the input of the diff stage.
//
// Reason codes: unpack.* (path safety, limits, corrupt input, names and modes, the vendor's
// listing; README's table), store.io_error.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/store/content_store.hpp>
#include <ecluse/store/state_store.hpp>
#include <ecluse/unpack/tree.hpp>
#include <ecluse/verify/verify.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace ecluse::unpack {

class UnpackedDrop {
 public:
  [[nodiscard]] const verify::VerifiedDrop& verified() const { return m_verified; }

  [[nodiscard]] const std::string& id() const { return m_verified.id(); }

  [[nodiscard]] const Tree& tree() const { return m_tree; }

  // What unpack recorded: the tree manifest's digest, counts, formats, limits applied.
  [[nodiscard]] const json::Json& evidence() const { return m_evidence; }

 private:
  friend struct UnpackedDropFactory;

  UnpackedDrop(verify::VerifiedDrop verified, Tree tree, json::Json evidence)
      : m_verified(std::move(verified)), m_tree(std::move(tree)), m_evidence(std::move(evidence)) {}

  verify::VerifiedDrop m_verified;
  Tree m_tree;
  json::Json m_evidence;
};

struct Context {
  const workspace::Workspace& ws;
  const store::ContentStore& objects;
};

struct UnpackRun {
  Result<UnpackedDrop> out;
  json::Json evidence;
  // Names and modes the policy verdict judges (unpack.name_*, .git_path, .setuid, …; the
  // default policy rejects every one). They do not stop the stage.
  std::vector<store::Finding> findings;
};

// Unpacks a verified drop. A rejection (unpack.*) is in out with its evidence; the drop's new
// objects then never enter the store. I/O trouble is a failure to evaluate.
UnpackRun unpack(const Context& ctx, const verify::VerifiedDrop& drop);

// The UnpackedDrop of a drop whose unpack stage is committed: tree.json read back from the
// drop's evidence directory and checked against the digest in the evidence
// (store.object_corrupt when it differs).
Result<UnpackedDrop> reload(const Context& ctx, verify::VerifiedDrop verified, json::Json evidence);

// One file unpacked the way the stage unpacks an artifact (for benchmarks, the fuzz target and
// tools): entries hashed into `objects`, committed only when commit is true. Findings (names,
// modes) are returned, not judged.
struct FileUnpack {
  Entry entry;
  std::vector<store::Finding> findings;
  std::uint64_t bytes = 0;        // unpacked bytes, all levels
  std::uint64_t entries = 0;      // entries, all levels
  std::uint64_t new_objects = 0;  // objects the store did not have
};

Result<FileUnpack> unpack_file(const store::ContentStore& objects,
                               const workspace::UnpackLimits& limits,
                               const std::string& name,
                               const std::filesystem::path& file,
                               bool commit);

// Reads a tree manifest; with want_sha256 non-empty, its bytes must have that digest
// (store.object_corrupt otherwise, and when it is not a tree manifest).
Result<Tree> load_tree(const std::filesystem::path& file, const std::string& want_sha256 = {});

// The name of the tree manifest in quarantine/drops/ID/.
inline constexpr std::string_view k_tree_file = "tree.json";

}  // namespace ecluse::unpack
