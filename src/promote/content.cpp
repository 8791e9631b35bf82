// What a promotion adds: the signed drop's files (attestations, CMS signatures, approvals)
// and its artifacts, re-hashed against what the sign stage recorded, laid out in tree paths.
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/promote/promote.hpp>

namespace ecluse::promote {

namespace {

constexpr std::uint64_t k_max_evidence_bytes = 64ULL << 20U;

// An evidence file of the drop directory, checked against its recorded SHA-256.
Result<std::string> read_recorded(const std::filesystem::path& drop_dir,
                                  const std::string& rel,
                                  const std::string& sha256) {
  if (rel.empty() || rel.find("..") != std::string::npos || rel.front() == '/') {
    return fail(
        reason::k_store_object_corrupt, "sign evidence names a bad file '" + rel + "'", rel);
  }
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(drop_dir / rel,
                                   k_max_evidence_bytes,
                                   reason::k_store_object_missing,
                                   reason::k_store_object_corrupt));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  if (digest.hex() != sha256) {
    return fail(reason::k_store_object_corrupt,
                "evidence file " + rel + " changed since it was signed (sha256 " + digest.hex()
                    + ", recorded " + sha256 + ")",
                rel);
  }
  return bytes;
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

json::Json pointer(const std::string& path, const std::string& sha256) {
  return {{"path", path}, {"sha256", sha256}};
}

// The attestation envelopes (stage statements, the summary, the approvals) as files.
Result<json::Json> add_attestations(const json::Json& ev,
                                    const json::Json& approvals,
                                    const std::filesystem::path& drop_dir,
                                    const std::string& dir,
                                    std::vector<ReleaseFile>& files) {
  auto list = ev.value("attestations", json::Json::array());
  list.push_back(ev.value("summary", json::Json::object()));
  for (const auto& a : approvals) {
    list.push_back(a.value("envelope", json::Json::object()));
  }
  auto pointers = json::Json::array();
  for (const auto& a : list) {
    const auto rel = a.value("file", std::string());
    const auto sha = a.value("sha256", std::string());
    ECLUSE_TRY(bytes, read_recorded(drop_dir, rel, sha));
    const auto path = dir + "/" + base_name(rel);
    files.push_back({{path}, {}, std::move(bytes), {}});
    pointers.push_back(pointer(path, sha));
  }
  return pointers;
}

}  // namespace

std::string targets_dir(const std::string& product, const std::string& version) {
  return "targets/" + product + "/" + version;
}

std::string attestations_dir(const std::string& product, const std::string& version) {
  return "attestations/" + product + "/" + version;
}

std::string release_file(const std::string& product, const std::string& version) {
  return "releases/" + product + "/" + version + "/release.json";
}

std::string consistent_path(const std::string& target_path, const std::string& sha256) {
  const auto slash = target_path.rfind('/');
  if (slash == std::string::npos) {
    return sha256 + "." + target_path;
  }
  return target_path.substr(0, slash + 1) + sha256 + "." + target_path.substr(slash + 1);
}

Result<ReleaseContent> release_content(const attest::SignedRelease& signed_release,
                                       const intake::DropManifest& manifest,
                                       const std::filesystem::path& drop_dir,
                                       const store::ContentStore& objects,
                                       json::Json summary) {
  ReleaseContent c{manifest.product, manifest.version.text(), signed_release.id(), {}, {}};
  const auto& ev = signed_release.evidence();
  ECLUSE_TRY(attestations,
             add_attestations(ev,
                              summary.value("approvals", json::Json::array()),
                              drop_dir,
                              attestations_dir(c.product, c.version),
                              c.files));
  const auto release_path = release_file(c.product, c.version);
  auto artifacts = json::Json::array();
  for (const auto& a : manifest.artifacts) {
    const auto target = c.product + "/" + c.version + "/" + a.path;
    json::Json custom{{"drop", c.drop_id}, {"attestations", attestations}};
    for (const auto& sig : ev.value("signatures", json::Json::array())) {
      if (sig.value("artifact", std::string()) != a.path) {
        continue;
      }
      const auto sha = sig.value("sha256", std::string());
      ECLUSE_TRY(bytes, read_recorded(drop_dir, sig.value("file", std::string()), sha));
      const auto path = "targets/" + target + ".p7s";
      c.files.push_back({{path}, {}, std::move(bytes), {}});
      custom["signature"] = pointer(path, sha);
    }
    c.files.push_back({{"targets/" + target, "targets/" + consistent_path(target, a.sha256.hex())},
                       objects.object_path(a.sha256),
                       {},
                       {}});
    c.targets.push_back({target, a.size, a.sha256.hex(), {{"ecluse", std::move(custom)}}});
    artifacts.push_back({{"path", a.path}, {"sha256", a.sha256.hex()}, {"length", a.size}});
  }
  summary["schema"] = k_release_schema;
  summary["artifacts"] = std::move(artifacts);
  summary["attestations"] = attestations;
  auto release_bytes = json::dump_pretty(summary) + "\n";
  ECLUSE_TRY(release_sha, crypto::sha256(release_bytes));
  for (auto& t : c.targets) {
    t.custom["ecluse"]["release"] = pointer(release_path, release_sha.hex());
  }
  c.files.push_back({{release_path}, {}, std::move(release_bytes), {}});
  return c;
}

}  // namespace ecluse::promote
