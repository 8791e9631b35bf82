// Consumer verification, part two: every commit's SSH signature by a key the TUF chain gave
// the targets role; metadata versions that never decrease along the first-parent chain
// (a rolled-back snapshot or targets); every tag signed, naming itself, at the commit that
// added its release (a moved tag); every release of the tip tagged.
#include <ecluse/core/base64.hpp>
#include <ecluse/crypto/sshsig.hpp>
#include <ecluse/promote/promote.hpp>

#include <array>
#include <charconv>
#include <map>

#include "verify_detail.hpp"

namespace ecluse::promote::detail {

namespace {

constexpr std::string_view k_ed25519_spki_prefix = "302a300506032b6570032100";
constexpr std::array<const char*, 3> k_versioned{"timestamp.json", "snapshot.json", "targets.json"};

Result<crypto::PublicKey> key_of(const json::Json& key, const std::string& keyid) {
  const auto pub = key.value("keyval", json::Json::object()).value("public", std::string());
  if (key.value("keytype", std::string()) != "ed25519") {
    return crypto::parse_public_key(pub, reason::k_tuf_bad_metadata, "root key " + keyid);
  }
  std::string der;
  const auto hex = std::string(k_ed25519_spki_prefix) + pub;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    unsigned byte = 0;
    const auto* first = hex.data() + i;
    if (std::from_chars(first, first + 2, byte, 16).ptr != first + 2) {
      return fail(reason::k_tuf_bad_metadata, "root key " + keyid + " is not hex", keyid);
    }
    der.push_back(static_cast<char>(byte));
  }
  return crypto::parse_public_key(der, reason::k_tuf_bad_metadata, "root key " + keyid);
}

// The metadata versions a tree holds (unverified: compared between commits only).
std::array<std::uint64_t, 3> versions_of(const repo::Repository& r, const repo::Tree& tree) {
  std::array<std::uint64_t, 3> out{};
  for (std::size_t i = 0; i < k_versioned.size(); ++i) {
    const auto it = tree.find(std::string("metadata/") + k_versioned.at(i));
    const auto bytes = it == tree.end() ? Result<std::string>("") : r.read_blob(it->second.blob);
    const auto doc = json::parse_strict(bytes ? *bytes : "");
    if (doc.failure == json::ParseFailure::none && doc.value.is_object()) {
      const auto s = doc.value.value("signed", json::Json::object());
      const auto v = s.find("version");
      out.at(i) = v != s.end() && v->is_number_unsigned() ? v->get<std::uint64_t>() : 0;
    }
  }
  return out;
}

bool is_release_record(const std::string& path) {
  return path.starts_with("releases/") && path.ends_with("/release.json");
}

// The key that signed, when it verifies and is trusted (problems reported otherwise).
struct SignatureReasons {
  const Reason& missing;
  const Reason& invalid;
};

std::optional<crypto::PublicKey> check_signature(const Checker& c,
                                                 const std::string& what,
                                                 const std::string& signature,
                                                 const std::string& payload,
                                                 const SignatureReasons& why) {
  const auto& unsigned_reason = why.missing;
  const auto& invalid_reason = why.invalid;
  if (signature.empty()) {
    c.add(unsigned_reason, what + " is not signed", what);
    return std::nullopt;
  }
  auto key = crypto::ssh::verify(signature, payload, "git");
  if (!key) {
    c.add(invalid_reason, what + ": " + key.error().message, what);
    return std::nullopt;
  }
  if (!c.trusted(*key)) {
    c.add(invalid_reason,
          what + " is signed by key " + key->key_id() + ", not a release key of the TUF root",
          what);
    return std::nullopt;
  }
  return std::move(*key);
}

bool is_versioned_metadata(const std::string& path) {
  return path.starts_with("metadata/") && path.size() > 9 && path[9] >= '0' && path[9] <= '9';
}

// A commit on the chain: signed by a targets key of the root its own tree holds (a key
// rotated out or revoked signs nothing after that), and it rewrites no versioned metadata
// file its parent holds (N.root.json above all: the trust anchors of verifiers).
void check_chain_commit(const Checker& c,
                        const repo::Oid& id,
                        const repo::Tree& tree,
                        const repo::Tree* parent_tree,
                        const std::map<repo::Oid, crypto::PublicKey>& signers) {
  const auto signer = signers.find(id);
  const auto root = tree.find("metadata/root.json");
  if (signer != signers.end() && root != tree.end()) {
    const auto bytes = c.repo.read_blob(root->second.blob);
    const auto keys = bytes ? root_targets_keys(*bytes)
                            : Result<std::vector<crypto::PublicKey>>(tl::unexpected(bytes.error()));
    const bool listed = keys && std::any_of(keys->begin(), keys->end(), [&](const auto& k) {
                          return k.der() == signer->second.der();
                        });
    if (!listed) {
      c.add(reason::k_repo_commit_signature,
            "commit " + id + " is signed by key " + signer->second.key_id()
                + ", which the root in its own tree does not list for targets (rotated out or revoked)",
            id);
    }
  }
  if (parent_tree == nullptr) {
    return;
  }
  for (const auto& [path, e] : *parent_tree) {
    const auto it = tree.find(path);
    if (is_versioned_metadata(path) && (it == tree.end() || it->second.blob != e.blob)) {
      std::string message = "commit " + id;
      message += " rewrites or removes " + path;
      message += ", which an earlier commit published";
      c.add(reason::k_tuf_bad_metadata, std::move(message), path);
    }
  }
}

// Walks the first-parent chain from the tip: versions never decrease, and the oldest commit
// holding each release record (the one that added it).
Result<std::map<std::string, repo::Oid>> walk_chain(
    const Checker& c,
    const std::map<repo::Oid, repo::CommitInfo>& commits,
    const std::map<repo::Oid, crypto::PublicKey>& signers,
    const repo::Oid& tip,
    const repo::Tree& tip_tree) {
  std::map<std::string, repo::Oid> added;
  auto child = versions_of(c.repo, tip_tree);
  repo::Oid cur = tip;
  repo::Tree tree = tip_tree;
  while (true) {
    for (const auto& [path, e] : tree) {
      if (is_release_record(path)) {
        added[path] = cur;
      }
    }
    const auto& info = commits.at(cur);
    if (info.parents.empty()) {
      check_chain_commit(c, cur, tree, nullptr, signers);
      return added;
    }
    const auto parent = info.parents.front();
    ECLUSE_TRY(parent_tree, c.repo.read_tree(parent));
    check_chain_commit(c, cur, tree, &parent_tree, signers);
    const auto v = versions_of(c.repo, parent_tree);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v.at(i) > child.at(i)) {
        c.add(reason::k_tuf_rollback,
              std::string("commit ") + cur + " lowers " + k_versioned.at(i) + " from version "
                  + std::to_string(v.at(i)) + " to " + std::to_string(child.at(i)),
              cur);
      }
    }
    child = v;
    cur = parent;
    tree = std::move(parent_tree);
  }
}

Status check_tag(const Checker& c,
                 const std::string& name,
                 const std::map<repo::Oid, repo::CommitInfo>& commits,
                 const std::map<std::string, repo::Oid>& added) {
  std::optional<repo::TagInfo> tag;
  if (c.opts.tags) {
    ECLUSE_TRY(read, c.repo.read_tag(c.opts.tags->at(name)));
    tag = std::move(read);
  } else {
    ECLUSE_TRY(read, c.repo.tag(name));
    tag = std::move(read);
  }
  const auto what = "tag " + name;
  if (!tag || tag->id.empty()) {
    c.add(reason::k_repo_tag_invalid, what + " is not an annotated, signed tag", name);
    return {};
  }
  ++c.report.tags;
  (void)check_signature(c,
                        what,
                        tag->signature,
                        tag->signed_payload,
                        {reason::k_repo_tag_invalid, reason::k_repo_tag_invalid});
  if (tag->tag_name != name) {
    c.add(reason::k_repo_tag_invalid, what + " holds the tag object of " + tag->tag_name, name);
  }
  const auto it = added.find("releases/" + name + "/release.json");
  if (!commits.contains(tag->target)) {
    c.add(reason::k_repo_tag_invalid,
          what + " names commit " + tag->target
              + ", which is not on the branch (a rollback or a moved tag)",
          name);
  } else if (it == added.end() || it->second != tag->target) {
    c.add(reason::k_repo_tag_invalid,
          what + " names commit " + tag->target
              + ", not the one that promoted the release (a moved tag)",
          name);
  }
  return {};
}

}  // namespace

Result<std::vector<crypto::PublicKey>> root_targets_keys(std::string_view root_json) {
  const auto doc = json::parse_strict(root_json);
  const auto& root = doc.value;
  if (doc.failure != json::ParseFailure::none || !root.is_object() || !root.contains("signed")
      || !root.at("signed").is_object()) {
    return fail(reason::k_tuf_bad_metadata, "the trusted root is not TUF root metadata", "root");
  }
  const auto& s = root.at("signed");
  const auto keys = s.value("keys", json::Json::object());
  const auto role = s.value("roles", json::Json::object()).value("targets", json::Json::object());
  std::vector<crypto::PublicKey> out;
  for (const auto& id : role.value("keyids", json::Json::array())) {
    if (id.is_string() && keys.contains(id.get<std::string>())) {
      ECLUSE_TRY(key, key_of(keys.at(id.get<std::string>()), id.get<std::string>()));
      out.push_back(std::move(key));
    }
  }
  return out;
}

Status check_history(const Checker& c, const repo::Oid& tip, const repo::Tree& tip_tree) {
  ECLUSE_TRY(list, c.repo.history(tip));
  std::map<repo::Oid, repo::CommitInfo> commits;
  std::map<repo::Oid, crypto::PublicKey> signers;
  for (auto& info : list) {
    auto signer =
        check_signature(c,
                        "commit " + info.id,
                        info.signature,
                        info.signed_payload,
                        {reason::k_repo_commit_unsigned, reason::k_repo_commit_signature});
    if (signer) {
      signers.emplace(info.id, std::move(*signer));
    }
    commits.emplace(info.id, std::move(info));
  }
  c.report.commits = commits.size();
  ECLUSE_TRY(added, walk_chain(c, commits, signers, tip, tip_tree));
  std::vector<std::string> names;
  if (c.opts.tags) {
    for (const auto& [name, id] : *c.opts.tags) {
      names.push_back(name);
    }
  } else {
    ECLUSE_TRY(listed, c.repo.tag_names());
    names = std::move(listed);
  }
  for (const auto& name : names) {
    ECLUSE_CHECK(check_tag(c, name, commits, added));
  }
  for (const auto& [path, e] : tip_tree) {
    if (!is_release_record(path)) {
      continue;
    }
    const auto name = path.substr(9, path.size() - 9 - 13);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      c.add(reason::k_repo_tag_invalid, "release " + name + " has no tag", name);
    }
  }
  return {};
}

}  // namespace ecluse::promote::detail
