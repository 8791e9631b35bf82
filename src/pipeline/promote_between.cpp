// Promotion from one channel to another (preprod → prod): the release's evidence is verified
// again in the source repository, the target channel's gate applied, and its blobs copied
// across as stored.
#include <ecluse/attest/attest.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/pipeline/promote.hpp>
#include <ecluse/pipeline/sign.hpp>
#include <ecluse/policy/policy.hpp>
#include <ecluse/promote/verify_channel.hpp>

#include <set>

#include "promote_keys.hpp"

namespace ecluse::pipeline {

namespace {

// The source channel's own verification of the release, from its first root.
Status recheck(const Session& s,
               const repo::Repository& src,
               const promote::ChannelState& st,
               const std::string& name) {
  const auto root = st.metadata.find("1.root.json");
  if (root == st.metadata.end()) {
    return fail(reason::k_promote_evidence, "the source channel has no TUF root", name);
  }
  ECLUSE_TRY(report,
             promote::verify_channel(
                 src, {root->second, s.clock().now(), name, "main", st.head, std::nullopt}));
  if (!report.ok()) {
    const auto& p = report.problems.front();
    return fail(reason::k_promote_evidence,
                name + " does not verify in the source channel: " + p.reason + ": " + p.message,
                p.item);
  }
  // The summary against today's key list: a release key revoked since stops the promotion.
  const auto slash = name.find('/');
  const auto path = promote::attestations_dir(name.substr(0, slash), name.substr(slash + 1))
                    + "/verification-summary.dsse.json";
  const auto it = st.tree.find(path);
  if (it == st.tree.end()) {
    return fail(reason::k_promote_evidence, name + " has no verification summary", path);
  }
  ECLUSE_TRY(envelope, src.read_blob(it->second.blob));
  ECLUSE_TRY(keyring, keys::Keyring::open(s.ws().keys_dir()));
  auto checked = attest::verify_attestation(envelope, keyring.list(), {}, path);
  if (!checked) {
    return fail(reason::k_promote_evidence,
                name + "'s verification summary no longer verifies: " + checked.error().to_string(),
                path);
  }
  return {};
}

// Distinct engineers whose signed approval (in the source tree) verifies today against the key
// list, for this drop and this verdict.
Result<std::size_t> verified_approvals(const Session& s,
                                       const BetweenRequest& req,
                                       const repo::Repository& src,
                                       const promote::ChannelState& st,
                                       const promote::ReleaseRecord& rec) {
  ECLUSE_TRY(keyring, keys::Keyring::open(s.ws().keys_dir()));
  const auto drop = rec.release.value("drop", std::string());
  const auto verdict = rec.release.value("verdict", json::Json::object());
  const auto digest = verdict.is_object() ? verdict.value("sha256", std::string()) : std::string();
  std::vector<std::string> engineers;
  for (const auto& a : rec.release.value("approvals", json::Json::array())) {
    const auto keyid = a.is_object() ? a.value("keyid", std::string()) : std::string();
    const auto it = st.tree.find(promote::attestations_dir(req.product, req.version) + "/" + keyid
                                 + ".dsse.json");
    if (keyid.empty() || it == st.tree.end()) {
      continue;
    }
    ECLUSE_TRY(envelope, src.read_blob(it->second.blob));
    auto counted = attest::check_approval(envelope, keyring.list(), drop, digest);
    if (counted
        && std::find(engineers.begin(), engineers.end(), counted->engineer) == engineers.end()) {
      engineers.push_back(counted->engineer);
    }
  }
  return engineers.size();
}

Status check_gate(const Session& s,
                  const BetweenRequest& req,
                  const repo::Repository& src,
                  const promote::ChannelState& st,
                  const promote::ReleaseRecord& rec) {
  ECLUSE_TRY(loaded, policy::load_policy(s.ws().root() / policy::k_policy_file));
  const auto it = loaded.policy.gates.find(req.to);
  if (it == loaded.policy.gates.end()) {
    return {};
  }
  const auto& g = it->second;
  const auto name = req.product + "/" + req.version;
  if (!g.from.empty() && g.from != req.from) {
    return fail(
        reason::k_promote_gate_source, req.to + " takes releases only from " + g.from, name);
  }
  ECLUSE_TRY(approvals, verified_approvals(s, req, src, st, rec));
  if (approvals < g.approvals) {
    return fail(reason::k_promote_gate_approvals,
                name + " carries " + std::to_string(approvals) + " signed approval(s); " + req.to
                    + " requires " + std::to_string(g.approvals),
                name);
  }
  const auto since = parse_utc(rec.release.value("promoted_at", std::string()));
  const auto soaked =
      since ? std::chrono::duration_cast<std::chrono::seconds>(s.clock().now() - *since)
            : std::chrono::seconds(-1);
  if (soaked.count() < static_cast<std::int64_t>(g.soak_seconds)) {
    return fail(reason::k_promote_gate_soak,
                name + " has been in " + req.from + " for "
                    + std::to_string(std::max<std::int64_t>(soaked.count(), 0) / 3600) + " h; "
                    + req.to + " requires " + std::to_string(g.soak_seconds / 3600) + " h",
                name);
  }
  return {};
}

// The release as the source channel holds it, its blobs copied into the target repository.
Result<promote::ReleaseContent> copy_release(const Session& s,
                                             const BetweenRequest& req,
                                             const repo::Repository& src,
                                             const repo::Repository& dst,
                                             const promote::ChannelState& st,
                                             const promote::ReleaseRecord& rec) {
  promote::ReleaseContent c{
      req.product, req.version, rec.release.value("drop", std::string()), {}, {}};
  ECLUSE_TRY(listed, tuf::current_targets(st.metadata));
  // Only what targets.json accounts for: each target, its consistent-snapshot copy and the
  // files its custom pointers name (nothing unlisted is carried into the next channel).
  std::set<std::string> paths;
  for (const auto& t : listed) {
    if (!t.path.starts_with(req.product + "/" + req.version + "/")) {
      continue;
    }
    paths.insert("targets/" + t.path);
    paths.insert("targets/" + promote::consistent_path(t.path, t.sha256));
    const auto custom = t.custom.value("ecluse", json::Json::object());
    if (custom.contains("signature")) {
      paths.insert(custom.at("signature").value("path", std::string()));
    }
    for (const auto& a : custom.value("attestations", json::Json::array())) {
      paths.insert(a.value("path", std::string()));
    }
  }
  std::vector<repo::Oid> blobs;
  for (const auto& path : paths) {
    const auto it = st.tree.find(path);
    if (it == st.tree.end()) {
      return fail(reason::k_promote_evidence, path + " is missing from " + req.from, path);
    }
    c.files.push_back({{path}, {}, {}, it->second.blob});
    blobs.push_back(it->second.blob);
  }
  ECLUSE_CHECK(dst.copy_objects(src, blobs));
  ECLUSE_TRY(tag, src.tag(req.product + "/" + req.version));
  auto release = rec.release;
  release["channel"] = req.to;
  release["promoted_from"] = {{"channel", req.from},
                              {"commit", tag ? tag->target : std::string()},
                              {"tag", tag ? tag->id : std::string()},
                              {"promoted_at", rec.release.value("promoted_at", std::string())}};
  release["promoted_at"] = format_utc(s.clock().now());
  release["promoted_by"] = s.actor();
  auto bytes = json::dump_pretty(release) + "\n";
  ECLUSE_TRY(sha, crypto::sha256(bytes));
  const auto path = promote::release_file(req.product, req.version);
  ECLUSE_TRY(targets, tuf::current_targets(st.metadata));
  for (auto& t : targets) {
    if (t.path.starts_with(req.product + "/" + req.version + "/")) {
      t.custom["ecluse"]["release"] = {{"path", path}, {"sha256", sha.hex()}};
      c.targets.push_back(std::move(t));
    }
  }
  c.files.push_back({{path}, {}, std::move(bytes), {}});
  return c;
}

}  // namespace

namespace {

Result<promote::PromotedRelease> promote_between_impl(const Session& s, const BetweenRequest& req) {
  const auto name = req.product + "/" + req.version;
  if (req.from == req.to) {
    return fail(reason::k_usage, "--from and --to name the same channel", req.to);
  }
  ECLUSE_TRY(src, open_channel(s, req.from));
  ECLUSE_TRY(dst, open_channel(s, req.to));
  ECLUSE_TRY(st, promote::read_state(src, std::string(promote::k_branch)));
  const auto* rec = st.find(req.product, req.version);
  if (rec == nullptr || rec->withdrawn) {
    return fail(reason::k_promote_not_in_channel,
                name + (rec == nullptr ? " is not in " : " is withdrawn from ") + req.from,
                name);
  }
  ECLUSE_CHECK(check_gate(s, req, src, st, *rec));
  ECLUSE_CHECK(recheck(s, src, st, name));
  ECLUSE_TRY(keys, detail::promotion_keys(s));
  ECLUSE_TRY(lock, detail::lock_channel(s, req.to));
  ECLUSE_TRY(content, copy_release(s, req, src, dst, st, *rec));
  ECLUSE_TRY(out,
             promote::promote(dst, content, keys->signers(), detail::commit_options(s, req.to)));
  if (!out.already) {
    ECLUSE_CHECK(s.record(content.drop_id,
                          "promote.promoted",
                          {{"channel", req.to},
                           {"from", req.from},
                           {"product", req.product},
                           {"version", req.version},
                           {"commit", out.commit},
                           {"tag", out.tag},
                           {"targets_version", out.targets_version}}));
    ECLUSE_CHECK(checkpoint(s, true));
  }
  return out;
}

}  // namespace

Result<promote::PromotedRelease> promote_between(const Session& s, const BetweenRequest& req) {
  try {  // release.json and targets.json of the source are read before they are re-verified
    return promote_between_impl(s, req);
  } catch (const json::Json::exception& e) {
    return fail(reason::k_promote_evidence,
                std::string("a release file of the source channel is malformed: ") + e.what());
  }
}

}  // namespace ecluse::pipeline
