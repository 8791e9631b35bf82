// What the sign stage and signed approvals read of a drop: its drop.json and its verdict.
#include "sign_facts.hpp"

#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>

#include "verdict.hpp"

namespace ecluse::pipeline::detail {

Result<intake::DropManifest> load_manifest(const Session& s, const std::string& id) {
  const auto file = s.ws().drops_dir() / id / "drop.json";
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(file,
                                   s.ws().config().limits.max_drop_json_bytes,
                                   reason::k_store_object_missing,
                                   reason::k_store_object_corrupt));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  if (digest.hex() != id) {
    return fail(reason::k_store_object_corrupt,
                file.string() + " no longer matches the drop's id (its SHA-256)",
                file.string());
  }
  auto manifest = intake::parse_drop_manifest(bytes);
  if (!manifest) {
    return fail(reason::k_store_object_corrupt,
                file.string() + ": " + manifest.error().message,
                file.string());
  }
  return std::move(*manifest);
}

Result<json::Json> policy_evidence(const Session& s, const std::string& id) {
  return stage_evidence(s, id, "policy");
}

Result<std::string> verdict_digest(const json::Json& verdict) {
  ECLUSE_TRY(d, crypto::sha256(json::dump_line(verdict)));
  return d.hex();
}

}  // namespace ecluse::pipeline::detail
