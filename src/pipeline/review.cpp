// Human review of held drops, the verdict as reports show it, and the HTML report.
#include <ecluse/attest/attest.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/diff/diff.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/pipeline/review.hpp>
#include <ecluse/pipeline/sign.hpp>
#include <ecluse/report/html.hpp>
#include <ecluse/sandbox/sandbox.hpp>

#include <algorithm>

#include "sign_facts.hpp"
#include "verdict.hpp"

namespace ecluse::pipeline {

namespace {

constexpr std::size_t k_max_reason_bytes = 2000;

Status check_review_args(const std::string& name, const std::string& why) {
  if (!valid_reviewer(name)) {
    return fail(reason::k_usage,
                "--as must be 1 to 64 of [A-Za-z0-9._@-] starting with a letter or digit",
                name);
  }
  const bool printable = std::all_of(why.begin(), why.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 || c == '\t';
  });
  if (why.empty() || why.size() > k_max_reason_bytes || !printable) {
    return fail(reason::k_usage,
                "--reason must be 1 to " + std::to_string(k_max_reason_bytes)
                    + " bytes without control characters",
                "--reason");
  }
  return {};
}

Result<store::DropRecord> held_drop(const Session& s, const std::string& id) {
  ECLUSE_TRY(d, s.state().get_drop(id));
  if (!d) {
    return fail(reason::k_state_unknown_drop, "no drop " + id, id);
  }
  if (d->state != DropState::held) {
    return fail(reason::k_review_not_held,
                "drop " + id.substr(0, 12) + " (" + d->product + " " + d->version + ") is "
                    + std::string(to_string(d->state)) + ", not held for review",
                id);
  }
  return std::move(*d);
}

Result<std::uint32_t> required_of(const Session& s, const std::string& id) {
  ECLUSE_TRY(ev, detail::stage_evidence(s, id, "policy"));
  return std::max<std::uint32_t>(ev.value("approvals_required", 1U), 1U);
}

// The distinct engineer keys whose signed approval of this drop and verdict still counts
// (verified against the key list now: revoked keys and approvals of other content drop out).
// One key per engineer name: a rotated key (the old one retired, still valid) does not let
// one engineer approve twice.
std::vector<std::string> counted_keys(const std::vector<store::Review>& reviews,
                                      const keys::KeyList& keys,
                                      const std::string& id,
                                      const std::string& verdict_sha) {
  std::vector<std::string> out;
  std::vector<std::string> names;
  for (const auto& r : reviews) {
    if (r.decision != "approve" || r.envelope.empty()) {
      continue;
    }
    auto c = attest::check_approval(r.envelope, keys, id, verdict_sha);
    if (c && std::find(out.begin(), out.end(), c->keyid) == out.end()
        && std::find(names.begin(), names.end(), c->engineer) == names.end()) {
      out.push_back(c->keyid);
      names.push_back(c->engineer);
    }
  }
  return out;
}

// Each key's first approval, in order (unsigned reviews of older workspaces: each name's).
std::vector<const store::Review*> distinct_approvals(const std::vector<store::Review>& reviews) {
  std::vector<const store::Review*> out;
  for (const auto& r : reviews) {
    const bool seen = std::any_of(out.begin(), out.end(), [&](const store::Review* o) {
      return r.key_id.empty() ? o->name == r.name : o->key_id == r.key_id;
    });
    if (r.decision == "approve" && !seen) {
      out.push_back(&r);
    }
  }
  return out;
}

std::vector<std::string> approvers_of(const std::vector<store::Review>& reviews) {
  std::vector<std::string> out;
  for (const auto* r : distinct_approvals(reviews)) {
    out.push_back(r->name);
  }
  return out;
}

Result<ReviewOutcome> outcome_of(const Session& s,
                                 const std::string& id,
                                 std::uint32_t required,
                                 bool continued,
                                 const std::vector<std::string>* approvers = nullptr) {
  ECLUSE_TRY(d, s.state().get_drop(id));
  ECLUSE_TRY(reviews, s.state().reviews(id));
  ReviewOutcome out{
      std::move(*d), required, approvers ? *approvers : approvers_of(reviews), continued};
  ECLUSE_CHECK(write_report(s, out.drop));
  return out;
}

json::Json granted_json(const std::vector<store::Review>& reviews) {
  auto out = json::Json::array();
  for (const auto* r : distinct_approvals(reviews)) {
    out.push_back(
        {{"name", r->name}, {"reason", r->reason}, {"time", r->created_at}, {"key", r->key_id}});
  }
  return out;
}

json::Json rejected_json(const std::vector<store::Review>& reviews) {
  for (const auto& r : reviews) {
    if (r.decision == "reject") {
      return {{"name", r.name}, {"reason", r.reason}, {"time", r.created_at}};
    }
  }
  return nullptr;
}

}  // namespace

bool valid_reviewer(const std::string& name) {
  if (name.empty() || name.size() > 64 || std::isalnum(static_cast<unsigned char>(name[0])) == 0) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '@'
           || c == '-';
  });
}

Result<ReviewOutcome> approve(const Session& s,
                              const std::string& id,
                              const std::string& name,
                              const std::string& why) {
  ECLUSE_CHECK(check_review_args(name, why));
  ECLUSE_CHECK(fs::make_dirs(s.ws().locks_dir(), reason::k_workspace_io));
  // One approval at a time per drop: the count and the move to approved see every approval.
  ECLUSE_TRY(
      lock,
      fs::lock_exclusive(s.ws().locks_dir() / ("review-" + id + ".lock"), reason::k_workspace_io));
  ECLUSE_TRY(d, held_drop(s, id));
  ECLUSE_TRY(required, required_of(s, id));
  ECLUSE_TRY(keyring, keys::Keyring::open(s.ws().keys_dir()));
  ECLUSE_TRY(key, keyring.active_signer(keys::Role::engineer, name));
  ECLUSE_TRY(verdict, detail::policy_evidence(s, id));
  ECLUSE_TRY(verdict_sha, detail::verdict_digest(verdict));
  ECLUSE_TRY(manifest, detail::load_manifest(s, id));
  const auto now = format_utc(s.clock().now());
  ECLUSE_TRY(envelope, attest::sign_approval({id, &manifest, verdict_sha, name, why, now}, key));
  ECLUSE_TRY(reviews, s.state().reviews(id));
  auto counted = counted_keys(reviews, keyring.list(), id, verdict_sha);
  const bool repeat = std::any_of(counted.begin(), counted.end(), [&](const std::string& k) {
    const auto* e = keyring.list().find(k);
    return k == key.key_id() || (e != nullptr && e->name == name);
  });
  if (!repeat) {
    counted.push_back(key.key_id());
    ECLUSE_CHECK(fs::make_dirs(s.ws().drops_dir() / id / "approvals", reason::k_store_io));
    ECLUSE_CHECK(
        fs::write_file_atomic(s.ws().drops_dir() / id / "approvals" / (key.key_id() + ".dsse.json"),
                              envelope,
                              reason::k_store_io));
  }
  const bool complete = counted.size() >= required;
  const store::StageRecord result{"review",
                                  DropState::approved,
                                  {{"approvals_required", required},
                                   {"approved_by", name},
                                   {"reason", why},
                                   {"approval_keys", counted}},
                                  now};
  ECLUSE_TRY(
      reached,
      s.state().approve(
          store::Review{id, name, "approve", why, now, key.key_id(), envelope}, complete, result));
  ECLUSE_CHECK(s.record(id,
                        "review.approved",
                        {{"name", name},
                         {"key", key.key_id()},
                         {"reason", why},
                         {"repeat", repeat},
                         {"approvals", counted.size()},
                         {"required", required}}));
  if (reached) {
    ECLUSE_CHECK(s.record(id, "review.completed", {{"state", "approved"}, {"required", required}}));
    ECLUSE_TRY(signed_drop, sign(s, id));
    (void)signed_drop;
  }
  std::vector<std::string> names;
  for (const auto& k : counted) {
    const auto* e = keyring.list().find(k);
    names.push_back(e != nullptr ? e->name : k.substr(0, 16));
  }
  return outcome_of(s, id, required, reached, &names);
}

Result<ReviewOutcome> reject(const Session& s,
                             const std::string& id,
                             const std::string& name,
                             const std::string& why) {
  ECLUSE_CHECK(check_review_args(name, why));
  ECLUSE_TRY(d, held_drop(s, id));
  ECLUSE_TRY(required, required_of(s, id));
  const auto now = format_utc(s.clock().now());
  const store::Rejection rejection{"review",
                                   std::string(reason::k_review_rejected.code),
                                   "rejected by " + name + ": " + why,
                                   name};
  const store::StageRecord result{
      "review", DropState::rejected, {{"rejected_by", name}, {"reason", why}}, now};
  ECLUSE_CHECK(s.state().reject_review(
      store::Review{id, name, "reject", why, now, "", ""}, rejection, result));
  ECLUSE_CHECK(s.record(id, "review.rejected", {{"name", name}, {"reason", why}}));
  return outcome_of(s, id, required, false);
}

Result<json::Json> verdict_view(const Session& s, const store::DropRecord& drop) {
  auto ev = detail::stage_evidence(s, drop.id, "policy");
  json::Json view;
  if (ev) {
    view = *ev;
  } else {
    ECLUSE_TRY(results, s.state().stage_results(drop.id));
    auto it = std::find_if(results.rbegin(), results.rend(), [](const store::StageRecord& r) {
      return r.stage == "policy";
    });
    if (it == results.rend()) {
      return json::Json(nullptr);
    }
    view = it->evidence;  // a policy rejection
  }
  ECLUSE_TRY(reviews, s.state().reviews(drop.id));
  const auto decided = view.value("decision", std::string("hold"));
  view["state"] = to_string(drop.state);
  // What the report's banner shows: a hold that engineers resolved shows their outcome.
  // Signing and promotion come after the approval: those drops were approved too.
  const bool approved = drop.state != DropState::rejected
                        && forward_rank(drop.state) >= forward_rank(DropState::approved);
  if (approved && decided == "hold") {
    view["decision"] = "pass";
  }
  if (drop.state == DropState::rejected) {
    view["decision"] = "reject";
  }
  view["decided"] = decided;
  view["approvals"] = {{"required", view.value("approvals_required", 0)},
                       {"granted", granted_json(reviews)},
                       {"rejected_by", rejected_json(reviews)}};
  return view;
}

Status write_report(const Session& s, const store::DropRecord& drop) {
  ECLUSE_TRY(ev, detail::stage_evidence(s, drop.id, "diff"));
  ECLUSE_TRY(doc, diff::load_document(s.ws(), drop.id, ev));
  ECLUSE_TRY(findings, s.state().findings(drop.id));
  const auto fj = store::to_json(findings);
  ECLUSE_TRY(verdict, verdict_view(s, drop));
  json::Json tests = nullptr;
  if (auto tev = detail::stage_evidence(s, drop.id, "test")) {
    ECLUSE_TRY(tdoc, sandbox::load_document(s.ws(), drop.id, *tev));
    tests = std::move(tdoc);
  }
  const auto html = report::render_html(doc, fj, verdict, tests);
  return fs::write_file_atomic(
      s.ws().drops_dir() / drop.id / "report.html", html, reason::k_store_io);
}

}  // namespace ecluse::pipeline
