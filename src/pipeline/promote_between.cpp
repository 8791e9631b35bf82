// Promotion from one channel to another (preprod → prod): the release's evidence is verified
// again in the source repository, the target channel's gate applied, and its blobs copied
// across as stored.
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/pipeline/promote.hpp>
#include <ecluse/pipeline/sign.hpp>
#include <ecluse/policy/policy.hpp>
#include <ecluse/promote/verify_channel.hpp>

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
  return {};
}

Status check_gate(const Session& s, const BetweenRequest& req, const promote::ReleaseRecord& rec) {
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
  const auto approvals = rec.release.value("approvals", json::Json::array()).size();
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
  std::vector<repo::Oid> blobs;
  for (const auto& [path, e] : st.tree) {
    if (path.starts_with(promote::targets_dir(req.product, req.version) + "/")
        || path.starts_with(promote::attestations_dir(req.product, req.version) + "/")) {
      c.files.push_back({{path}, {}, {}, e.blob});
      blobs.push_back(e.blob);
    }
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

Result<promote::PromotedRelease> promote_between(const Session& s, const BetweenRequest& req) {
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
  ECLUSE_CHECK(check_gate(s, req, *rec));
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

}  // namespace ecluse::pipeline
