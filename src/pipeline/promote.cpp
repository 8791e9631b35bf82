// The promote stage in the pipeline (signed → promoted): the signed drop's content into its
// channel's repository under the channel's lock, then the state store and the journal.
#include <ecluse/attest/attest.hpp>
#include <ecluse/core/fault.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/pipeline/promote.hpp>
#include <ecluse/pipeline/sign.hpp>
#include <ecluse/pipeline/stage_runner.hpp>
#include <ecluse/policy/policy.hpp>

#include <algorithm>
#include <ranges>

#include "promote_keys.hpp"
#include "sign_facts.hpp"
#include "verdict.hpp"

namespace ecluse::pipeline {

namespace {

// The signed approvals of a drop, as release.json lists them (with their envelope files).
Result<json::Json> approvals_of(const Session& s, const std::string& id) {
  ECLUSE_TRY(reviews, s.state().reviews(id));
  auto out = json::Json::array();
  for (const auto& r : std::views::reverse(reviews)) {  // the latest per key
    const bool seen = std::any_of(out.begin(), out.end(), [&](const json::Json& a) {
      return a.value("keyid", std::string()) == r.key_id;
    });
    if (r.decision != "approve" || r.envelope.empty() || r.key_id.empty() || seen) {
      continue;
    }
    ECLUSE_TRY(sha, crypto::sha256(r.envelope));
    out.push_back(
        {{"engineer", r.name},
         {"keyid", r.key_id},
         {"time", r.created_at},
         {"envelope", {{"file", "approvals/" + r.key_id + ".dsse.json"}, {"sha256", sha.hex()}}}});
  }
  return out;
}

json::Json evidence_summary(const Session& s, const std::string& id, const char* stage) {
  auto ev = detail::stage_evidence(s, id, stage);
  return ev ? ev->value("summary", json::Json()) : json::Json();
}

Result<json::Json> release_summary(const Session& s,
                                   const store::DropRecord& d,
                                   const std::string& channel) {
  ECLUSE_TRY(verdict, detail::policy_evidence(s, d.id));
  ECLUSE_TRY(verdict_sha256, detail::verdict_digest(verdict));
  ECLUSE_TRY(approvals, approvals_of(s, d.id));
  return json::Json{{"vendor", d.vendor},
                    {"product", d.product},
                    {"version", d.version},
                    {"channel", channel},
                    {"drop", d.id},
                    {"verdict",
                     {{"decision", verdict.value("decision", std::string())},
                      {"reasons", verdict.value("reasons", json::Json::array())},
                      {"sha256", verdict_sha256}}},
                    {"approvals", approvals},
                    {"diff", evidence_summary(s, d.id, "diff")},
                    {"test", evidence_summary(s, d.id, "test")},
                    {"promoted_at", format_utc(s.clock().now())},
                    {"promoted_by", s.actor()}};
}

Result<policy::Policy> load_policy(const Session& s) {
  ECLUSE_TRY(loaded, policy::load_policy(s.ws().root() / policy::k_policy_file));
  return std::move(loaded.policy);
}

Result<promote::ReleaseContent> drop_content(const Session& s,
                                             const store::DropRecord& d,
                                             const std::string& channel) {
  ECLUSE_TRY(ev, detail::stage_evidence(s, d.id, "sign"));
  const attest::Context ctx{s.ws().drops_dir() / d.id, s.objects(), s.clock().now()};
  ECLUSE_TRY(signed_release, attest::reload(ctx, d.id, std::move(ev)));
  ECLUSE_TRY(manifest, detail::load_manifest(s, d.id));
  ECLUSE_TRY(summary, release_summary(s, d, channel));
  return promote::release_content(
      signed_release, manifest, ctx.drop_dir, s.objects(), std::move(summary));
}

// Runs a repository change under the channel's lock with the promotion keys.
template <class Fn>
Result<promote::PromotedRelease> locked(const Session& s, const std::string& channel, Fn&& fn) {
  // The lock first: the first promotion into a channel creates its repository.
  ECLUSE_TRY(lock, detail::lock_channel(s, channel));
  ECLUSE_TRY(repository, open_channel(s, channel));
  ECLUSE_TRY(keys, detail::promotion_keys(s));
  return fn(repository, keys->signers(), detail::commit_options(s, channel));
}

json::Json outcome_json(const promote::PromotedRelease& p) {
  return {{"channel", p.channel},
          {"product", p.product},
          {"version", p.version},
          {"commit", p.commit},
          {"tag", p.tag},
          {"targets_version", p.targets_version}};
}

// A channel whose gate names a source takes no drop directly; its approvals count applies to
// drops too (distinct engineer keys, verified when they approved).
Status check_drop_gate(const Session& s, const std::string& id, const std::string& channel) {
  ECLUSE_TRY(pol, load_policy(s));
  const auto it = pol.gates.find(channel);
  if (it == pol.gates.end()) {
    return {};
  }
  if (!it->second.from.empty()) {
    return fail(reason::k_promote_gate_source,
                channel + " takes releases only from " + it->second.from
                    + ": ecluse promote PRODUCT VERSION --from " + it->second.from + " --to "
                    + channel,
                channel);
  }
  ECLUSE_TRY(approvals, approvals_of(s, id));
  if (approvals.size() < it->second.approvals) {
    return fail(reason::k_promote_gate_approvals,
                "the drop carries " + std::to_string(approvals.size()) + " signed approval(s); "
                    + channel + " requires " + std::to_string(it->second.approvals),
                id);
  }
  return {};
}

}  // namespace

Result<repo::Repository> open_channel(const Session& s, const std::string& channel) {
  const auto& channels = s.ws().config().channels;
  if (std::find(channels.begin(), channels.end(), channel) == channels.end()) {
    return fail(reason::k_promote_unknown_channel,
                "channel '" + channel + "' is not in ecluse.json's channels",
                channel);
  }
  const auto dir = s.ws().repos_dir() / (channel + ".git");
  std::error_code ec;
  if (std::filesystem::exists(dir / "HEAD", ec)) {
    return repo::Repository::create(dir, {s.ws().config().promotion.compression});
  }
  // Two processes may promote into a new channel at once: one creates it, the other waits.
  ECLUSE_CHECK(fs::make_dirs(s.ws().locks_dir(), reason::k_workspace_io));
  ECLUSE_TRY(lock,
             fs::lock_exclusive(s.ws().locks_dir() / ("create-" + channel + ".lock"),
                                reason::k_workspace_io));
  return repo::Repository::create(dir, {s.ws().config().promotion.compression});
}

Result<promote::PromotedRelease> promote_drop(const Session& s,
                                              const std::string& id,
                                              const std::string& channel) {
  ECLUSE_TRY(record, s.state().get_drop(id));
  if (!record) {
    return fail(reason::k_state_unknown_drop, "no drop " + id, id);
  }
  if (record->state != DropState::signed_off && record->state != DropState::promoted) {
    return fail(reason::k_promote_not_signed,
                "drop " + id.substr(0, 12) + " is " + std::string(to_string(record->state))
                    + "; only a signed drop can be promoted",
                id);
  }
  ECLUSE_CHECK(check_drop_gate(s, id, channel));
  ECLUSE_CHECK(check_not_interrupted("promote", id));
  ECLUSE_TRY(content, drop_content(s, *record, channel));
  ECLUSE_TRY(out, locked(s, channel, [&](const auto& r, const auto& signers, const auto& opts) {
               return promote::promote(r, content, signers, opts);
             }));
  const bool moved = record->state == DropState::signed_off;
  if (moved) {
    ECLUSE_CHECK(s.state().commit_stage(
        id,
        DropState::signed_off,
        {"promote", DropState::promoted, outcome_json(out), format_utc(s.clock().now())}));
    fault_point("promote.committed");
  }
  // Journaled when this run changed the branch or the drop's state (a promotion resumed after
  // a crash between the branch and the state store is journaled by the run that completes it).
  if (moved) {
    ECLUSE_CHECK(journal_commit(s, id, {{"promote.promoted", outcome_json(out)}}));
  } else if (!out.already) {
    ECLUSE_CHECK(s.record(id, "promote.promoted", outcome_json(out)));  // a second channel
  }
  if (moved || !out.already) {
    ECLUSE_CHECK(checkpoint(s, true));
  }
  return out;
}

Result<promote::PromotedRelease> withdraw(const Session& s,
                                          const std::string& product,
                                          const std::string& version,
                                          const std::string& channel,
                                          const std::string& why) {
  const json::Json record{{"reason", why}, {"by", s.actor()}, {"at", format_utc(s.clock().now())}};
  ECLUSE_TRY(out, locked(s, channel, [&](const auto& r, const auto& signers, const auto& opts) {
               return promote::withdraw(r, {product, version, record}, signers, opts);
             }));
  auto details = outcome_json(out);
  details["reason"] = why;
  ECLUSE_CHECK(s.record("", "promote.withdrawn", details));
  ECLUSE_CHECK(checkpoint(s, true));
  return out;
}

Result<std::optional<repo::Oid>> refresh_channel(const Session& s, const std::string& channel) {
  ECLUSE_TRY(lock, detail::lock_channel(s, channel));
  ECLUSE_TRY(repository, open_channel(s, channel));
  ECLUSE_TRY(keys, detail::promotion_keys(s));
  ECLUSE_TRY(commit,
             promote::refresh(repository, keys->signers(), detail::commit_options(s, channel)));
  if (commit) {
    ECLUSE_CHECK(s.record("", "promote.refreshed", {{"channel", channel}, {"commit", *commit}}));
  }
  return commit;
}

}  // namespace ecluse::pipeline
