// The sign stage in the driver: gathers what the committed stages recorded, signs it with the
// release key (src/attest), commits approved → signed and checkpoints the journal.
#include <ecluse/attest/attest.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/pipeline/sign.hpp>
#include <ecluse/pipeline/stage_runner.hpp>

#include <algorithm>

#include "sign_facts.hpp"
#include "verdict.hpp"

namespace ecluse::pipeline {

namespace {

const StageSpec k_sign{"sign", DropState::approved, DropState::signed_off};

constexpr std::array<const char*, 4> k_evidence_stages{"verify", "unpack", "diff", "test"};

// The latest successful result of each stage, with its commit time.
Result<std::vector<attest::StageFacts>> stage_facts(const Session& s, const std::string& id) {
  ECLUSE_TRY(results, s.state().stage_results(id));
  std::vector<attest::StageFacts> out;
  for (const auto* name : k_evidence_stages) {
    const auto it =
        std::find_if(results.rbegin(), results.rend(), [&](const store::StageRecord& r) {
          return r.stage == name && r.state_after != DropState::rejected;
        });
    if (it != results.rend()) {
      out.push_back({name, it->committed_at, it->evidence});
    }
  }
  return out;
}

// The approval stage's facts: the verdict and every signed approval that counts.
Result<attest::StageFacts> approval_facts(const Session& s,
                                          const std::string& id,
                                          const json::Json& verdict) {
  ECLUSE_TRY(keyring, keys::Keyring::open(s.ws().keys_dir()));
  ECLUSE_TRY(digest, detail::verdict_digest(verdict));
  ECLUSE_TRY(reviews, s.state().reviews(id));
  auto approvals = json::Json::array();
  std::vector<std::string> seen;
  for (const auto& r : reviews) {
    if (r.decision != "approve" || r.envelope.empty()) {
      continue;
    }
    auto counted = attest::check_approval(r.envelope, keyring.list(), id, digest);
    // Once per key and per engineer (a rotated key does not make a second approval).
    if (!counted || std::find(seen.begin(), seen.end(), counted->keyid) != seen.end()
        || std::find(seen.begin(), seen.end(), "name:" + counted->engineer) != seen.end()) {
      continue;
    }
    seen.push_back(counted->keyid);
    seen.push_back("name:" + counted->engineer);
    ECLUSE_TRY(env_digest, crypto::sha256(r.envelope));
    approvals.push_back(
        {{"keyid", counted->keyid},
         {"engineer", counted->engineer},
         {"time", counted->time},
         {"reason", counted->reason},
         {"envelope",
          {{"file", "approvals/" + counted->keyid + ".dsse.json"}, {"sha256", env_digest.hex()}}}});
  }
  return attest::StageFacts{
      "approval",
      format_utc(s.clock().now()),
      {{"verdict", verdict}, {"verdict_sha256", digest}, {"approvals", approvals}}};
}

Result<attest::ApprovedFacts> gather(const Session& s, const std::string& id) {
  ECLUSE_TRY(manifest, detail::load_manifest(s, id));
  ECLUSE_TRY(stages, stage_facts(s, id));
  ECLUSE_TRY(policy, detail::policy_evidence(s, id));
  ECLUSE_TRY(approval, approval_facts(s, id, policy));
  stages.push_back(std::move(approval));
  json::Json signer = nullptr;
  for (const auto& st : stages) {
    if (st.name == "verify") {
      signer = st.evidence.value("signature", json::Json());
    }
  }
  const auto policy_sha =
      policy.value("policy", json::Json::object()).value("sha256", std::string());
  return attest::ApprovedFacts{
      id, std::move(manifest), std::move(stages), std::move(signer), policy_sha, policy};
}

StageRun<attest::SignedRelease> run_sign(const Session& s, const std::string& id) {
  auto facts = gather(s, id);
  if (!facts) {
    return {fail(facts.error())};
  }
  auto keyring = keys::Keyring::open(s.ws().keys_dir());
  auto key = keyring ? keyring->active_signer(keys::Role::release)
                     : Result<crypto::SigningKey>(tl::unexpected(keyring.error()));
  if (!key) {
    return {fail(key.error())};
  }
  auto cert = keyring->certificate(key->key_id());
  if (!cert) {
    return {fail(cert.error())};
  }
  const attest::Context ctx{s.ws().drops_dir() / id, s.objects(), s.clock().now()};
  auto out = attest::attest(ctx, *facts, attest::Signer{*key, *cert});
  auto evidence = out ? out->evidence() : json::Json::object();
  return {std::move(out), std::move(evidence)};
}

}  // namespace

Result<store::DropRecord> sign(const Session& s, const std::string& id) {
  ECLUSE_TRY(record, s.state().get_drop(id));
  if (!record) {
    return fail(reason::k_state_unknown_drop, "no drop " + id, id);
  }
  const attest::Context ctx{s.ws().drops_dir() / id, s.objects(), s.clock().now()};
  bool ran = false;
  ECLUSE_TRY(signed_release,
             run_stage<attest::SignedRelease>(
                 s,
                 id,
                 k_sign,
                 [&] {
                   ran = true;
                   return run_sign(s, id);
                 },
                 [&]() -> Result<attest::SignedRelease> {
                   ECLUSE_TRY(ev, detail::stage_evidence(s, id, k_sign.name));
                   return attest::reload(ctx, id, std::move(ev));
                 }));
  if (signed_release && ran) {
    ECLUSE_CHECK(checkpoint(s, true));  // sign.signed was journaled with the commit
  }
  ECLUSE_TRY(after, s.state().get_drop(id));
  return std::move(*after);
}

}  // namespace ecluse::pipeline
