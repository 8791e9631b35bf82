// Shared helpers of the promote tests (fixture.hpp).
#include "unit/promote/fixture.hpp"

#include <ecluse/crypto/dsse.hpp>

#include <doctest/doctest.h>

#include <map>
#include <utility>

namespace ecluse::test {

const crypto::SigningKey& key(int slot) {
  static std::map<int, crypto::SigningKey> k_keys;
  if (const auto it = k_keys.find(slot); it != k_keys.end()) {
    return it->second;
  }
  auto generated = crypto::generate_key(crypto::KeyType::ecdsa_p256);
  REQUIRE(generated.has_value());
  const TempDir dir;
  const auto file = dir / "key.pem";
  write_file(file, std::string(generated->private_pem.view()));
  stdfs::permissions(file, stdfs::perms::owner_read | stdfs::perms::owner_write);
  auto loaded = crypto::load_pem_key(file, "");
  REQUIRE_MESSAGE(loaded.has_value(), (loaded ? "" : loaded.error().to_string()));
  return k_keys.emplace(slot, std::move(*loaded)).first->second;
}

tuf::RoleKeys role(const crypto::SigningKey& k) {
  return tuf::RoleKeys{{k.public_key()}, 1};
}

promote::Signers KeySet::signers() const {
  return promote::Signers{
      release, all, tuf::Roles{role(root), role(release), role(release), role(release)}};
}

const KeySet& ours() {
  static const KeySet k_set(key(0), key(1));
  return k_set;
}

const KeySet& theirs() {
  static const KeySet k_set(key(2), key(3));
  return k_set;
}

promote::CommitOptions options(TimePoint now) {
  return promote::CommitOptions{
      repo::Identity{"ecluse", "ecluse@localhost", now.time_since_epoch().count()},
      now,
      tuf::Expiries{},
      "prod"};
}

json::Json pointer(const std::string& path, const std::string& sha256) {
  return {{"path", path}, {"sha256", sha256}};
}

json::Json add_attestation(promote::ReleaseContent& c, const json::Json& statement) {
  const auto path = promote::attestations_dir(c.product, c.version) + "/sign.dsse.json";
  const std::array<const crypto::SigningKey*, 1> keys{&ours().release};
  const auto envelope = crypto::dsse::serialise(must(crypto::dsse::sign(
      std::string(crypto::dsse::k_in_toto_type), json::dump_line(statement), keys)));
  c.files.push_back({{path}, {}, envelope, {}});
  return json::Json::array({pointer(path, sha256_hex(envelope))});
}

std::string add_artifact(promote::ReleaseContent& c,
                         const stdfs::path& file,
                         const std::string& name,
                         const std::string& bytes,
                         const json::Json& attestations) {
  const auto target = c.product + "/" + c.version + "/" + name;
  const auto sha = sha256_hex(bytes);
  write_file(file, bytes);
  json::Json custom{{"drop", c.drop_id}, {"attestations", attestations}};
  if (name == "agent.tar.gz") {
    const std::string p7s = "CMS over " + target + "\n";
    const auto path = "targets/" + target + ".p7s";
    c.files.push_back({{path}, {}, p7s, {}});
    custom["signature"] = pointer(path, sha256_hex(p7s));
  }
  c.files.push_back(
      {{"targets/" + target, "targets/" + promote::consistent_path(target, sha)}, file, {}, {}});
  c.targets.push_back({target, bytes.size(), sha, {{"ecluse", std::move(custom)}}});
  return sha;
}

void add_release_file(promote::ReleaseContent& c, const json::Json& summary) {
  const auto bytes = json::dump_pretty(summary) + "\n";
  const auto path = promote::release_file(c.product, c.version);
  for (auto& t : c.targets) {
    t.custom["ecluse"]["release"] = pointer(path, sha256_hex(bytes));
  }
  c.files.push_back({{path}, {}, bytes, {}});
}

ChannelRepo::ChannelRepo() : repo(must(repo::Repository::create(dir / "prod.git"))) {}

std::optional<repo::Oid> ChannelRepo::branch() const {
  return must(repo.branch("main"));
}

promote::ChannelState ChannelRepo::state() const {
  return must(promote::read_state(repo, "main"));
}

std::string ChannelRepo::trusted_root() const {
  const auto st = state();
  REQUIRE(st.metadata.contains("1.root.json"));
  return st.metadata.at("1.root.json");
}

Run ChannelRepo::git(const std::string& args) const {
  return run("HOME=" + dir.path().string()
             + " GIT_CONFIG_NOSYSTEM=1 git -c safe.directory='*' -c user.name=t"
             + " -c user.email=t@t --git-dir=" + repo.path().string() + " " + args);
}

void ChannelRepo::fsck_clean() const {
  const auto f = git("fsck --strict --no-dangling");
  CHECK_MESSAGE(f.status == 0, f.out);
  CHECK_MESSAGE(f.out.find("error") == std::string::npos, f.out);
  CHECK_MESSAGE(f.out.find("warning") == std::string::npos, f.out);
}

}  // namespace ecluse::test
